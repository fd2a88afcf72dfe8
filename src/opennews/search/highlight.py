"""Snippets with highlighted matches, right for folded matches too.

Whoosh's highlighter compares index terms with the text it re-analyses; ours
tokenises the stored text itself, so a folded query ("ha noi") marks the words
as written ("Hà Nội") and offsets always point into what readers see.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from html import escape
from itertools import pairwise

import numpy as np

from ..vietnamese import fold, has_marks, normalize
from ..vietnamese.syllables import MARK_CHARS

__all__ = ["Highlighter", "matched_forms"]


class Highlighter:
    """Marks the query's syllables in text: exact forms for marked query words,
    folded forms for unmarked ones."""

    def __init__(self, exact: Iterable[str], folded: Iterable[str]) -> None:
        self.exact = set(exact)
        self.folded = set(folded)
        words = sorted({fold(w) for w in self.exact} | self.folded, key=len, reverse=True)
        self._pattern = _pattern(tuple(words)) if words else None

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """[start, end) offsets and folded form of every matching syllable."""
        if self._pattern is None:
            return []
        out = []
        exact, folded = self.exact, self.folded
        # One pass of the regex engine over the text folded letter for letter (same
        # offsets) finds every written variant of the query's syllables; only those
        # few are then normalised and checked. Where words start and end is checked
        # here: a look-behind in the pattern would keep the engine from skipping ahead
        # to the words' first letters, and classes of characters around the words
        # made compiling the pattern, once per query, take four times as long. (The
        # syllables are letters and digits, so a candidate rejected here never hides
        # a word starting inside it.)
        folded_text = _fold_letters(text)
        size = len(folded_text)
        for m in self._pattern.finditer(folded_text):
            start, end = m.span()
            if start and folded_text[start - 1].isalnum():
                continue
            while end < size and folded_text[end] in MARK_CHARS:  # a stray mark belongs to the syllable before it
                end += 1
            if end < size and folded_text[end].isalnum():
                continue
            norm, key = _forms(text[start:end])
            if key in folded or norm in exact:
                out.append((start, end, key))
        return out

    def mark(self, text: str) -> str:
        """The whole text, HTML-escaped, with matches wrapped in <mark>."""
        return self._render(text, 0, len(text), self.matches(text))

    def snippet(self, text: str, size: int = 240) -> str:
        """The best window of about ``size`` characters (most distinct matches), escaped and marked."""
        hits = self.matches(text)
        if not hits:
            end = _cut(text, 0, size)
            return _escape(text[:end]) + ("…" if end < len(text) else "")
        # Slide a window of ``size`` characters from each match: the most distinct words wins.
        best_start, best_score = 0, -1
        inside: Counter[str] = Counter()
        j = 0
        for i, (start, _, _) in enumerate(hits):
            while j < len(hits) and hits[j][1] <= start + size:
                inside[hits[j][2]] += 1
                j += 1
            score = len(inside) * 10 + (j - i)
            if score > best_score:
                best_start, best_score = start, score
            if j > i:  # hits[i] leaves the window
                key = hits[i][2]
                inside[key] -= 1
                if not inside[key]:
                    del inside[key]
            else:
                j = i + 1
        start = max(0, best_start - size // 6)
        start = _back_to_space(text, start)
        end = _cut(text, start, size)
        inside = [h for h in hits if h[0] >= start and h[1] <= end]
        body = self._render(text, start, end, inside)
        return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")

    @staticmethod
    def _render(text: str, start: int, end: int, hits: list[tuple[int, int, str]]) -> str:
        parts: list[str] = []
        at = start
        for s, e, _ in hits:
            parts.append(_escape(text[at:s]))
            parts.append(f"<mark>{_escape(text[s:e])}</mark>")
            at = e
        parts.append(_escape(text[at:end]))
        return "".join(parts)


def matched_forms(
    words: list[str], runs: list[list[str]], meant: dict[str, str], exact: list[str], folded: list[str]
) -> tuple[set[str], set[str]]:
    """What to mark in one article: (forms as written, folded forms marked in any writing).

    Highlights follow the reading the article holds, not every folded look-alike. In
    a query typed with marks, each word (``words``, normalised; "cho" too, beside
    "dân" and "biết") is marked as typed where the article has it so; in a query
    without marks, a word is marked in the reading ``meant`` (the likely one) where
    the article has it, else in the forms the article holds side by side with its
    neighbours in the query (``runs``). Only a word the article holds in none of those
    ways is marked in every writing. ``exact`` and ``folded`` are the article's stored
    text (schema.StoredText: " syl syl " per part, paragraphs split by " \n "), token
    for token.
    """
    beside: dict[str, set[str]] = {}  # folded query syllable → forms found side by side
    pairs = {(fold(a), fold(b)) for run in runs for a, b in pairwise(run)}
    for written, folded_part in zip(exact, folded, strict=True):
        tokens: list[str] | None = None
        for a, b in pairs:
            needle = f" {a} {b} "
            at = folded_part.find(needle)
            while at >= 0:
                if tokens is None:
                    tokens = written.split(" ")
                # Token for token: the syllable after the space at ``at`` is split()'s item
                # numbered by the spaces up to it.
                i = folded_part.count(" ", 0, at + 1)
                beside.setdefault(a, set()).add(tokens[i])
                beside.setdefault(b, set()).add(tokens[i + 1])
                at = folded_part.find(needle, at + 1)
    typed = any(has_marks(w) for w in words)
    forms: set[str] = set()
    anyhow: set[str] = set()
    for w in words:
        key = fold(w)
        wanted = w if typed else meant.get(w)
        present = wanted is not None and any(f" {wanted} " in part for part in exact)
        if present and (typed or wanted in beside.get(key, {wanted})):
            forms.add(wanted)
        elif not typed and beside.get(key):
            forms |= beside[key]
        else:
            anyhow.add(key)
    return forms, anyhow


@lru_cache(maxsize=1)
def _letters() -> np.ndarray:
    """A table from UTF-16 code unit to its letter's lower-case base letter, one for one
    (everything else to itself)."""
    table = np.arange(0x10000, dtype=np.uint16)
    for cp in range(0x20, 0x2000):
        ch = chr(cp)
        if ch.isalpha():
            base = fold(ch).lower()
            if len(base) == 1 and base.isascii() and base != ch:
                table[cp] = ord(base)
    return table


def _fold_letters(text: str) -> str:
    """``text`` with every letter folded to its lower-case base letter, at the same offsets.

    A table lookup over the UTF-16 code units: ``str.translate`` with a dict looks up
    each character on its own, ten times slower on a whole article body. Characters
    outside the BMP are surrogate pairs that map to themselves and decode back whole.
    """
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    return _letters()[units].tobytes().decode("utf-16-le", "surrogatepass")


@lru_cache(maxsize=1024)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the folded ``words`` (longest first) in folded text; Highlighter.matches
    checks that a match is a whole word."""
    return re.compile("|".join(re.escape(w) for w in words))


@lru_cache(maxsize=65536)
def _forms(word: str) -> tuple[str, str]:
    """A word as written → (normalised, folded); running text repeats its words endlessly."""
    norm = normalize(word)
    return norm, fold(norm)


def _escape(text: str) -> str:
    """Text for element content (where quotes need no escaping), as an HTML sanitiser writes it."""
    return escape(text, quote=False)


def _back_to_space(text: str, at: int) -> int:
    if at <= 0:
        return 0
    space = text.rfind(" ", 0, at)
    return space + 1 if space >= 0 and at - space < 30 else at


def _cut(text: str, start: int, size: int) -> int:
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        if space > start + size // 2:
            end = space
    return end
