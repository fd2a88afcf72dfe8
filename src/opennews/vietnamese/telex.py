"""Telex, the keystrokes of Vietnamese typing, turned back into text.

With the input method switched off, "Việt Nam" arrives as "vieetj nam" and
"đường" as "dduwowngf". :func:`from_telex` decodes such words; the search layer
only ever offers the result as a suggestion, because ordinary words ("messi")
can look like Telex too.

:func:`place_tone` is the general tone-placement rule (docs/vietnamese-search.md
§3.3) used to put the decoded tone on the right vowel.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["from_telex", "looks_like_telex", "place_tone"]

_TONE_KEYS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_DOUBLE = {"aa": "â", "ee": "ê", "oo": "ô", "dd": "đ"}
_HORN = {"a": "ă", "o": "ơ", "u": "ư"}
_VOWELS = set("aăâeêioôơuưy")
_MARKED = set("ăâêôơư")
_WORD = re.compile(r"[A-Za-z]+")
# Telex leaves tell-tale clusters that plain Vietnamese-without-marks never has.
_TELEX_HINT = re.compile(r"(aa|ee|oo|dd|w|[aeiouy][a-z]*[sfrxj]\b|[aeiouy][sfrxj][cmnpt])", re.I)


def _nucleus(letters: str) -> tuple[int, int]:
    """[start, end) of the vowel nucleus, treating the u of qu- and the i of gi- as consonants."""
    start = 0
    lower = letters.lower()
    if lower.startswith("qu") or (lower.startswith("gi") and len(lower) > 2 and lower[2] in _VOWELS):
        start = 2
    while start < len(lower) and lower[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    if start == len(lower) and lower.startswith("gi"):
        return 1, 2  # "gì": the i is the vowel
    return start, end


def place_tone(letters: str, tone: str) -> str:
    """Put a combining tone mark on the vowel that carries it, and compose.

    ``letters`` is a syllable without tone (vowel-quality marks included).
    Quality-marked vowels win (the last one: ươ, iê); a closed syllable puts it
    on the last vowel (toán); an open one on the first of two (hòa, mía) or the
    middle of three (ngoài).
    """
    if not tone:
        return letters
    start, end = _nucleus(letters)
    if start >= end:
        return letters
    vowels = letters[start:end].lower()
    marked = [i for i, v in enumerate(vowels) if v in _MARKED]
    closed = end < len(letters)
    if marked:
        at = marked[-1]
    elif closed:
        at = len(vowels) - 1
    elif len(vowels) == 3:
        at = 1
    else:
        at = 0
    i = start + at
    return letters[:i] + unicodedata.normalize("NFC", letters[i] + tone) + letters[i + 1 :]


def _decode_word(word: str) -> str:
    out: list[str] = []
    tone = ""
    lower = word.lower()
    i = 0
    while i < len(lower):
        ch = lower[i]
        pair = lower[i : i + 2]
        has_vowel = any(c in _VOWELS for c in out)
        if pair in _DOUBLE and not (pair == "dd" and out):
            out.append(_DOUBLE[pair])
            i += 2
            continue
        if ch == "w":
            if out and out[-1] == "o" and len(out) >= 2 and out[-2] == "u":
                out[-2:] = ["ư", "ơ"]  # uow -> ươ
            elif out and out[-1] in _HORN:
                out[-1] = _HORN[out[-1]]
            elif len(out) >= 2 and out[-2] == "o" and out[-1] not in _VOWELS:
                out[-2] = "ơ"  # "ownf" typed as o-n-w is rare; keep the horn on o
            else:
                out.append("ư")
            i += 1
            continue
        if ch in _TONE_KEYS and has_vowel:
            if tone == _TONE_KEYS[ch]:
                tone = ""  # pressing the key twice undoes it and types the letter
                out.append(ch)
            else:
                tone = _TONE_KEYS[ch]
            i += 1
            continue
        if ch == "z" and has_vowel:
            tone = ""
            i += 1
            continue
        out.append(ch)
        i += 1
    text = place_tone("".join(out), tone)
    if word[:1].isupper():
        text = text[:1].upper() + text[1:]
    return text


def looks_like_telex(text: str) -> bool:
    """True when the text has keystroke clusters (vieetj, dduwowngf, hoaf)."""
    return bool(_TELEX_HINT.search(text))


def from_telex(text: str) -> str:
    """Decode every Latin-letter word of ``text`` from Telex keystrokes.

    Words already carrying Vietnamese letters, digits and punctuation pass through.
    """
    return _WORD.sub(lambda m: _decode_word(m.group()), text)
