"""Snippets with highlighted matches, right for folded matches too.

Whoosh's highlighter compares index terms with the text it re-analyses; ours
tokenises the stored text itself, so a folded query ("ha noi") marks the words
as written ("Hà Nội") and offsets always point into what readers see.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..vietnamese import fold, normalize, tokenize

__all__ = ["Highlighter"]


class Highlighter:
    """Marks the query's syllables in text: exact forms for marked query words,
    folded forms for unmarked ones."""

    def __init__(self, exact: Iterable[str], folded: Iterable[str]) -> None:
        self.exact = set(exact)
        self.folded = set(folded)

    def matches(self, text: str) -> list[tuple[int, int, str]]:
        """[start, end) offsets and folded form of every matching syllable."""
        out = []
        for tok in tokenize(text):
            norm = normalize(tok.text)
            key = fold(norm)
            if norm in self.exact or key in self.folded:
                out.append((tok.start, tok.end, key))
        return out

    def mark(self, text: str) -> str:
        """The whole text, HTML-escaped, with matches wrapped in <mark>."""
        return self._render(text, 0, len(text), self.matches(text))

    def snippet(self, text: str, size: int = 240) -> str:
        """The best window of about ``size`` characters (most distinct matches), escaped and marked."""
        hits = self.matches(text)
        if not hits:
            end = _cut(text, 0, size)
            return escape(text[:end]) + ("…" if end < len(text) else "")
        best_start, best_score = 0, -1
        for i, (start, _, _) in enumerate(hits):
            window = [h for h in hits[i:] if h[1] <= start + size]
            score = len({h[2] for h in window}) * 10 + len(window)
            if score > best_score:
                best_start, best_score = start, score
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
            parts.append(escape(text[at:s]))
            parts.append(f"<mark>{escape(text[s:e])}</mark>")
            at = e
        parts.append(escape(text[at:end]))
        return "".join(parts)


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
