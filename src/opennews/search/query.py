"""The query language, parsed leniently.

    hà nội "giao thông" OR "xe buýt" -tai title:mưa source:vnexpress.net
    category:"Thể thao" author:"Minh Anh" from:2020-01-01 to:2020-12-31

Plain words must all match (relaxed to most of them when nothing does, and the
response says so); quotes make phrases; OR joins the clauses either side; a
leading minus excludes. Malformed input never raises: an unbalanced quote, a
dangling OR or an unknown field falls back to plain words, with a note.

What the parsed query matches and how matches are ranked is in matching.py
and ranking.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ..vietnamese import normalize, parse_datetime, syllables

__all__ = ["Clause", "ParsedQuery", "parse_query"]

FILTER_FIELDS = ("source", "category", "author", "from", "to")
TEXT_FIELDS = ("title",)
# A minus before a digit is part of a name or a number ("S -300", "-5 độ"), not an exclusion.
_TOKEN = re.compile(
    r'(?P<neg>-(?![\d\s]))?(?:(?P<field>[A-Za-z_]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))|(?P<quote>")'
)


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
