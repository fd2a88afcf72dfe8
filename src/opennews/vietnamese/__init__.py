"""Pure text functions for Vietnamese: no I/O, no Whoosh, nothing of ours below it.

Ingest, index and query all call these, so the three agree on what a word is.
"""

from .bidi import balance_bidi, isolate, needs_isolation, strip_bidi
from .dates import VN_TZ, parse_datetime, to_vietnam
from .syllables import Token, syllables, tokenize
from .telex import from_telex, looks_like_telex, place_tone
from .text import clean, compose, fold, has_marks, is_combining, normalize, strip_controls
from .tones import TONE_STYLES, ToneStyle, canonical_tones, place_tones

__all__ = [
    "TONE_STYLES",
    "VN_TZ",
    "Token",
    "ToneStyle",
    "balance_bidi",
    "canonical_tones",
    "clean",
    "compose",
    "fold",
    "from_telex",
    "has_marks",
    "is_combining",
    "isolate",
    "looks_like_telex",
    "needs_isolation",
    "normalize",
    "parse_datetime",
    "place_tone",
    "place_tones",
    "strip_bidi",
    "strip_controls",
    "syllables",
    "to_vietnam",
    "tokenize",
]
