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

A block of a term found in more than one document in seven of its stretch is a
bitmap instead (:class:`Bitmap`): seven documents a character, which is smaller
than one character a gap, and read without a cumulative sum. The syllables of
every other article ("của", "và", "người") are such terms, and a query reads
their sets more than any other: at a million articles a set of 900,000 documents
took 6–16 ms as gaps. A term that dense is written in blocks of up to
:data:`DENSE_BLOCK` documents, so that each is one step in Python, not sixty.
"""

from __future__ import annotations

from array import array
from itertools import accumulate, pairwise
from typing import Any, NamedTuple

import numpy as np
from whoosh.reading import TermNotFound

from .whoosh_internals import (
    ListMatcher,
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
    block_payload,
    pack_ushort,
    whoosh_block_ids,
)

__all__ = [
    "INLINE_LIMIT",
    "Bitmap",
    "CompactTermInfo",
    "PackedCodec",
    "is_packed",
    "pack_ids",
    "unpack_block",
    "unpack_ids",
]

_DIGIT_BITS = 7
#: How many digits each gap takes, by the widest (the block's first character says which).
_WIDTHS = (1, 2, 3, 5)
#: The block's first number always takes this many.
_FIRST = 5
#: Blocks of up to this many numbers are read without numpy, whose cost per call dominates there.
_SMALL = 32
#: The first character of a bitmap block (a gap block's is its width, a digit).
_BITMAP = "b"
#: A term with more than one document in seven of its stretch is written in blocks of up to
#: this many documents (others in blocks of the codec's limit).
DENSE_BLOCK = 1 << 20


class Bitmap(NamedTuple):
    """A bitmap block: document ``first + k`` is in it when ``flags[k]`` is 1 (a byte each)."""

    first: int
    flags: np.ndarray

    def ids(self) -> np.ndarray:
        return np.flatnonzero(self.flags) + self.first


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
    """Ascending document numbers → width, first number, gaps (ASCII); or, where that is
    smaller, a bitmap: "b", first number, seven documents a character."""
    values = np.asarray(ids, dtype=np.int64)
    if len(values) == 0 or values[0] < 0 or values[-1] >> (_FIRST * _DIGIT_BITS):
        raise ValueError("a block holds document numbers from 0 to 2**35 - 1")
    gaps = np.diff(values)
    widest = int(gaps.max()) if len(gaps) else 0
    width = next(w for w in _WIDTHS if widest >> (w * _DIGIT_BITS) == 0)
    first = _digits(values[:1], _FIRST)
    chars = -(-(int(values[-1] - values[0]) + 1) // _DIGIT_BITS)
    if len(values) > _SMALL and chars < width * len(gaps):
        flags = np.zeros(chars * _DIGIT_BITS, dtype=np.uint8)
        flags[values - values[0]] = 1
        bitmap = np.packbits(flags.reshape(-1, _DIGIT_BITS), axis=1, bitorder="little")
        return (_BITMAP.encode() + first + bitmap.tobytes()).decode("ascii")
    return (str(width).encode() + first + _digits(gaps, width)).decode("ascii")


def _first(data: bytes) -> int:
    first = 0
    for i, digit in enumerate(data[1 : 1 + _FIRST]):
        first |= digit << (i * _DIGIT_BITS)
    return first


def _bitmap(block: str) -> Bitmap:
    data = block.encode("ascii")
    chars = np.frombuffer(data, dtype=np.uint8, offset=1 + _FIRST)
    flags = np.unpackbits(chars.reshape(-1, 1), axis=1, count=_DIGIT_BITS, bitorder="little")
    return Bitmap(_first(data), flags.reshape(-1))


def unpack_block(block: str) -> np.ndarray | Bitmap:
    """A block written by :func:`pack_ids`: its document numbers, or its bitmap."""
    return _bitmap(block) if block[:1] == _BITMAP else unpack_ids(block)


def unpack_ids(block: str) -> np.ndarray:
    """The document numbers of a block written by :func:`pack_ids`."""
    if block[:1] == _BITMAP:
        return _bitmap(block).ids()
    data = block.encode("ascii")
    width = data[0] - 0x30
    count = (len(data) - 1 - _FIRST) // width + 1
    first = _first(data)
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


#: Terms in at most this many documents keep their document numbers in the term table.
#: Measured on 10,000 articles of the shared corpus (index bytes per article, term table +
#: postings): 4 → 6,777, 16 → 6,107, 64 → 5,798, 256 → 5,616; a list that long is decoded
#: in Python at every look-up (~15 µs for 64), so the gain stops being worth it there.
INLINE_LIMIT = 64
_ONE = array("f", [1.0])
_PLAIN = 0x10  # a term info's first byte: the compact encoding (W3's own starts with 0 or 1)
_INLINED = 0x01


def _varints(values: list[int]) -> bytes:
    out = bytearray()
    for v in values:
        while v > 0x7F:
            out.append(v & 0x7F | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _read_varints(data: bytes, at: int, count: int | None = None) -> list[int]:
    out: list[int] = []
    value = shift = 0
    for byte in data[at:]:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        out.append(value)
        if len(out) == count:
            break
        value = shift = 0
    return out


def _inlined_info(ids: list[int]) -> bytes:
    """The compact term info of a term in these few (ascending) documents."""
    return bytes((_PLAIN | _INLINED,)) + _varints([len(ids), ids[0], *(b - a for a, b in pairwise(ids))])


class CompactTermInfo(W3TermInfo):
    """A term info in a few bytes, with small posting lists inside it.

    W3's term info is 35 bytes (weight, frequencies, lengths, ids, offset, as fixed-width
    numbers), and Whoosh never inlines postings (W3PostingsWriter.finish_postings calls a
    ``set_inline`` that W3TermInfo does not have, so it is only kept from doing so by the
    default limit of one). Here a term of a set field — every weight 1, no lengths, which is
    every field of schema.py — is a flag byte and variable-length numbers: its document
    frequency and first and last document, then either its extent in the postings file or,
    for up to :data:`INLINE_LIMIT` documents, the documents themselves. Most terms are
    syllable pairs found in one article (55% on the shared corpus, 78% in four or fewer),
    for which the postings file held a block of some 45 bytes of headers (with W3's term
    info, 156 bytes a term on disk, against some 50 now). Any other term
    info is written as W3 writes it.
    """

    def plain(self) -> bool:
        return (
            self._minid is not None
            and self._weight == self._df
            and self._maxweight <= 1.0
            and not self._maxlength
            and not self._minlength
        )

    def to_bytes(self) -> bytes:
        if not self.plain():
            return W3TermInfo.to_bytes(self)
        minid, maxid = int(self._minid), int(self._maxid)
        if self._inlined is not None:
            return _inlined_info([int(n) for n in self._inlined[0]])
        return bytes((_PLAIN,)) + _varints([self._df, minid, maxid - minid, self._offset, self._length])

    @classmethod
    def from_bytes(cls, s: bytes) -> CompactTermInfo:
        flags = s[0]
        if not flags & _PLAIN:
            return W3TermInfo.from_bytes.__func__(cls, s)  # type: ignore[attr-defined, no-any-return]
        info = cls()
        if flags & _INLINED:
            df, *ids = _read_varints(s, 1)
            for i in range(1, len(ids)):
                ids[i] += ids[i - 1]
            info._inlined = (tuple(ids), None, None)
            info._minid, info._maxid = ids[0], ids[-1]
        else:
            df, minid, span, info._offset, info._length = _read_varints(s, 1, 5)
            info._minid, info._maxid = minid, minid + span
        info._df = df
        info._weight = float(df)
        info._maxweight = 1.0
        info._minlength = info._maxlength = 0
        return info

    @staticmethod
    def doc_frequency_of(s: bytes) -> int:
        if s[0] & _PLAIN:
            return _read_varints(s, 1, 1)[0]
        return W3TermInfo.from_bytes(s).doc_frequency()  # type: ignore[no-any-return]


class PackedPostingsWriter(W3PostingsWriter):
    def _mini_ids(self) -> Any:
        if self._byteids:  # term vectors: terms, not document numbers
            return super()._mini_ids()
        return pack_ids(self._ids)

    def add_ids(self, ids: np.ndarray) -> None:
        """A term's ascending document numbers at once (every weight 1, no values), a block
        at a time: what the term pool gives, without a call per posting. A dense term's
        blocks are bitmaps of up to :data:`DENSE_BLOCK` documents."""
        limit = self._blocklimit
        if len(ids) > _SMALL and (int(ids[-1]) - int(ids[0]) + 1) < _DIGIT_BITS * len(ids):
            limit = max(limit, DENSE_BLOCK)
        for start in range(0, len(ids), limit):
            if self._ids:
                self._write_block()
            chunk = ids[start : start + limit].tolist()
            self._ids = chunk
            self._weights = _ONE * len(chunk)
            self._maxweight = 1.0

    def finish_postings(self) -> Any:
        terminfo = self._terminfo
        small = not self.written() and 0 < len(self._ids) <= INLINE_LIMIT
        if small and not self._byteids and not self._values and isinstance(terminfo, CompactTermInfo):
            terminfo.add_block(self)
            if terminfo.plain():
                terminfo._inlined = (tuple(self._ids), None, None)
                self._terminfo = None
                return terminfo
            terminfo.__init__()  # not a set field's term: written as W3 writes it
        return super().finish_postings()


class PackedLeafMatcher(W3LeafMatcher):
    def _read_ids(self) -> None:
        ids = block_payload(self)
        if is_packed(ids):
            self._ids = unpack_ids(ids).tolist()
        else:
            super()._read_ids()

    def block_docs(self) -> np.ndarray | Bitmap:
        """The current block's document numbers, or its bitmap (what whoosh_internals.leaf_blocks reads)."""
        ids = block_payload(self)
        return unpack_block(ids) if is_packed(ids) else whoosh_block_ids(self)


class PackedFieldWriter(W3FieldWriter):
    """W3's field writer, with compact term infos, and each term of a
    :class:`~opennews.search.termpool.TermPool` written whole."""

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._postwriter.start_postings(self._fieldobj.format, CompactTermInfo())

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        terms = getattr(items, "terms", None)
        if terms is None:
            super().add_postings(schema, lengths, items)
            return
        field = None
        add = self._tindex.add
        prefix = b""
        for fieldname, btext, ids in terms():
            if fieldname != field:
                if field is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                field, prefix = fieldname, pack_ushort(self._fieldid)
            if len(ids) <= INLINE_LIMIT:  # most terms: no term info object, no postings writer
                add(prefix + btext, _inlined_info(ids.tolist()))
                continue
            self.start_term(btext)
            self._postwriter.add_ids(ids)
            self.finish_term()
        if field is not None:
            self.finish_field()


class CompactTermsReader(W3TermsReader):
    """W3's terms reader, for :class:`CompactTermInfo` values."""

    def items(self) -> Any:
        decode, key = CompactTermInfo.from_bytes, self._keydecoder
        return ((key(k), decode(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname: str, prefix: bytes) -> Any:
        decode, key = CompactTermInfo.from_bytes, self._keydecoder
        return ((key(k), decode(v)) for k, v in self._tindex.items_from(self._keycoder(fieldname, prefix)))

    def term_info(self, fieldname: str, tbytes: bytes) -> CompactTermInfo:
        try:
            return CompactTermInfo.from_bytes(self._tindex[self._keycoder(fieldname, tbytes)])
        except KeyError:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        return float(self.doc_frequency(fieldname, tbytes))  # every weight is 1 in a set field

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        return CompactTermInfo.doc_frequency_of(self._tindex[self._keycoder(fieldname, tbytes)])

    def cursor(self, fieldname: str, fieldobj: Any) -> Any:
        return _Cursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)


class _Cursor(W3FieldCursor):
    def term_info(self) -> CompactTermInfo | None:
        if self._pos is None:
            return None
        return CompactTermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class PackedCodec(W3Codec):
    """The W3 codec with packed document numbers in posting blocks and compact term infos."""

    def field_writer(self, storage: Any, segment: Any) -> PackedFieldWriter:
        return PackedFieldWriter(self, storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> CompactTermsReader:
        tiname = segment.make_filename(self.TERMS_EXT)
        terms = storage.open_file(tiname)
        postings = segment.open_file(storage, self.POSTS_EXT)
        return CompactTermsReader(self, terms, storage.file_length(tiname), postings)

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
            ids, weights, values = terminfo.inlined_postings()
            return ListMatcher(list(ids), weights, values, format_, scorer=scorer, term=term, terminfo=terminfo)
        offset, length = terminfo.extent()
        return PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)
