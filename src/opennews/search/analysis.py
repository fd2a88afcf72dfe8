"""Whoosh analysis for Vietnamese, as a pipeline of small filters.

    VietnameseTokenizer()                              exact: "thủy", "điện" (normalised)
    VietnameseTokenizer() | FoldFilter()               folded: "thuy", "dien"
    VietnameseTokenizer() | FoldFilter() | BigramFilter()   "thuy_dien"

The tokenizer normalises the whole text first (opennews.vietnamese.normalize:
clean-up, NFC with mark order, lower case, canonical tone placement), then cuts
syllables: every syllable is a token (minsize 1, no stop list, so "ở", "ý" and
"an" survive) with its position, so phrases work on both exact and folded forms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from whoosh.analysis import Composable, Filter, Token, Tokenizer

from ..vietnamese import fold, normalize
from ..vietnamese.syllables import _SYLLABLE, MARK_CLASS

__all__ = [
    "BIGRAM_JOINER",
    "BigramFilter",
    "FoldFilter",
    "VietnameseTokenizer",
    "bigram_analyzer",
    "cut",
    "exact_analyzer",
    "exact_bigram_analyzer",
    "fold_syllable",
    "folded_analyzer",
    "pairs",
    "syllables",
]

BIGRAM_JOINER = "_"


#: A paragraph break in a cut (never a syllable).
BREAK = "\n"
_last_cut: tuple[str | None, list[str]] = (None, [])
_SIMPLE = re.compile(r"[^\W_]+|\n")
_FULL = re.compile(_SYLLABLE.pattern + "|\n")
_LEFTOVER_MARK = re.compile(MARK_CLASS)


def cut(value: str) -> list[str]:
    """The normalised syllables of ``value``, with :data:`BREAK` between paragraphs.

    Pairs and phrases never run across a break. The last value is remembered: a
    document's text goes through several fields (folded, pairs) one after the
    other, and normalising it once instead of each time is most of the analysis
    cost.
    """
    global _last_cut
    cached = _last_cut
    if cached[0] is value:
        return cached[1]
    text = normalize(value)
    # Normalised text is composed, so letters and digits are the syllables; a mark
    # left standing alone (on a non-letter) needs the slower pattern.
    words = (_FULL if _LEFTOVER_MARK.search(text) else _SIMPLE).findall(text)
    _last_cut = (value, words)
    return words


class VietnameseTokenizer(Tokenizer):
    """Normalised syllables with positions (character offsets refer to the normalised text)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            text = normalize(value)
            t.original = t.text = text
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(text)
            yield t
            return
        if chars:  # character offsets (into the normalised text) are only worked out when asked for
            yield from self._with_chars(t, normalize(value), positions, keeporiginal, start_pos, start_char)
            return
        gap = seen = False
        for text in cut(value):
            if text == BREAK:
                gap = seen
                continue
            seen = True
            start_pos += 3 if gap else 1
            t.text = text
            t.boost = 1.0
            t.stopped = False
            t.after_break = gap
            gap = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos - 1
            yield t

    @staticmethod
    def _with_chars(
        t: Token, text: str, positions: bool, keeporiginal: bool, start_pos: int, start_char: int
    ) -> Iterator[Token]:
        pos = start_pos - 1
        last_end = 0
        for match in _SYLLABLE.finditer(text):
            gap = pos >= start_pos and text.find("\n", last_end, match.start()) >= 0
            pos += 3 if gap else 1
            last_end = match.end()
            t.after_break = gap
            t.text = match.group()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
            t.startchar, t.endchar = start_char + match.start(), start_char + match.end()
            yield t


@functools.lru_cache(maxsize=65536)
def fold_syllable(syllable: str) -> str:
    """Syllables repeat endlessly in running text; fold each distinct one once."""
    return fold(syllable)


class FoldFilter(Filter):
    """Strip marks and map đ→d: what the word looks like typed without accents."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:  # type: ignore[override]
        for t in tokens:
            t.text = fold_syllable(t.text)
            yield t


class BigramFilter(Filter):
    """Adjacent syllables joined ("giao_thong"): word-level precision without a segmenter.

    Folded bigrams are rarely ambiguous (the design notes, §0.4), so an
    accent-free query's neighbouring words find the right article. No pair is
    made across a paragraph break or from the headline into the lead (the
    tokenizer marks the syllable after one): "Hà Nội" ending a headline and
    "Mưa" starting the lead are not the phrase "hà nội mưa".
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:  # type: ignore[override]
        previous: str | None = None
        pos = 0
        for t in tokens:
            current = t.text
            if previous is not None and not getattr(t, "after_break", False):
                t.text = previous + BIGRAM_JOINER + current
                if t.positions:
                    t.pos = pos
                pos += 1
                yield t
            previous = current


def syllables(words: list[str]) -> set[str]:
    """The distinct syllables of a cut (its breaks left out)."""
    found = set(words)
    found.discard(BREAK)
    return found


def pairs(words: list[str]) -> set[str]:
    """The distinct pairs of neighbouring syllables of a cut, none across a break: the
    terms :class:`BigramFilter` makes of the same syllables."""
    found: set[str] = set()
    previous: str | None = None
    for word in words:
        if word == BREAK:
            previous = None
            continue
        if previous is not None:
            found.add(previous + BIGRAM_JOINER + word)
        previous = word
    return found


def exact_analyzer() -> Composable:
    return VietnameseTokenizer()


def folded_analyzer() -> Composable:
    return VietnameseTokenizer() | FoldFilter()


def bigram_analyzer() -> Composable:
    return VietnameseTokenizer() | FoldFilter() | BigramFilter()


def exact_bigram_analyzer() -> Composable:
    """Pairs as written ("khóa_học"): which reading of a folded pair an article holds."""
    return VietnameseTokenizer() | BigramFilter()
