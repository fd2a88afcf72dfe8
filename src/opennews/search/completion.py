"""Completing a query while it is typed, from the index's vocabulary.

The whole syllables typed are read as the vocabulary reads them (an unmarked one in
its likeliest accented form, a marked one only as itself), and the last, partial
syllable is completed from the pairs that start with the syllable before it ("ha no"
→ "hà nội"), or from single syllables when it is the first. A completion then grows
by the syllable that usually follows it, if one does ("tai nan g" → "tai nạn giao
thông"); a syllable ended by a space is not guessed past. Every step is a look-up
by folded key or a bounded range scan of one, so the work does not grow with the
archive.
"""

from __future__ import annotations

import math
import unicodedata

from ..vietnamese import fold, has_marks, normalize, syllables
from .vocabulary import Vocabulary

__all__ = ["complete"]

_SCAN = 2000  # rows of one key range looked at, at most: a prefix such as "c" alone spans many
_ROWS = 40  # best rows kept from one range
_ENDS = 3  # readings of the whole words whose continuations are looked up
# A syllable is added after the completed one when it follows at least a quarter of that
# one's uses and half again as often as the runner-up: on 5,000 articles of the shared
# corpus "giao" goes on to "thông" 80 times of 243 (then "dịch" 41), while "hiệu" spreads
# over "quả" 55, "trưởng" 35. One syllable only: without counts of triples, a second step
# drifts ("giao thông tin").
_SHARE = 0.25
_LEAD = 1.5
_RARE = 100  # a candidate seen this many times less often than the best is a typo or a missing space
_WORDS = 8  # longer queries are sentences, not something being typed into a box
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def complete(vocab: Vocabulary, query: str, limit: int = 5) -> list[str]:
    """Up to ``limit`` readings of ``query`` with its last syllable completed, likeliest first."""
    words = syllables(normalize(query))
    if not words or len(words) > _WORDS or limit <= 0:
        return []
    if query[-1:].isspace() or words[-1].isdigit():
        return []  # nothing partial: guessing the next word from one pair drifts ("đèn tín hiệu quả")
    whole, partial = words[:-1], words[-1]
    candidates: list[tuple[float, int, list[str]]] = []
    if whole:
        ends = sorted(vocab.readings(whole).items(), key=lambda x: -x[1][0])[:_ENDS]
        for form, (score, path) in ends:
            if form.isdigit() or not vocab.supports(path):
                continue  # a reading no headline or lead has is no completion either
            for exact, n in vocab.starting("bigrams", f"{fold(form)} {fold(partial)}", _SCAN, _ROWS):
                first, _, second = exact.partition(" ")
                if first == form and _fits(second, partial):
                    candidates.append((score + 4.0 * math.log1p(n), n, [*path, second]))
    else:
        for exact, n in vocab.starting("unigrams", fold(partial), _SCAN, _ROWS):
            if _fits(exact, partial):
                candidates.append((math.log1p(n), n, [exact]))
    candidates.sort(key=lambda x: -x[0])
    most = max((n for _, n, _ in candidates), default=0)
    found: list[str] = []
    for _, n, path in candidates:
        if n * _RARE < most:
            continue
        for reading in (" ".join(_extend(vocab, path)), " ".join(path)):
            if reading not in found:
                found.append(reading)
        if len(found) >= limit:
            break
    return found[:limit]


def _extend(vocab: Vocabulary, path: list[str]) -> list[str]:
    """``path`` with the syllable that usually follows its last one, if one does."""
    last = path[-1]
    rows = vocab.starting("bigrams", f"{fold(last)} ", _SCAN, _ROWS)
    following = [(exact.partition(" ")[2], n) for exact, n in rows if exact.partition(" ")[0] == last]
    if not following:
        return path
    word, n = following[0]
    runner_up = following[1][1] if len(following) > 1 else 0
    if n < 2 or n < _SHARE * vocab.count(last) or n < _LEAD * runner_up or word in path:
        return path
    return [*path, word]


def _fits(form: str, partial: str) -> bool:
    """Whether ``form`` can be what ``partial`` becomes (the folds already agree).

    Marks typed must be there; where the tone sits is ignored, since it moves as the
    syllable grows ("hò" → "hoàn").
    """
    if not has_marks(partial):
        return True
    form_base, form_tones = _split(form)
    base, tones = _split(partial)
    return form_base.startswith(base) and tones <= form_tones


def _split(word: str) -> tuple[str, set[str]]:
    decomposed = unicodedata.normalize("NFD", word)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base, {c for c in decomposed if c in _TONES}
