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

__all__ = ["Token", "syllables", "tokenize"]

# A syllable: letters and digits, plus any combining marks and zero-width
# characters inside it (NFD input, "Việ\u200bt"). Underscore and apostrophe split:
# "Hà_Nội" and "H'Mông" give two syllables each, the same way at index and query time.
_SYLLABLE = re.compile("(?:[^\\W_]|[\u0300-\u036f\u1dc0-\u1dff\u200b-\u200d\u2060\u00ad])+")


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
