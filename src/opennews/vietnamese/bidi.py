"""Bidirectional-text controls in archive text: strip them, or keep them from leaking.

An unterminated RIGHT-TO-LEFT OVERRIDE (U+202E) in a headline reverses whatever is
printed after it on the same line: the source, the date, a count ("57" shows as "75").
Two ways to stop that, each for the output that can use it:

- :func:`strip_bidi` removes every bidi control, for outputs that cannot isolate a
  field from its neighbours (feeds: a reader prints our titles in its own lists);
- :func:`balance_bidi` keeps the controls but drops the terminators that close more
  than they opened and closes what is left open, so the text stays inside the isolate
  a page puts around it (``<bdi>``; :func:`isolate` for plain text such as
  ``<title>``). Isolation alone is not enough: a stray POP DIRECTIONAL ISOLATE
  (U+2069) inside a ``<bdi>`` or ``dir="auto"`` element closes the element's own
  isolate in Chromium 156, and a U+202E after it reverses the rest of the line again
  (measured with tests/test_browser.py's page probe).

Nothing here rewrites what is archived; pages and feeds call these when they print.
"""

from __future__ import annotations

import re

__all__ = ["BIDI_CONTROLS", "balance_bidi", "isolate", "needs_isolation", "strip_bidi"]

_EMBEDDINGS = "\u202a\u202b\u202d\u202e"  # LRE, RLE, LRO, RLO: closed by PDF
_ISOLATES = "\u2066\u2067\u2068"  # LRI, RLI, FSI: closed by PDI
PDF, PDI, FSI = "\u202c", "\u2069", "\u2068"
#: The explicit formatting characters of UAX #9 and the three implicit marks (LRM, RLM,
#: ALM). The marks cannot open anything, but they still move digits and punctuation
#: around them ("\u200f1 2" shows as "2 1"), so feeds drop them too.
BIDI_CONTROLS = _EMBEDDINGS + PDF + _ISOLATES + PDI + "\u200e\u200f\u061c"
_ANY = re.compile(f"[{BIDI_CONTROLS}]")
_EXPLICIT = re.compile(f"[{_EMBEDDINGS}{PDF}{_ISOLATES}{PDI}]")
# The blocks Unicode gives right-to-left letters and Arabic digits (bidi classes R, AL,
# AN, default R/AL in unassigned places), and the controls: text with none of these
# lays out the same whether it is isolated or not, in our left-to-right pages.
_NEEDS_ISOLATION = re.compile(
    f"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff{BIDI_CONTROLS}]"
)


def strip_bidi(text: str) -> str:
    """``text`` without any bidi control (for feeds and other plain-text outputs)."""
    return _ANY.sub("", text) if _ANY.search(text) else text


def balance_bidi(text: str) -> str:
    """``text`` whose explicit bidi controls all pair up, as the bidi algorithm pairs them.

    A PDF closes the last embedding only when no isolate was opened after it (UAX #9
    X7), a PDI closes the last open isolate and every embedding opened inside it (X6a);
    terminators that close nothing are dropped, and closers for what is still open are
    added at the end. Text without explicit controls is returned as it is.
    """
    if not _EXPLICIT.search(text):
        return text
    out: list[str] = []
    open_: list[str] = []  # the closer each open embedding or isolate needs
    for ch in text:
        if ch in _EMBEDDINGS:
            open_.append(PDF)
        elif ch in _ISOLATES:
            open_.append(PDI)
        elif ch == PDF:
            if not open_ or open_[-1] != PDF:
                continue
            open_.pop()
        elif ch == PDI:
            if PDI not in open_:
                continue
            while open_.pop() != PDI:
                pass
        out.append(ch)
    out.extend(reversed(open_))
    return "".join(out)


def needs_isolation(text: str) -> bool:
    """Whether ``text`` could change how the text around it is laid out: it holds a
    right-to-left letter, an Arabic digit or a bidi control. Latin and Vietnamese text
    cannot, so pages print it as it is (same bytes; nothing invisible in a copied title)."""
    return _NEEDS_ISOLATION.search(text) is not None


def isolate(text: str) -> str:
    """Plain text (a ``<title>``, an attribute, an ``<option>``) isolated from what is
    printed around it, where that matters: FIRST STRONG ISOLATE, the balanced text, POP
    DIRECTIONAL ISOLATE."""
    return f"{FSI}{balance_bidi(text)}{PDI}" if needs_isolation(text) else text
