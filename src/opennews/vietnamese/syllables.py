"""Syllable tokenising with character offsets.

Vietnamese writes one syllable per space-separated unit, so syllables, not
segmented words, are the unit of matching (see docs/vietnamese-search.md §3.5.6).
Offsets point into the text as given, so highlights land on what readers see even
when the text carries combining marks or zero-width characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["MARK_CHARS", "MARK_CLASS", "Token", "syllables", "tokenize"]

# What a syllable holds besides letters and digits: combining marks and zero-width
# characters (inside it in NFD input, "Việ\u200bt"; a stray one after it).
_MARK_RANGES = ((0x0300, 0x036F), (0x1DC0, 0x1DFF), (0x200B, 0x200D), (0x2060, 0x2060), (0x00AD, 0x00AD))
#: Those characters as a regular-expression class...
MARK_CLASS = "[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in _MARK_RANGES) + "]"
#: ...and as a set.
MARK_CHARS = frozenset(chr(c) for first, last in _MARK_RANGES for c in range(first, last + 1))

# A syllable: letters and digits, plus marks. Underscore and apostrophe split: "Hà_Nội"
# and "H'Mông" give two syllables each, the same way at index and query time.
_SYLLABLE = re.compile(f"(?:[^\\W_]|{MARK_CLASS})+")


class Token(NamedTuple):
    """One syllable: its surface text and [start, end) offsets into the source."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> Iterator[Token]:
    """Yield every syllable of ``text`` with its offsets, in order."""
    for m in _SYLLABLE.finditer(text):
        yield Token(m.group(), m.start(), m.end())


def syllables(text: str) -> list[str]:
    """Just the syllable strings (as written; normalise them yourself)."""
    return _SYLLABLE.findall(text)
