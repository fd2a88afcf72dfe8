"""Second stage: scoring the shortlisted articles on their own text.

Each shortlisted article's stored syllables (schema.StoredText) are read and
scored with BM25 over three parts (headline, lead, body), plus:

* an exact-form bonus for syllables typed with marks ("bán" over "bạn"), so
  marks make results more precise while the folded match keeps them all;
* a side-by-side bonus: how much of what was typed next to each other stands
  next to each other in the article (a headline or a sentence typed without
  quotes or marks), by substring search on the padded folded text;
* a headline bonus when every query word is in the headline (in the typed
  order, in a short headline: more);
* the reading: a query typed with marks says which word it means, so an
  article holding more of its pairs side by side exactly as typed ranks above
  one holding fewer, whatever the rest of its score (:meth:`Scorer.tier`); a
  query typed without marks prefers the reading the archive's own pair
  statistics make likely, as a weight: an article that reads its pairs
  otherwise scores less, but is still found;
* a sentence: an article holding a typed run of four or more syllables
  verbatim ranks, after the tier, before the others (:meth:`Scorer.measure`):
  on the dev queries' sentences typed without marks, MRR@10 0.800 → 0.816.
  Among such articles, those holding it in the headline come first, then the
  shorter ones: a sentence is more of a short article, so the likelier one it
  was copied from (the dev sentences: MRR@10 0.778 → 0.80 with marks,
  0.816 → 0.84 without; by score, they were found below an average place).

The weights were set on ../shared/eval/dev-queries.jsonl (bench/search.py).
Counting substrings in a few dozen short strings is what makes this cheaper
than positional queries over every posting, and it sees the whole article.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..vietnamese import fold, has_marks
from .analysis import BREAK
from .schema import StoredText

__all__ = ["Reading", "Scorer", "Term", "idf", "longest", "plain", "score"]

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
#: For a query typed without marks, an article holding its pairs side by side only in
#: another reading than the likely one scores this much, to the power of the share of the
#: query's pairs it reads otherwise: "thuy dien" finds thủy điện articles first and Thụy
#: Điển ones after them. An article holding a run of three or more typed syllables
#: verbatim is exempt: applied to those, the weight took the dev queries' sentences typed
#: without marks from MRR 0.775 to 0.635, their likely reading being wrong in a pair or two.
OTHER_READING = 0.1
#: The sentence value (Scorer.measure) of an article holding it in the headline: above any
#: shortness, 1 / (1 + syllables).
HEADLINE_SENTENCE = 1.0


#: What may stand between two syllables typed side by side and still count as side by side
#: in the ranking: paragraph breaks (people copy a sentence from one paragraph into the next)
#: and numbers (people leave out the "3" of "đông hơn ngày thường 3 lần"; 5 of the 60 marked
#: dev spans do). Pairs, and quoted phrases (matching.in_sequence), never run across them.
_GAP = rf"(?: (?:{BREAK}|[0-9][^ ]*))+"
_GAPS = re.compile(_GAP + "(?= )")
#: Gaps looked for in one typed run.
MAX_GAPS = 2


def _is_gap(syllable: str) -> bool:
    return syllable == BREAK or syllable[:1].isdigit()


def plain(text: str) -> str:
    """A padded stored part (or several joined) with what may stand between syllables typed
    side by side (:data:`_GAP`) taken out."""
    return _GAPS.sub("", text)


class _Bridge:
    """Finds two syllables with only a gap (:data:`_GAP`) between them: where the first
    stands (found in C), whether gap syllables and the second follow. Written out rather
    than as a regular expression: compiling one for each pair of each query added 2 ms
    to a query, and searching a body with one about 10 µs an article."""

    __slots__ = ("_a", "_b")

    def __init__(self, a: str, b: str) -> None:
        self._a, self._b = f" {a} ", f"{b} "

    def over(self, parts: Sequence[str]) -> bool:
        a, b = self._a, self._b
        for part in parts:
            if f" {b}" not in part:
                continue
            at = part.find(a)
            while at >= 0:
                start = at + len(a)
                gaps = 0
                while (end := part.find(" ", start)) > start and _is_gap(part[start:end]):
                    gaps, start = gaps + 1, end + 1
                if gaps and part.startswith(b, start):
                    return True
                at = part.find(a, at + len(a) - 1)
        return False


@dataclass(frozen=True)
class Reading:
    """The reading a query's pairs are meant in: as typed with marks, or the likely one.

    ``pairs`` are (folded " a b ", as written " á b́ ") needles; ``singles`` the marked
    syllables of a query of one syllable (no pairs), looked for in the headline.
    """

    pairs: tuple[tuple[str, str], ...]
    typed: bool
    singles: tuple[str, ...] = ()

    @classmethod
    def of(cls, runs: Sequence[Sequence[str]], typed: bool) -> Reading | None:
        """From runs of normalised syllables (marked as typed, or as guessed)."""
        pairs = tuple(
            dict.fromkeys(
                (f" {fold(a)} {fold(b)} ", f" {a} {b} ")
                for run in runs
                for a, b in pairwise(run)
                if has_marks(a) or has_marks(b)
            )
        )
        singles = () if pairs or not typed else tuple(w for run in runs for w in run if has_marks(w))
        return cls(pairs, typed, singles) if pairs or singles else None


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


def _norm(length: int, average: float) -> float:
    """BM25's length normalisation of a part of ``length`` syllables (with K1)."""
    return K1 * (1 - B + B * length / average)


def _saturate(tf: int, norm: float) -> float:
    """BM25's saturation of a term frequency, given the part's :func:`_norm`."""
    return tf * (K1 + 1) / (tf + norm) if tf else 0.0


def score(
    text: StoredText,
    terms: Sequence[Term],
    pairs: Sequence[tuple[str, float]],
    runs: Sequence[Sequence[str]],
    reading: Reading | None = None,
) -> float:
    """How well one article answers the query (see :class:`Scorer`)."""
    return Scorer(terms, pairs, runs, reading)(text)


class Scorer:
    """How well an article answers the query: the query's side prepared once, then called
    on each shortlisted article's text.

    ``pairs`` are neighbouring query syllables ("ha noi", folded) with their idf
    as pairs: BM25 over them is what finds the sentence a span was typed from,
    and length normalisation prefers the article where it weighs most.
    """

    def __init__(
        self,
        terms: Sequence[Term],
        pairs: Sequence[tuple[str, float]],
        runs: Sequence[Sequence[str]],
        reading: Reading | None = None,
    ) -> None:
        self.reading = reading
        # Every stored part is " syl syl " padded: term frequencies are substring counts, done in C.
        self._terms = [
            (f" {t.folded} ", f" {t.exact} " if t.exact is not None else None, t.idf, t.boost) for t in terms
        ]
        # A word typed with marks is in the headline only as typed: marks make results more precise.
        self._headline = [(t.typed, f" {t.exact} " if t.typed else f" {t.folded} ", t.idf) for t in terms]
        self._in_order = [f" {t.folded} " for t in terms] if len(terms) > 1 else []
        self._everything = sum(t.idf for t in terms)
        self._title_idf = sum(t.title_idf for t in terms)
        self._pairs = [(f" {pair} ", pair_idf) for pair, pair_idf in pairs]
        self._pair_at = {pair: i for i, (pair, _) in enumerate(pairs)}
        self._runs = [run for run in runs if len(run) > 1] if runs else []
        # The runs as they read with gaps taken out (plain), and each pair's bridge over a gap.
        self._plain_runs = [[w for w in run if not _is_gap(w)] for run in self._runs]
        self._bridges = {(a, b): _Bridge(a, b) for run in self._runs for a, b in pairwise(run)}
        self._written_bridges = (
            {written: _Bridge(*written.split()) for _, written in reading.pairs} if reading is not None else {}
        )
        self._long_run = any(len(run) > 2 for run in self._runs)
        self._sentence = any(len(run) > 3 for run in self._runs)
        self._run_weight = RUN_WEIGHT * sum(i for _, i in pairs) * (K1 + 1)

    def __call__(self, text: StoredText) -> float:
        return self.measure(text)[0]

    def measure(self, text: StoredText) -> tuple[float, float]:
        """(score, sentence): the sentence ranks before the score (see the module's
        docstring): 0 without a run of four or more typed syllables verbatim, else
        :data:`HEADLINE_SENTENCE` when it stands in the headline, else the article's
        shortness, 1 / (1 + its syllables)."""
        total = 0.0
        sentence = 0.0
        title, lead, body = folded = text.folded
        lengths = [StoredText.length(part) for part in folded]
        norms = [_norm(n, average) for n, average in zip(lengths, PART_LENGTHS, strict=True)]
        everything = self._everything
        if everything:
            exact_title = text.exact[0]
            inside = [idf for typed, needle, idf in self._headline if needle in (exact_title if typed else title)]
            if len(inside) == len(self._headline):  # the whole query in the headline: weighed by rarity among headlines
                bonus = HEADLINE_WEIGHT * self._title_idf
                bonus *= (K1 + 1) * _saturate(1, norms[0]) ** HEADLINE_NORM
                if self._in_order and not _in_order(title, self._in_order):
                    bonus *= UNORDERED
                total += bonus
            else:
                total += HEADLINE_WEIGHT * everything * (K1 + 1) * (sum(inside) / everything) ** 2
        exact_parts = text.exact
        for needle, exact, term_idf, boost in self._terms:
            for i in (0, 1, 2):
                tf = folded[i].count(needle)
                if not tf:
                    continue
                found = _saturate(tf, norms[i])
                if exact is not None:
                    found += boost * _saturate(exact_parts[i].count(exact), norms[i])
                total += term_idf * PART_WEIGHTS[i] * found
        pair_total = 0.0
        size = sum(lengths)
        whole_norm = _norm(size, sum(PART_LENGTHS))
        present = [False] * len(self._pairs)
        for k, (needle, pair_idf) in enumerate(self._pairs):
            # Counted part by part: a pair never runs from one part into the next.
            in_title, in_lead = title.count(needle), lead.count(needle)
            tf = in_title + in_lead + body.count(needle)
            if not tf:
                continue
            present[k] = True
            found = _saturate(tf, whole_norm)
            found += (PART_WEIGHTS[0] - 1) * _saturate(in_title, norms[0])
            found += (PART_WEIGHTS[1] - 1) * _saturate(in_lead, norms[1])
            pair_total += pair_idf * found
        total += PAIR_WEIGHT * pair_total
        if self._runs and pair_total:
            at = self._pair_at

            def contains(needle: str) -> bool:
                return needle in body or needle in title or needle in lead

            stretches = [
                [present[at[p]] if (p := f"{a} {b}") in at else contains(f" {p} ") for a, b in pairwise(run)]
                for run in self._runs
            ]
            runs = self._runs
            if not all(map(all, stretches)) and self._bridged(stretches, (title, lead, body)):
                title, lead, body = plain(title), plain(lead), plain(body)
                runs = self._plain_runs
                stretches = [[contains(f" {x} {y} ") for x, y in pairwise(run)] for run in runs]
            share = _longest(runs, stretches, contains)
            total += self._run_weight * share**RUN_POWER
            # Three or more syllables standing verbatim are the article's own words, whatever
            # their likely reading: a sentence typed without marks is looked up, not read.
            verbatim = share == 1.0 and self._long_run
            if share == 1.0 and self._sentence:
                headline = any(f" {' '.join(run)} " in title for run in runs if len(run) > 3)
                sentence = HEADLINE_SENTENCE if headline else 1 / (1 + size)
        else:
            verbatim = False
        reading = self.reading
        if reading is not None and not reading.typed and total and not verbatim:
            otherwise = sum(
                1
                for needle, written in reading.pairs
                if (
                    present[k]
                    if (k := self._pair_at.get(needle[1:-1])) is not None
                    else any(needle in p for p in folded)
                )
                and not any(written in part for part in exact_parts)
            )
            if otherwise:
                total *= OTHER_READING ** (otherwise / len(reading.pairs))
        return total, sentence

    def tier(self, text: StoredText) -> int:
        """For a query typed with marks: how many of its pairs the article holds side by side
        exactly as typed (tone placement aside: both are normalised), or for a query of one
        syllable, whether the headline has it as typed. Ranks before the score: typing the
        marks is saying which word is meant. In a sentence (a run of four syllables or more),
        a pair counts across a gap (:data:`_GAP`) when at most :data:`MAX_GAPS` are missing,
        as in :meth:`measure`."""
        reading = self.reading
        if reading is None or not reading.typed:
            return 0
        if reading.singles:
            return sum(f" {w} " in text.exact[0] for w in reading.singles)
        missing = [written for _, written in reading.pairs if not any(written in part for part in text.exact)]
        if self._sentence and 0 < len(missing) <= MAX_GAPS:
            missing = [written for written in missing if not self._written_bridges[written].over(text.exact)]
        return len(reading.pairs) - len(missing)

    def _bridged(self, stretches: list[list[bool]], parts: Sequence[str]) -> bool:
        """Whether a pair missing from a run's stretches stands in a part across a gap, in a
        sentence (a run of four syllables or more: "3" between two words typed side by side
        says nothing otherwise) missing at most :data:`MAX_GAPS` pairs (the others are not
        the article's sentence: most shortlisted articles lack most of its pairs, and are
        not searched)."""
        return any(
            not ok and self._bridges[pair].over(parts)
            for flags, run in zip(stretches, self._runs, strict=True)
            if len(run) > 3 and flags.count(False) <= MAX_GAPS
            for ok, pair in zip(flags, pairwise(run), strict=True)
        )


def _in_order(headline: str, needles: Sequence[str]) -> bool:
    """The query's words stand in the headline in the order they were typed (each somewhere
    after the one before)."""
    at = -1
    for needle in needles:
        at = headline.find(needle, at + 1)
        if at < 0:
            return False
    return True


def longest(text: str, runs: Sequence[Sequence[str]]) -> float:
    """How much of a run stands verbatim in ``text``: 1 for all of it, 0 for no two syllables
    side by side (the longest stretch's pairs over the run's pairs)."""
    present = [[f" {a} {b} " in text for a, b in pairwise(run)] for run in runs]
    return _longest(runs, present, text.__contains__)


def _longest(runs: Sequence[Sequence[str]], pairs_present: list[list[bool]], contains: Callable[[str], bool]) -> float:
    """:func:`longest`, given which neighbouring pairs of each run are present.

    A verbatim stretch is made of pairs that are each present, so only the
    stretches of consecutive present pairs are tried, longest first.
    """
    best = 0.0
    for run, present in zip(runs, pairs_present, strict=True):
        n = len(run)
        if n < 2:
            continue
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
                if size == 2 or any(contains(f" {' '.join(run[k : k + size])} ") for k in range(i, j + 3 - size)):
                    best = share
                    break
            i = j + 1
    return best


def idf(doc_count: int, df: int) -> float:
    return math.log(1 + doc_count / (df + 0.5))
