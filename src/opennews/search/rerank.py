"""Second-stage ranking: side-by-side matches, checked on the top candidates only.

The index finds and scores candidates with term statistics; whether the query's
syllables also stand next to each other in the article (a headline or a quoted
sentence typed without quotes) is then checked on the folded text of the best
few hundred, by substring search — far cheaper than positional queries over
every posting, and it sees the whole article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from ..vietnamese import fold, normalize

__all__ = ["folded_words", "proximity"]

_WORD = re.compile(r"[^\W_]+")


def folded_words(text: str) -> str:
    """The text as folded syllables between single spaces, padded: " ha noi mua ... "."""
    return " " + " ".join(_WORD.findall(fold(normalize(text)))) + " "


def proximity(text: str, runs: Sequence[Sequence[str]]) -> float:
    """How much of the query stands side by side in ``text`` (from folded_words), 0..1.

    Each run is a sequence of folded syllables typed next to each other. Half the
    score is the share of neighbouring pairs found together, half the longest
    stretch of a run found verbatim.
    """
    pairs = found = 0
    longest = 0.0
    for run in runs:
        if len(run) < 2:
            continue
        pairs += len(run) - 1
        found += sum(1 for a, b in pairwise(run) if f" {a} {b} " in text)
        best = 1
        for size in range(len(run), 1, -1):
            if any(f" {' '.join(run[i : i + size])} " in text for i in range(len(run) - size + 1)):
                best = size
                break
        longest = max(longest, best / len(run))
    if not pairs:
        return 0.0
    return 0.5 * found / pairs + 0.5 * longest
