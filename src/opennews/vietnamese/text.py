"""Unicode clean-up, normalisation and folding for Vietnamese text.

Everything here is a pure function on ``str``. The same functions run at ingest
(to store clean text), at index time and at query time, so a query typed on a Mac
(NFD), with the input method's mark order, or with a look-alike letter meets the
text it is looking for.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "clean",
    "compose",
    "fold",
    "fold_table",
    "has_marks",
    "is_combining",
    "normalize",
    "strip_controls",
]

# Deleted outright: a ZWSP inside a syllable ("Việ\u200bt") must not split it.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
# Spaces that render like a space but are not one.
_ODD_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
# C0/C1 controls other than tab and newline are illegal in XML and meaningless in news.
_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])

_CLEAN_MAP: dict[str, str] = {
    **{c: "" for c in _INVISIBLE},
    **{c: " " for c in _ODD_SPACES},
    **{c: "" for c in _CONTROLS},
    "\u2028": "\n",
    "\u2029": "\n",
    "\r": "\n",
    "\r\n": "\n",
    "\u00d0": "\u0110",  # Ð (Eth) -> Đ
    "\u00f0": "\u0111",  # ð (eth) -> đ
}
# "\r\n" is one match, so Windows line ends become one newline and old Mac ones too.
_NEEDS_CLEAN = re.compile("\r\n|[" + re.escape(_INVISIBLE + _ODD_SPACES + _CONTROLS) + "\u2028\u2029\r\u00d0\u00f0]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_XML_ILLEGAL = re.compile("[\ufffe\uffff]")
_COMBINING_RANGES = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# One scan that says whether clean() has anything to do: most text is already clean.
_SUSPECT = re.compile(
    "["
    + re.escape(_INVISIBLE + _ODD_SPACES + _CONTROLS)
    + "\u2028\u2029\r\u00d0\u00f0\ud800-\udfff\ufffe\uffff"
    + _COMBINING_RANGES
    + "]"
)

# Vowel-quality marks must precede tone marks for NFC to compose "ế", "ộ", "ở"...
_QUALITY_MARKS = frozenset("\u0302\u0306\u031b")  # circumflex, breve, horn
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # grave, acute, tilde, hook, dot below
_HAS_COMBINING = re.compile("[" + _COMBINING_RANGES + "]")
_MARK_RUN = re.compile("([\u0300-\u036f]{2,})")


def _replace(match: re.Match[str]) -> str:
    return _CLEAN_MAP[match.group()]


def strip_controls(text: str) -> str:
    """Remove characters that XML 1.0 forbids (lone surrogates, U+FFFE/U+FFFF, controls)."""
    text = _SURROGATES.sub("", text)
    text = _XML_ILLEGAL.sub("", text)
    return _NEEDS_CLEAN.sub(_replace, text)


def _reorder_marks(match: re.Match[str]) -> str:
    run = match.group(1)
    out = list(dict.fromkeys(run))  # a repeated mark ("ợ̣") is a typo, never meaningful
    quality = [c for c in out if c in _QUALITY_MARKS]
    if not quality:
        return "".join(out)
    return "".join(quality) + "".join(c for c in out if c not in _QUALITY_MARKS)


def compose(text: str) -> str:
    """NFC, after putting vowel-quality marks before tone marks.

    NFC composes marks only in canonical order: "e" + acute + circumflex gives
    "é" + a stray circumflex, not "ế". Input methods produce that order, so we
    decompose, reorder each run of marks, then compose.
    """
    if not _HAS_COMBINING.search(text):
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _MARK_RUN.sub(_reorder_marks, decomposed))


def clean(text: str) -> str:
    """Safe clean-up for storage: what a reader sees, minus what nobody can see.

    Removes zero-width characters, soft hyphens and control characters, maps odd
    spaces to a space and the Eth look-alikes to Đ/đ, then composes to NFC with
    marks in the right order. Tone placement is left as written.
    """
    if not _SUSPECT.search(text):
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    text = _NEEDS_CLEAN.sub(_replace, text)
    if _SURROGATES.search(text) or _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", _SURROGATES.sub("", text))
    return compose(text)


def normalize(text: str) -> str:
    """The matching form: clean, lower-cased, with canonical tone placement.

    Index and query both go through this, so "HOÀ", "hòa" and NFD "hòa" meet.
    """
    from .tones import canonical_tones

    return canonical_tones(clean(text).lower())


def is_combining(ch: str) -> bool:
    """True for any Unicode mark (categories Mn, Mc, Me)."""
    return unicodedata.category(ch)[0] == "M"


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if is_combining(ch):
            table[cp] = None
            continue
        nfd = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in nfd if not is_combining(c))
        if len(base) < len(nfd):  # letters with marks only; Hangul etc. stay whole
            table[cp] = base
    # Marks outside the BMP live in planes 1 and 14 only.
    for cp in [*range(0x10000, 0x20000), *range(0xE0100, 0xE01F0)]:
        if is_combining(chr(cp)):
            table[cp] = None
    table.update({ord("đ"): "d", ord("Đ"): "D", ord("ð"): "d", ord("Ð"): "D"})
    return table


def fold(text: str) -> str:
    """Strip every mark and map đ→d: the form of text typed without accents.

    Works on any input (NFC, NFD, mixed) and never leaves a combining mark or đ.
    """
    return text.translate(fold_table())


def has_marks(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (so it differs from its fold)."""
    return fold(text) != text
