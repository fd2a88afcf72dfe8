"""Second stage: scoring the shortlisted articles on their own text.

Each shortlisted article's stored syllables (schema.StoredText) are read and
scored with BM25 over three parts (headline, lead, body), plus:

* an exact-form bonus for syllables typed with marks ("bán" over "bạn"), so
  marks make results more precise while the folded match keeps them all;
* a side-by-side bonus: how much of what was typed next to each other stands
  next to each other in the article (a headline or a sentence typed without
  quotes or marks), by substring search on the padded folded text;
* a headline bonus when every query word is in the headline (in the typed
  order, in a short headline: more).

The weights were set on ../shared/eval/dev-queries.jsonl (bench/search.py).
Counting substrings in a few dozen short strings is what makes this cheaper
than positional queries over every posting, and it sees the whole article.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..vietnamese import fold, has_marks
from .schema import StoredText

__all__ = ["Term", "idf", "longest", "score"]

K1 = 1.2
B = 0.75
#: Weights of the headline, the lead and the body; the average length of each, in syllables.
PART_WEIGHTS = (3.0, 1.5, 1.0)
PART_LENGTHS = (14.0, 35.0, 550.0)
#: A syllable found exactly as typed (with its marks) counts this much on top of its folded match.
EXACT_BOOST = 3.0
#: For a query typed without marks, its likeliest accented reading (from the index's own
#: vocabulary, as in "did you mean") is preferred this much: "thuy dien" → thủy điện first.
GUESS_BOOST = 0.5
#: Pairs of neighbouring query syllables found side by side count like terms of this weight
#: anywhere in the article, with the headline's and the lead's part weights on top.
PAIR_WEIGHT = 1.0
#: The query's words all in the headline, as a multiple of what they can score as terms
#: (a share of them counts quadratically less): a headline typed, or remembered by a few
#: of its words, outweighs the same words scattered through a body.
HEADLINE_WEIGHT = 5.0
#: ...scaled by BM25's length normalisation of the headline to this power (the words are
#: more of a short headline)...
HEADLINE_NORM = 1.0
#: ...and by this when they stand in the headline in another order than typed.
UNORDERED = 0.5
#: A run found verbatim (all of it: 1; its longest stretch counts less, to the power
#: RUN_POWER), as a multiple of the most its pairs can score.
RUN_WEIGHT = 5.0
RUN_POWER = 4.0


@dataclass(frozen=True)
class Term:
    """One query syllable as the ranker needs it."""

    folded: str
    exact: str | None  # set when typed with marks, or guessed for a query typed without any
    idf: float
    boost: float = EXACT_BOOST  # how much the exact form adds; a guess adds less
    title_idf: float = 0.0  # its rarity among headlines

    @property
    def typed(self) -> bool:
        """Marked as typed (not a guess for a query typed without marks)."""
        return self.exact is not None and self.boost == EXACT_BOOST

    @classmethod
    def make(cls, word: str, idf: float, guess: str | None = None, title_idf: float = 0.0) -> Term:
        if has_marks(word):
            return cls(fold(word), word, idf, EXACT_BOOST, title_idf)
        if guess is not None and has_marks(guess) and fold(guess) == fold(word):
            return cls(fold(word), guess, idf, GUESS_BOOST, title_idf)
        return cls(fold(word), None, idf, EXACT_BOOST, title_idf)


def _saturate(tf: int, length: int, average: float) -> float:
    if not tf:
        return 0.0
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))


def score(
    text: StoredText, terms: Sequence[Term], pairs: Sequence[tuple[str, float]], runs: Sequence[Sequence[str]]
) -> float:
    """How well one article answers the query.

    ``pairs`` are neighbouring query syllables ("ha noi", folded) with their idf
    as pairs: BM25 over them is what finds the sentence a span was typed from,
    and length normalisation prefers the article where it weighs most.
    """
    total = 0.0
    folded_parts = text.folded
    # Every part is " syl syl " padded: term frequencies are substring counts, done in C.
    lengths = [max(0, part.count(" ") - 1) for part in folded_parts]
    everything = sum(t.idf for t in terms)
    if everything:
        # A word typed with marks is in the headline only as typed: marks make results more precise.
        inside = [
            t for t in terms if (f" {t.exact} " in text.exact[0] if t.typed else f" {t.folded} " in folded_parts[0])
        ]
        if len(inside) == len(terms):  # the whole query in the headline: weighed by rarity among headlines
            bonus = HEADLINE_WEIGHT * sum(t.title_idf for t in terms)
            bonus *= (K1 + 1) * _saturate(1, lengths[0], PART_LENGTHS[0]) ** HEADLINE_NORM
            if len(terms) > 1 and not _in_order(folded_parts[0], terms):
                bonus *= UNORDERED
            total += bonus
        else:
            total += HEADLINE_WEIGHT * everything * (K1 + 1) * (sum(t.idf for t in inside) / everything) ** 2
    for term in terms:
        needle = f" {term.folded} "
        exact = f" {term.exact} " if term.exact is not None else None
        for i, (weight, average) in enumerate(zip(PART_WEIGHTS, PART_LENGTHS, strict=True)):
            tf = folded_parts[i].count(needle)
            if not tf:
                continue
            found = _saturate(tf, lengths[i], average)
            if exact is not None:
                found += term.boost * _saturate(text.exact[i].count(exact), lengths[i], average)
            total += term.idf * weight * found
    pair_total = 0.0
    whole = " ".join(folded_parts)
    size = sum(lengths)
    for pair, pair_idf in pairs:
        needle = f" {pair} "
        found = _saturate(whole.count(needle), size, sum(PART_LENGTHS))
        if not found:
            continue
        for i in (0, 1):
            found += (PART_WEIGHTS[i] - 1) * _saturate(folded_parts[i].count(needle), lengths[i], PART_LENGTHS[i])
        pair_total += pair_idf * found
    total += PAIR_WEIGHT * pair_total
    if runs and pair_total:
        total += RUN_WEIGHT * sum(i for _, i in pairs) * (K1 + 1) * longest(whole, runs) ** RUN_POWER
    return total


def _in_order(headline: str, terms: Sequence[Term]) -> bool:
    """The query's words stand in the headline in the order they were typed (each somewhere
    after the one before)."""
    at = -1
    for term in terms:
        at = headline.find(f" {term.folded} ", at + 1)
        if at < 0:
            return False
    return True


def longest(text: str, runs: Sequence[Sequence[str]]) -> float:
    """How much of a run stands verbatim in ``text``: 1 for all of it, 0 for no two syllables
    side by side (the longest stretch's pairs over the run's pairs).

    A verbatim stretch is made of pairs that are each present, so only the
    stretches of consecutive present pairs are tried, longest first.
    """
    best = 0.0
    for run in runs:
        n = len(run)
        if n < 2:
            continue
        present = [f" {a} {b} " in text for a, b in pairwise(run)]
        i = 0
        while i < n - 1:
            if not present[i]:
                i += 1
                continue
            j = i
            while j + 1 < n - 1 and present[j + 1]:
                j += 1
            # pairs i..j cover syllables i..j+1
            for size in range(j - i + 2, 1, -1):
                share = (size - 1) / (n - 1)
                if share <= best:
                    break
                if any(f" {' '.join(run[k : k + size])} " in text for k in range(i, j + 3 - size)):
                    best = share
                    break
            i = j + 1
    return best


def idf(doc_count: int, df: int) -> float:
    return math.log(1 + doc_count / (df + 0.5))
