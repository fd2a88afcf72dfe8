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

from collections.abc import Iterator

from whoosh.analysis import Composable, Filter, Token, Tokenizer

from ..vietnamese import fold, normalize
from ..vietnamese.syllables import _SYLLABLE

__all__ = [
    "BIGRAM_JOINER",
    "BigramFilter",
    "FoldFilter",
    "VietnameseTokenizer",
    "bigram_analyzer",
    "exact_analyzer",
    "folded_analyzer",
]

BIGRAM_JOINER = "_"


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
        text = normalize(value)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = text
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(text)
            yield t
            return
        pos = start_pos - 1
        last_end = 0
        for match in _SYLLABLE.finditer(text):
            # A line break between syllables is a gap: phrases never run across paragraphs.
            pos += 3 if text.find("\n", last_end, match.start()) >= 0 and pos >= start_pos else 1
            last_end = match.end()
            t.text = match.group()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
            if chars:
                t.startchar, t.endchar = start_char + match.start(), start_char + match.end()
            yield t


class FoldFilter(Filter):
    """Strip marks and map đ→d: what the word looks like typed without accents."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:  # type: ignore[override]
        for t in tokens:
            t.text = fold(t.text)
            yield t


class BigramFilter(Filter):
    """Adjacent syllables joined ("giao_thong"): word-level precision without a segmenter.

    Folded bigrams are rarely ambiguous (docs/vietnamese-search.md §0.4), so an
    accent-free query's neighbouring words find the right article.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:  # type: ignore[override]
        previous: str | None = None
        pos = 0
        for t in tokens:
            current = t.text
            if previous is not None:
                t.text = previous + BIGRAM_JOINER + current
                if t.positions:
                    t.pos = pos
                pos += 1
                yield t
            previous = current


def exact_analyzer() -> Composable:
    return VietnameseTokenizer()


def folded_analyzer() -> Composable:
    return VietnameseTokenizer() | FoldFilter()


def bigram_analyzer() -> Composable:
    return VietnameseTokenizer() | FoldFilter() | BigramFilter()
