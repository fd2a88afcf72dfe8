"""Tone-mark placement for the rhymes oa, oe and uy.

Vietnamese writes "hòa, khỏe, thủy" (tone on the first vowel) and "hoà, khoẻ,
thuỷ" (tone on the second) for the same words; NFC keeps them apart. Only the 15
open-syllable pairs differ, and the "qu" in "quý, quả" is a consonant, so a plain
substring rule with two guards is exact:

* the pair must end the syllable (no letter follows: "hoàng", "toán" stay);
* the pair must not follow "q" ("quý", "quả" stay).

Styles are named after where the mark sits, because "old" and "new" are used
both ways round by Vietnamese writers.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = ["TONE_STYLES", "ToneStyle", "canonical_tones", "place_tones", "tone_of"]

ToneStyle = Literal["first", "second"]
TONE_STYLES: tuple[ToneStyle, ...] = ("first", "second")

_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng


def _toned(base: str) -> str:
    """All five toned precomposed forms of a vowel, lower and upper case."""
    return "".join(unicodedata.normalize("NFC", b + t) for b in (base.lower(), base.upper()) for t in _TONES)


_O_TONED = _toned("o")
_U_TONED = _toned("u")
_A_TONED, _E_TONED, _Y_TONED = _toned("a"), _toned("e"), _toned("y")

_NOT_LETTER_AHEAD = r"(?![^\W\d_])"
_NOT_Q_BEHIND = r"(?<![qQ])"

# "hoà" -> "hòa": plain o/u followed by a toned a/e/y at the end of a syllable.
_SECOND_TO_FIRST = re.compile(
    _NOT_Q_BEHIND + "(?:([oO])([" + _A_TONED + _E_TONED + "])|([uU])([" + _Y_TONED + "]))" + _NOT_LETTER_AHEAD
)
# "hòa" -> "hoà": toned o/u followed by a plain a/e/y at the end of a syllable.
_FIRST_TO_SECOND = re.compile(
    _NOT_Q_BEHIND + "(?:([" + _O_TONED + "])([aAeE])|([" + _U_TONED + "])([yY]))" + _NOT_LETTER_AHEAD
)
# Typos "qúa", "qủa", "qúy": the u of "qu" never carries the tone.
_Q_TYPO = re.compile(
    "(?<=[qQ])([" + _U_TONED + "])([aAeEyYoO\u00e2\u00c2\u0103\u0102\u00ea\u00ca\u00f4\u00d4\u01a1\u01a0])"
)


def tone_of(ch: str) -> tuple[str, str]:
    """Split a precomposed letter into (letter without tone, tone mark or "")."""
    nfd = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in nfd if c in _TONES)
    rest = "".join(c for c in nfd if c not in _TONES)
    return unicodedata.normalize("NFC", rest), tone


def _move(first: str, second: str, *, to_first: bool) -> str:
    if to_first:
        base, tone = tone_of(second)
        return unicodedata.normalize("NFC", first + tone) + base
    base, tone = tone_of(first)
    return base + unicodedata.normalize("NFC", second + tone)


def _to_first(m: re.Match[str]) -> str:
    a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return _move(a, b, to_first=True)


def _to_second(m: re.Match[str]) -> str:
    a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return _move(a, b, to_first=False)


def _fix_q(m: re.Match[str]) -> str:
    return _move(m.group(1), m.group(2), to_first=False)


def place_tones(text: str, style: ToneStyle) -> str:
    """Rewrite the 15 oa/oe/uy pairs into one style; everything else is untouched.

    ``style="first"`` gives hòa, khỏe, thủy; ``style="second"`` gives hoà, khoẻ, thuỷ.
    Input must be NFC (see :func:`opennews.vietnamese.compose`).
    """
    if style == "first":
        return _SECOND_TO_FIRST.sub(_to_first, text)
    if style == "second":
        return _FIRST_TO_SECOND.sub(_to_second, text)
    raise ValueError(f"unknown tone style {style!r}; expected one of {TONE_STYLES}")


def canonical_tones(text: str) -> str:
    """The form used for matching: tone on the first vowel, and "qúa" fixed to "quá".

    The first-vowel style dominates Vietnamese news, so it is also the form shown
    in suggestions.
    """
    if _Q_TYPO.search(text):
        text = _Q_TYPO.sub(_fix_q, text)
    return place_tones(text, "first")
