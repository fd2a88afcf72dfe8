"""Posting blocks whose document numbers are one packed string.

Whoosh's W3 codec pickles a block's document numbers as a tuple of Python ints
(delta-encoded). Reading a block back builds a thousand int objects, which numpy
then copies into an array: most of what reading a term's set cost, and a query
whose words are not among the kept sets (docsets.py) reads dozens of blocks.
Here a block holds them as the first number and the gaps after it, each in as
many base-128 digits as the widest gap needs, so reading is ``np.frombuffer``,
a shift or two and a cumulative sum. Everything else about the W3 format (block
headers, term infos, columns, stored fields, vectors) is Whoosh's own, and
Whoosh's matchers read these blocks too.

The digits are ASCII characters and the block a ``str``: Whoosh pickles blocks
with protocol 2, which writes a string as its UTF-8 text (here, one byte a
digit) but bytes through a Latin-1 string, a reduce of some 40 bytes plus a
second byte for every byte above 0x7F. Most terms have a block of a few numbers.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import numpy as np

from .whoosh_internals import W3Codec, W3LeafMatcher, W3PostingsWriter, block_payload, whoosh_block_ids

__all__ = ["PackedCodec", "is_packed", "pack_ids", "unpack_ids"]

_DIGIT_BITS = 7
#: How many digits each gap takes, by the widest (the block's first character says which).
_WIDTHS = (1, 2, 3, 5)
#: The block's first number always takes this many.
_FIRST = 5
#: Blocks of up to this many numbers are read without numpy, whose cost per call dominates there.
_SMALL = 32


def _digits(values: np.ndarray, width: int) -> bytes:
    shifts = np.arange(width, dtype=np.int64) * _DIGIT_BITS
    return ((values[:, None] >> shifts) & 0x7F).astype(np.uint8).tobytes()


def _numbers(digits: np.ndarray, width: int) -> np.ndarray:
    columns = digits.reshape(-1, width)
    out = columns[:, 0].astype(np.int64)
    for i in range(1, width):
        out |= columns[:, i].astype(np.int64) << (i * _DIGIT_BITS)
    return out


def pack_ids(ids: Any) -> str:
    """Ascending document numbers → width, first number, gaps (ASCII)."""
    values = np.asarray(ids, dtype=np.int64)
    if len(values) == 0 or values[0] < 0 or values[-1] >> (_FIRST * _DIGIT_BITS):
        raise ValueError("a block holds document numbers from 0 to 2**35 - 1")
    gaps = np.diff(values)
    widest = int(gaps.max()) if len(gaps) else 0
    width = next(w for w in _WIDTHS if widest >> (w * _DIGIT_BITS) == 0)
    return (str(width).encode() + _digits(values[:1], _FIRST) + _digits(gaps, width)).decode("ascii")


def unpack_ids(block: str) -> np.ndarray:
    """The document numbers of a block written by :func:`pack_ids`."""
    data = block.encode("ascii")
    width = data[0] - 0x30
    count = (len(data) - 1 - _FIRST) // width + 1
    first = 0
    for i, digit in enumerate(data[1 : 1 + _FIRST]):
        first |= digit << (i * _DIGIT_BITS)
    if count <= _SMALL:
        digits = data[1 + _FIRST :]
        gaps = list(digits[::width])
        for i in range(1, width):
            gaps = [gap | digit << (i * _DIGIT_BITS) for gap, digit in zip(gaps, digits[i::width], strict=True)]
        return np.array(list(accumulate(gaps, initial=first)), dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    out[0] = first
    out[1:] = _numbers(np.frombuffer(data, dtype=np.uint8, offset=1 + _FIRST), width)
    return np.cumsum(out, out=out)


def is_packed(block_ids: Any) -> bool:
    """Written by :func:`pack_ids` (Whoosh's own blocks hold a tuple)."""
    return isinstance(block_ids, str)


class PackedPostingsWriter(W3PostingsWriter):
    def _mini_ids(self) -> Any:
        if self._byteids:  # term vectors: terms, not document numbers
            return super()._mini_ids()
        return pack_ids(self._ids)


class PackedLeafMatcher(W3LeafMatcher):
    def _read_ids(self) -> None:
        ids = block_payload(self)
        if is_packed(ids):
            self._ids = unpack_ids(ids).tolist()
        else:
            super()._read_ids()

    def block_ids(self) -> np.ndarray:
        """The current block's document numbers, in either format (what whoosh_internals.leaf_ids reads)."""
        ids = block_payload(self)
        return unpack_ids(ids) if is_packed(ids) else whoosh_block_ids(self)


class PackedCodec(W3Codec):
    """The W3 codec with packed document numbers in posting blocks."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return PackedPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)
