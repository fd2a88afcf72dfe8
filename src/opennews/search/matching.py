"""What a parsed query matches, and which matches deserve a closer look.

:func:`matches` gives the exact set of matching documents (so totals and facet
counts are exact): every plain word in the folded article (a word typed with
marks matches its folded form too, so marks never lose results), a quoted
phrase as its folded syllable pairs, ``title:`` in the headline, OR, exclusion
and the filters.

:func:`shortlist` picks the few dozen documents the second stage reads,
from features that are cheap on sets: the query's syllables in the headline or
the lead, its neighbouring syllables as pairs anywhere, its marked syllables
exactly in the headline; each weighted by rarity (idf), as in
docs/vietnamese-search.md §3.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, time
from itertools import pairwise
from typing import Any

import numpy as np

from ..vietnamese import VN_TZ, fold, has_marks, normalize, syllables
from .analysis import BIGRAM_JOINER, BREAK
from .docsets import DocSets, Tally, ids_of
from .query import Clause, ParsedQuery
from .ranking import Reading, idf
from .schema import StoredText, category_key

__all__ = ["filters", "in_reading", "in_sequence", "matches", "runs", "shortlist", "typed_runs"]

#: Share of the plain words a relaxed query needs.
RELAXED_SHARE = 0.6
#: Once the rarest parts of a query leave at most ``FEW + documents // FEW_SCALE`` documents,
#: the rest is looked for in their stored text rather than read from the index. Reading a
#: term's set costs at least an eighth of a byte per document of the index, and more with
#: its postings: 1.35 ms a set on average over the headline queries at a million articles
#: (3,208 sets), where one article's text is checked in ~10 µs. A whole headline typed as
#: a query read ~80 sets before.
FEW = 64
FEW_SCALE = 4096
#: A shortlist's features are looked for in the text of at most ``FEW_SHORTLIST + documents
#: // FEW_SHORTLIST_SCALE`` candidates: 110–260 µs an article at a million (each distinct term
#: searched for once in its parts), against ~25 sets read at 1.35 ms each.
FEW_SHORTLIST = 64
FEW_SHORTLIST_SCALE = 8192
#: Feature weights (multiplied by the feature's idf, then rounded to integers).
#: Syllables weigh by their rarity in whole articles (``all_f``), pairs by theirs (``all_bi``).
WEIGHTS = {
    "title_f": 6,
    "sapo_f": 3,
    "title": 6,  # a marked syllable exactly as typed, in the headline
    "all_bi": 4,
    "title_bi": 6,
    "sapo_bi": 3,
    "all_f": 2,  # only for words that are optional (OR)
    "front_xbi": 8,  # a pair of the meant reading, as written, in the headline or lead
}
#: The shortlist tallies at most this many features, the heaviest (rarest) first: a whole
#: headline typed as a query has dozens, and past the first two dozen they change nothing
#: on the dev queries but the time it takes to read their sets.
MAX_FEATURES = 24
RARITY = {"title_f": "all_f", "sapo_f": "all_f", "title": "all_f", "all_f": "all_f", "front_xbi": "front_xbi"}


def _pairs(words: list[str]) -> list[str]:
    return [f"{a}{BIGRAM_JOINER}{b}" for a, b in pairwise(words)]


def _clause(sets: DocSets, clause: Clause, texts: Any = None, within: int | None = None) -> int:
    field, terms = _terms(clause)
    bits = sets.all_of(field, terms)
    if texts is not None and field.endswith("_bi") and len(terms) > 1:
        bits = in_sequence(bits if within is None else bits & within, clause, texts)
    return bits


def _terms(clause: Clause) -> tuple[str, list[str]]:
    """The field and terms whose sets a clause needs all of (before a phrase's sequence)."""
    folded = [fold(w) for w in clause.words]
    if clause.quoted and len(folded) > 1:
        return ("title_bi" if clause.title_only else "all_bi"), _pairs(folded)
    return ("title_f" if clause.title_only else "all_f"), folded


def _bound(sets: DocSets, group: list[Clause]) -> int:
    """At most how many documents a group matches: its clauses' rarest terms."""
    bound = 0
    for clause in group:
        if not clause.negate:
            field, terms = _terms(clause)
            bound += min((sets.doc_frequency(field, t) for t in terms), default=0)
    return bound


def _needle(words: list[str]) -> str | None:
    """What a stored part holds where these syllables stand side by side (None when that
    cannot be told from the text). A stored part is its folded syllables padded with
    spaces, exactly the terms of all_f and, side by side, of all_bi: " w " is in a part
    when w is a term of it, " a b " when a_b is."""
    if not words or any(not w or " " in w or BREAK in w for w in words):
        return None
    return " " + " ".join(words) + " "


def _needles(clause: Clause) -> list[str] | None:
    """What a clause's documents hold in their folded stored text, one needle each (all
    needed), or None when it cannot be told from the text."""
    folded = [fold(w) for w in clause.words]
    found = [_needle(folded)] if clause.quoted else [_needle([w]) for w in folded]
    needles = [n for n in found if n is not None]
    return needles if needles and len(needles) == len(found) else None


def _needed(clause: Clause) -> list[str]:
    needles = _needles(clause)
    assert needles is not None, "only clauses that _readable() accepted"
    return needles


def _holds(parts: list[str], clause: Clause, needles: list[str]) -> bool:
    within = parts[:1] if clause.title_only else parts
    if clause.quoted:
        return any(needles[0] in part for part in within)
    return all(any(needle in part for part in within) for needle in needles)


def _in_text(bits: int, groups: list[list[Clause]], negative: list[Clause], texts: Any) -> int:
    """The documents of ``bits`` whose stored text holds a clause of every group and no
    negative clause: what reading every set would give, for a few documents."""
    wanted = [[(c, _needed(c)) for c in group if not c.negate] for group in groups]
    unwanted = [(c, _needed(c)) for c in negative]
    folded_of = StoredText.folded_of
    kept = 0
    for n in ids_of(bits).tolist():
        parts = folded_of(texts[n])
        if all(any(_holds(parts, c, needles) for c, needles in group) for group in wanted) and not any(
            _holds(parts, c, needles) for c, needles in unwanted
        ):
            kept |= 1 << n
    return kept


def _readable(groups: list[list[Clause]], negative: list[Clause]) -> bool:
    return all(_needles(c) is not None for group in groups for c in group if not c.negate) and all(
        _needles(c) is not None for c in negative
    )


def _group(sets: DocSets, group: list[Clause], texts: Any = None) -> int:
    bits = 0
    for clause in group:
        if not clause.negate:
            bits |= _clause(sets, clause, texts)
    return bits


def filters(parsed: ParsedQuery, sets: DocSets) -> int:
    """The documents the filters allow (all live ones when there are none)."""
    bits = sets.live
    if parsed.source:
        # The index keeps a source as archived ("VnExpress", "C++ & C#"); a domain typed
        # in lower case still finds a source archived in lower case.
        source = parsed.source.strip()
        bits &= sets.term("source", source) | sets.term("source", source.lower())
    if parsed.category:
        bits &= sets.term("category_key", category_key(parsed.category))
    if parsed.author:
        words = [fold(w) for w in syllables(normalize(parsed.author))]
        bits &= sets.all_of("author", words) if words else sets.live
    if parsed.date_from or parsed.date_to:
        low = _epoch(parsed.date_from, time.min) if parsed.date_from else None
        high = _epoch(parsed.date_to, time.max) if parsed.date_to else None
        bits &= sets.published_between(low, high)
    return bits


def _epoch(day: object, at: time) -> int:
    return int(datetime.combine(day, at, tzinfo=VN_TZ).timestamp())  # type: ignore[arg-type]


def matches(parsed: ParsedQuery, sets: DocSets, *, relaxed: bool = False, texts: Any = None) -> int:
    """The documents matching the query; with ``relaxed``, those matching most of its parts.

    Given ``texts`` (the index's text column), a quoted phrase of three syllables or
    more matches only where its syllables stand in sequence (:func:`in_sequence`); the
    pairs alone would also match "hà nội" ending a paragraph and "nội mưa" in another.
    """
    bits = filters(parsed, sets)
    few = FEW + sets.size // FEW_SCALE
    if relaxed and len(parsed.positive) > 2:
        tally = Tally(bits)
        for g in parsed.positive:
            tally.add(_group(sets, g, texts), 1)
        bits = tally.at_least(max(2, math.ceil(len(parsed.positive) * RELAXED_SHARE)))
    else:
        # The rarest first: they leave the fewest documents, and a few documents are
        # checked for the rest in their text (FEW) instead of reading its sets.
        pending = sorted(parsed.positive, key=lambda g: _bound(sets, g))
        while pending:
            if texts is not None and bits.bit_count() <= few and _readable(pending, parsed.negative):
                return _in_text(bits, pending, parsed.negative, texts)
            bits &= _group(sets, pending.pop(0), texts)
            if not bits:
                return 0
    if texts is not None and parsed.negative and bits.bit_count() <= few and _readable([], parsed.negative):
        return _in_text(bits, [], parsed.negative, texts)  # "xăng -của": not the set of "của"
    for clause in parsed.negative:
        bits &= ~_clause(sets, clause, texts, bits)
    return bits


def typed_runs(parsed: ParsedQuery) -> list[list[str]]:
    """Syllable sequences typed side by side (normalised, marks kept): the plain words, and each phrase."""
    out: list[list[str]] = []
    plain: list[str] = []
    for group in parsed.positive:
        clauses = [c for c in group if not c.negate]
        if len(clauses) == 1 and not clauses[0].phrase and not clauses[0].title_only:
            plain.extend(clauses[0].words)
            continue
        out.extend(list(c.words) for c in clauses if len(c.words) > 1)
    if len(plain) > 1:
        out.append(plain)
    return out


def runs(parsed: ParsedQuery) -> list[list[str]]:
    """:func:`typed_runs`, folded."""
    return [[fold(w) for w in run] for run in typed_runs(parsed)]


def in_sequence(bits: int, clause: Clause, texts: Any) -> int:
    """The documents of ``bits`` holding a quoted phrase's syllables in sequence, side by
    side, in one part (headline, lead or a paragraph): read from their stored text, since
    the index keeps no positions. ``texts`` is the index's text column."""
    needle = " " + " ".join(fold(w) for w in clause.words) + " "
    folded_of = StoredText.folded_of
    kept = 0
    for n in ids_of(bits).tolist():
        folded = folded_of(texts[n])
        if needle in folded[0] if clause.title_only else any(needle in part for part in folded):
            kept |= 1 << n
    return kept


def in_reading(bits: int, reading: Reading, sets: DocSets, texts: Any) -> int:
    """The documents of ``bits`` holding every pair of ``reading`` side by side as written
    (the query's marks, or its likely reading) in one part: what a search feed of
    "thuy dien" or "khóa học" subscribes to is one word, not every folded look-alike.
    Read from the stored text of the documents holding the folded pairs."""
    folded = [needle.strip().replace(" ", BIGRAM_JOINER) for needle, _ in reading.pairs]
    written = [w for _, w in reading.pairs]
    exact_of = StoredText.exact_of
    kept = 0
    for n in ids_of(bits & sets.all_of("all_bi", folded)).tolist():
        parts = exact_of(texts[n])
        if all(any(w in part for part in parts) for w in written):
            kept |= 1 << n
    return kept


def _idf(sets: DocSets, field: str, text: str) -> float:
    df = sets.doc_frequency(field, text)
    return idf(sets.size, df) if df else 0.0


def shortlist(
    parsed: ParsedQuery,
    sets: DocSets,
    candidates: int,
    k: int,
    written: Sequence[str] = (),
    texts: Any = None,
) -> np.ndarray:
    """About ``k`` of the ``candidates`` with the most (and rarest) query features.

    ``written`` are the pairs of the reading the query means ("khóa học", as typed
    with marks or the likely one), looked for as written in headlines and leads: the
    articles about a rare reading must reach the second stage, which ranks them first,
    even when the folded pair's common reading fills the archive.

    Given ``texts`` (the index's text column) and at most a couple of hundred candidates, the
    features are looked for in the candidates' stored text instead of read as sets
    (:func:`_features_in_text`): the same choice, without some 25 sets that cost 1.35 ms
    each at a million articles.
    """
    count = candidates.bit_count()
    if count <= k:  # every one of them is read: nothing to choose
        return ids_of(candidates)
    words: list[tuple[str, bool]] = []  # (normalised syllable, optional?)
    for group in parsed.positive:
        clauses = [c for c in group if not c.negate]
        for clause in clauses:
            words.extend((w, len(clauses) > 1) for w in clause.words)
    features: list[tuple[str, str]] = []
    for word, optional in words:
        folded = fold(word)
        features += [("title_f", folded), ("sapo_f", folded)]
        if has_marks(word):
            features.append(("title", word))
        if optional:
            features.append(("all_f", folded))
    sequences = runs(parsed)
    for run in sequences:
        for pair in _pairs(run):
            features += [("all_bi", pair), ("title_bi", pair), ("sapo_bi", pair)]
    features += [("front_xbi", pair.replace(" ", BIGRAM_JOINER)) for pair in written]
    weighted = []
    for field, text in dict.fromkeys(features):
        rarity = RARITY.get(field, "all_bi")
        weight = round(WEIGHTS[field] * _idf(sets, rarity, fold(text) if rarity == "all_f" else text))
        if weight > 0:
            weighted.append((weight, field, text))
    weighted.sort(key=lambda x: -x[0])
    weighted = weighted[:MAX_FEATURES]
    # Every word in the headline outweighs everything else: a headline typed from
    # memory, or a few of its words, whatever their order.
    required = {fold(w) for w, optional in words if not optional}
    bonus = max(sum(weight for weight, _, _ in weighted), 1)
    few = FEW_SHORTLIST + sets.size // FEW_SHORTLIST_SCALE
    if texts is not None and count <= few:
        sums = _features_in_text(candidates, weighted, required, sequences, bonus, texts)
        if sums is not None:
            return _top_in_sums(sets, sums, k)
    tally = Tally(candidates)
    for weight, field, text in weighted:
        tally.add(sets.term(field, text), weight)
    if len(required) > 1:
        tally.add(sets.all_of("title_f", required), bonus)
    # So does every pair of a run somewhere in the article: most likely the sentence it was typed
    # from; and, half as much, every pair but one of a longer run: a sentence copied across a
    # paragraph break, whose pair over the break the index does not hold.
    for run in sequences:
        if len(run) > 2:
            tally.add(sets.all_of("all_bi", _pairs(run)), bonus)
        if len(run) > 3:
            held = Tally(candidates)
            for pair in _pairs(run):
                held.add(sets.term("all_bi", pair), 1)
            tally.add(held.at_least(len(run) - 2), bonus // 2)
    chosen, above = tally.top(k) if tally.planes else (0, 0)
    picked = ids_of(above)
    for pool in (chosen & ~above, candidates & ~chosen):
        if len(picked) >= k or not pool:
            continue
        picked = np.concatenate([picked, _newest(sets, ids_of(pool), k - len(picked))])
    return picked


#: Where each shortlist feature's term is in the stored text: the written form or the folded
#: one, and which parts (headline, lead, body).
_PLACES: dict[str, tuple[bool, tuple[int, ...]]] = {
    "title_f": (False, (0,)),
    "sapo_f": (False, (1,)),
    "title": (True, (0,)),
    "all_f": (False, (0, 1, 2)),
    "all_bi": (False, (0, 1, 2)),
    "title_bi": (False, (0,)),
    "sapo_bi": (False, (1,)),
    "front_xbi": (True, (0, 1)),
}


def _term_needle(text: str) -> str | None:
    """ " w " for a syllable, " a b " for a pair "a_b": what a stored part holds where the
    term is in its field (None for a term that could not be told from the text)."""
    words = text.split(BIGRAM_JOINER)
    return _needle(words) if len(words) <= 2 else None


def _features_in_text(
    candidates: int,
    weighted: list[tuple[int, str, str]],
    required: set[str],
    sequences: list[list[str]],
    bonus: int,
    texts: Any,
) -> np.ndarray | None:
    """Each candidate's summed feature weights (the shortlist's tally), read from its stored
    text; None when some term cannot be told from the text."""
    checks = []
    for weight, field, text in weighted:
        needle = _term_needle(text)
        if needle is None:
            return None
        exact, parts = _PLACES[field]
        checks.append((weight, exact, parts, needle))
    headline = [_term_needle(w) for w in required] if len(required) > 1 else []
    pairs = [[_term_needle(p) for p in _pairs(run)] for run in sequences]
    if None in headline or any(None in run for run in pairs):
        return None
    # Each distinct needle is looked for once an article, in the parts it may be in joined by
    # newlines (no needle holds one, so none is found across two parts).
    places: dict[tuple[bool, tuple[int, ...], str], int] = {}
    weights = []
    for weight, exact, parts, needle in checks:
        weights.append((places.setdefault((exact, parts, needle), len(places)), weight))
    heads = [places.setdefault((False, (0,), n), len(places)) for n in headline if n is not None]
    runs_at = [[places.setdefault((False, (0, 1, 2), n), len(places)) for n in run if n is not None] for run in pairs]
    looked = list(places)
    decode = StoredText.decode
    docs = ids_of(candidates)
    sums = np.zeros(len(docs), dtype=np.int64)
    for i, n in enumerate(docs.tolist()):
        stored = decode(texts[n])
        joined: dict[tuple[bool, tuple[int, ...]], str] = {}
        found = []
        for exact, parts, needle in looked:
            where = joined.get((exact, parts))
            if where is None:
                forms = stored.exact if exact else stored.folded
                where = joined[exact, parts] = "\n".join(forms[j] for j in parts)
            found.append(needle in where)
        total = sum(weight for at, weight in weights if found[at])
        if heads and all(found[at] for at in heads):
            total += bonus
        for run in runs_at:
            held = sum(found[at] for at in run)
            if len(run) > 1 and held == len(run):  # a run of three syllables or more
                total += bonus
            if len(run) > 2 and held >= len(run) - 1:
                total += bonus // 2
        sums[i] = total
    return np.stack([docs, sums])


def _top_in_sums(sets: DocSets, docs_sums: np.ndarray, k: int) -> np.ndarray:
    """What Tally.top and the shortlist's filling take from per-document sums."""
    docs, sums = docs_sums
    weighted = sums >= 1
    if weighted.sum() <= k:
        chosen, above = weighted, np.zeros(len(docs), dtype=bool)
    else:
        threshold = -np.partition(-sums, k - 1)[k - 1]
        chosen, above = sums >= threshold, sums > threshold
    picked = docs[above]
    for pool in (docs[chosen & ~above], docs[~chosen]):
        if len(picked) >= k or not len(pool):
            continue
        picked = np.concatenate([picked, _newest(sets, pool, k - len(picked))])
    return picked


def _newest(sets: DocSets, docnums: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` most recently published of ``docnums``: ties broken towards news."""
    if len(docnums) <= n:
        return docnums
    dates = sets.published()[docnums]
    return docnums[np.argpartition(-dates, n - 1)[:n]]
