"""The query language, parsed leniently, and its translation into Whoosh queries.

    hà nội "giao thông" OR "xe buýt" -tai title:mưa source:vnexpress.net
    category:"Thể thao" author:"Minh Anh" from:2020-01-01 to:2020-12-31

Plain words must all match (relaxed to most of them when nothing does, and the
response says so); quotes make phrases; OR joins the clauses either side; a
leading minus excludes. Malformed input never raises: an unbalanced quote, a
dangling OR or an unknown field falls back to plain words, with a note.

Matching follows docs/vietnamese-search.md §3.5: a syllable typed with marks
searches the exact field (boosted) and the folded field; one typed without
marks searches the folded field only; neighbouring syllables also match the
bigram fields (title, lead) and are checked side by side in the body when the
top candidates are re-ranked, so a headline typed without quotes or marks still
ranks its article first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from whoosh import query as wq

from ..vietnamese import fold, has_marks, normalize, parse_datetime, syllables
from .analysis import BIGRAM_JOINER
from .schema import PARTS, category_key

__all__ = ["Clause", "ParsedQuery", "build_query", "parse_query"]

EXACT_BOOST = 3.0
BIGRAM_BOOST = 1.5
FILTER_FIELDS = ("source", "category", "author", "from", "to")
TEXT_FIELDS = ("title",)
_TOKEN = re.compile(r'(?P<neg>-)?(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))|(?P<quote>")')


@dataclass
class Clause:
    """A word or phrase, optionally restricted to the title, optionally negated."""

    words: list[str]  # normalised syllables
    phrase: bool = False  # one unit: quoted, or one typed word of several syllables
    negate: bool = False
    title_only: bool = False
    quoted: bool = False


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(default_factory=list)  # AND of ORs
    source: str | None = None
    category: str | None = None
    author: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def positive(self) -> list[list[Clause]]:
        return [g for g in self.groups if not all(c.negate for c in g)]

    @property
    def negative(self) -> list[Clause]:
        return [c for g in self.groups for c in g if c.negate]

    def syllables(self) -> list[str]:
        """Every positive syllable, in order (for suggestions and highlights)."""
        return [w for g in self.positive for c in g if not c.negate for w in c.words]


def _as_date(value: str, notes: list[str], name: str) -> date | None:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        notes.append(f"ignored {name}:{value} (not a date)")
        return None
    return parsed if not hasattr(parsed, "date") else parsed.date()  # type: ignore[union-attr]


def parse_query(text: str) -> ParsedQuery:
    """Parse what a person typed; never raises."""
    parsed = ParsedQuery()
    text = text or ""
    if text.count('"') % 2:
        parsed.notes.append("unbalanced quote ignored")
        text = text.replace('"', " ")
    pending_or = False
    for m in _TOKEN.finditer(text):
        if m.group("quote"):
            continue
        word, phrase, fname = m.group("word"), m.group("phrase"), (m.group("field") or "").lower()
        if word == "OR" and not fname and not m.group("neg"):
            if parsed.groups:
                pending_or = True
            else:
                parsed.notes.append("OR at the start ignored")
            continue
        value = phrase if phrase is not None else word
        if fname in FILTER_FIELDS:
            if fname == "from":
                parsed.date_from = _as_date(value, parsed.notes, fname)
            elif fname == "to":
                parsed.date_to = _as_date(value, parsed.notes, fname)
            else:
                setattr(parsed, fname, value.strip() or None)
            continue
        if fname and fname not in TEXT_FIELDS:
            parsed.notes.append(f"unknown field {fname}: searched as words")
            for extra in syllables(normalize(fname)):
                parsed.groups.append([Clause([extra])])
        words = syllables(normalize(value))
        if not words:
            continue
        # A quoted phrase, or one typed word of several syllables ("TP.HCM", "H'Mông").
        clause = Clause(
            words,
            phrase=len(words) > 1,
            negate=bool(m.group("neg")),
            title_only=fname == "title",
            quoted=phrase is not None and len(words) > 1,
        )
        if pending_or and parsed.groups:
            parsed.groups[-1].append(clause)
        else:
            parsed.groups.append([clause])
        pending_or = False
    if pending_or:
        parsed.notes.append("OR at the end ignored")
    return parsed


# -- building Whoosh queries -------------------------------------------------------
#
# Required clauses match ``all_f`` only (one intersection, cheap); everything that
# ranks (exact forms, title and lead, bigrams, proximity) is an optional clause
# that Whoosh evaluates only on the documents the required part found.


class Union(wq.Or):
    """An Or that always walks its sub-matchers lazily (a tree of unions).

    Whoosh preloads every posting of a big Or into an array on small indexes or
    many clauses; for ranking clauses that only need scoring on a few candidate
    documents, walking with skip_to is what keeps queries fast.
    """

    matcher_type = wq.Or.DEFAULT_MATCHER


def _match(clause: Clause) -> wq.Query:
    """What a clause requires: its folded syllables in the article (or the title),
    side by side when the person quoted them."""
    field = "title_f" if clause.title_only else "all_f"
    folded = [fold(w) for w in clause.words]
    if len(folded) == 1:
        return wq.Term(field, folded[0])
    if clause.quoted:
        return wq.Phrase(field, folded, slop=1)
    return wq.And([wq.Term(field, f) for f in folded])


def _exclude(clause: Clause) -> wq.Query:
    """What a negated clause removes: the exact form when typed with marks, else the folded one."""
    if any(has_marks(w) for w in clause.words) and not clause.title_only:
        return (
            wq.Term("all", clause.words[0])
            if len(clause.words) == 1
            else wq.And([wq.Term("all", w) for w in clause.words])
        )
    return _match(clause)


def _rank(words: list[str], title_only: bool) -> list[wq.Query]:
    """Optional clauses rewarding exact forms and matches in the title and lead."""
    out: list[wq.Query] = []
    for w in words:
        f = fold(w)
        marked = has_marks(w)
        if marked and not title_only:
            out.append(wq.Term("all", w, boost=EXACT_BOOST))
        for part, weight in PARTS:
            if title_only and part != "title":
                continue
            out.append(wq.Term(f"{part}_f", f, boost=weight))
            if marked and part == "title":
                out.append(wq.Term("title", w, boost=weight * EXACT_BOOST))
    return out


def _neighbours(words: list[str], title_only: bool) -> list[wq.Query]:
    """Optional clauses rewarding syllables found side by side: folded pairs in the
    title, the lead and the whole article. Longer verbatim stretches are scored
    after retrieval, on the top candidates only (see Searcher): a positional query
    over every posting costs far more than it is worth.
    """
    folded = [fold(w) for w in words]
    out: list[wq.Query] = []
    if len(folded) >= 2:
        bigrams = [f"{a}{BIGRAM_JOINER}{b}" for a, b in pairwise(folded)]
        for part, weight in PARTS:
            if not (title_only and part != "title"):
                out.extend(wq.Term(f"{part}_bi", bg, boost=weight * BIGRAM_BOOST) for bg in bigrams)
        if not title_only:
            out.extend(wq.Term("all_bi", bg, boost=BIGRAM_BOOST) for bg in bigrams)
    return out


def build_query(parsed: ParsedQuery, *, relaxed: bool = False) -> wq.Query:
    """The Whoosh query: required matches (all, or most when ``relaxed``), ranking clauses, filters."""
    required: list[wq.Query] = []
    ranking: list[wq.Query] = []
    for group in parsed.positive:
        clauses = [c for c in group if not c.negate]
        if len(clauses) == 1:
            clause = clauses[0]
            if clause.phrase:
                required.append(_match(clause))
            else:
                required.extend(wq.Term("title_f" if clause.title_only else "all_f", fold(w)) for w in clause.words)
        else:
            required.append(Union([_match(c) for c in clauses]))
        for clause in clauses:
            ranking.extend(_rank(clause.words, clause.title_only))
            if clause.phrase:
                ranking.extend(_neighbours(clause.words, clause.title_only))
    # Plain words typed side by side, without quotes, still reward their sequence.
    plain = [c.words[0] for g in parsed.positive for c in g if len(g) == 1 and not c.phrase and not c.title_only]
    ranking.extend(_neighbours(plain, False))

    if not required:
        text: wq.Query = wq.Every()
    elif relaxed and len(required) > 2:
        text = Union(required, minmatch=max(2, math.ceil(len(required) * 0.6)))
    else:
        text = wq.And(required) if len(required) > 1 else required[0]
    if ranking:
        text = wq.AndMaybe(text, Union(ranking))
    filters = _filters(parsed)
    if filters:
        text = wq.And([text, *filters])
    negatives = [_exclude(c) for c in parsed.negative]
    if negatives:
        text = wq.AndNot(text, Union(negatives))
    return text


def _filters(parsed: ParsedQuery) -> list[wq.Query]:
    from .schema import epoch

    out: list[wq.Query] = []
    if parsed.source:
        out.append(wq.Term("source", parsed.source.strip().lower()))
    if parsed.category:
        out.append(wq.Term("category_key", category_key(parsed.category)))
    if parsed.author:
        words = [fold(w) for w in syllables(normalize(parsed.author))]
        if words:
            out.append(wq.Phrase("author", words) if len(words) > 1 else wq.Term("author", words[0]))
    if parsed.date_from or parsed.date_to:
        start = epoch(parsed.date_from.isoformat()) if parsed.date_from else None
        end = epoch(parsed.date_to.isoformat()) if parsed.date_to else None
        if end is not None:
            end += 86_399  # the whole last day
        out.append(wq.NumericRange("published", start, end))
    return out
