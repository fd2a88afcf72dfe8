"""The index schema and how an archived record becomes an index document.

Every text field is a set of terms per document (Whoosh's ``Existence`` format:
no frequencies, no positions, no lengths), because the index is only asked
which documents hold a term (see docsets.py); how well a document matches is
judged afterwards on its stored text, for the few dozen candidates that
matter. That keeps postings small and indexing fast.

* ``all_f`` — the folded syllables of the whole article (title, lead, body):
  every query syllable must be here;
* ``all_bi`` — its folded syllable pairs: a sentence typed without quotes or
  marks finds its article through pairs that are rare even when its syllables
  are not;
* ``title``/``title_f``/``title_bi`` and ``sapo_f``/``sapo_bi`` — exact, folded
  and paired forms of the headline and lead, which rank those matches first;
* ``front_xbi`` — the syllable pairs of the headline and lead as written
  ("khóa_học"): which reading of a folded pair an article is about, so that
  the few articles holding a rare reading reach the second stage (pairs as
  written across the whole article would grow the index by a third);
* ``text`` — a column (not a stored field: those are pickled and zlib-compressed
  together, slow to read for every shortlisted article): the article's
  syllables, exact and folded, for the second stage (term counts, exact forms,
  words side by side).

Source, category, author and year are filters and facets, ``published`` sorts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any, AnyStr

import lz4.block
import numpy as np
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, NUMERIC, STORED, Schema

from ..vietnamese import VN_TZ, fold, normalize
from ..vietnamese.text import fold_table
from .analysis import (
    BREAK,
    bigram_analyzer,
    cut,
    exact_analyzer,
    exact_bigram_analyzer,
    fold_syllable,
    folded_analyzer,
    pairs,
    syllables,
)

__all__ = [
    "SCHEMA_VERSION",
    "StoredText",
    "TermSet",
    "build_schema",
    "category_key",
    "document_for",
    "epoch",
    "padded_places",
]

#: Changes with the index's format (12: bitmap posting blocks, which older code cannot read).
SCHEMA_VERSION = 12


class TermSet(ID):  # type: ignore[misc]
    """A field of terms, indexed from the set of them when it is given one.

    :func:`document_for` cuts an article's title, lead and body once and works out every
    field's terms from those cuts; analysing the text again per field (six analyses of
    the same words) was a third of the indexing time. Text is still analysed by the
    field's analyzer, which gives the same terms (tests/test_schema_terms.py).
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        if isinstance(value, set | frozenset):
            return ((text.encode("utf-8"), 1, 1.0, b"") for text in value)
        return super().index(value, **kwargs)


def build_schema() -> Schema:
    def terms(analyzer: Any) -> TermSet:
        return TermSet(analyzer=analyzer)

    return Schema(
        id=ID(stored=True, unique=True),
        content_hash=STORED(),
        source=ID(),
        category=ID(),
        category_key=ID(),
        author=terms(folded_analyzer()),
        published=NUMERIC(numtype=int, bits=64, sortable=True, signed=True),
        year=ID(),
        all_f=terms(folded_analyzer()),
        all_bi=terms(bigram_analyzer()),
        title=terms(exact_analyzer()),
        title_f=terms(folded_analyzer()),
        title_bi=terms(bigram_analyzer()),
        sapo_f=terms(folded_analyzer()),
        sapo_bi=terms(bigram_analyzer()),
        front_xbi=terms(exact_bigram_analyzer()),
        text=COLUMN(VarBytesColumn()),
    )


#: LZ4's high-compression mode: the same decoding (2.5 µs an article), 14% smaller on the
#: shared corpus; level 9 costs ~0.1 ms an article to write (the default mode 0.02 ms,
#: level 12 0.24 ms for 1% less).
_LZ4: dict[str, Any] = {"mode": "high_compression", "compression": 9}
#: The stored text's header: flags, then the byte length of each part, three exact then three
#: folded (with ``_DERIVED``, the folded parts are made from the exact ones: see StoredText).
_HEADER = struct.Struct("<B6I")
_DERIVED = 1


@lru_cache(maxsize=1)
def _ascii_fold() -> np.ndarray:
    """UTF-16 code unit → the ASCII letter it folds to (itself when ASCII; 0xFF, which no
    ASCII text holds, when its fold is not one ASCII character)."""
    units = np.full(0x10000, 0xFF, dtype=np.uint8)
    units[:0x80] = np.arange(0x80, dtype=np.uint8)
    for cp, base in fold_table().items():
        if cp < 0x10000 and base is not None and len(base) == 1 and base.isascii():
            units[cp] = ord(base)
    return units


class StoredText:
    """An article as the second stage reads it: " syl syl syl " strings per part.

    Spaces pad every syllable, so " ha noi " in ``folded[2]`` is a side-by-side
    match (punctuation doesn't separate: people copy across it). A paragraph
    break stands as " \n " (analysis.BREAK): it is no syllable, and nothing
    side by side runs across it.

    It is read for every shortlisted article of every search, so its encoding is
    chosen for decoding speed: LZ4 (a few microseconds, where zlib took ~27 µs
    per article), the exact form in UTF-16 (decoding Vietnamese from UTF-8 took
    ~10 µs, from UTF-16 ~2 µs), and the parts' lengths up front so that nothing is
    searched or split. The folded form is not stored when every character of the
    exact one folds to one ASCII character (all but 0.2% of the shared corpus's
    articles): a table look-up per UTF-16 unit makes it from the exact form's bytes
    (~2.6 µs more per article than reading it stored), and leaving it out takes 43% off
    the stored text (3,224 → 1,848 bytes an article on the shared corpus), the largest
    part of the index.
    """

    __slots__ = ("exact", "folded")

    def __init__(self, exact: list[str], folded: list[str]) -> None:
        self.exact = exact
        self.folded = folded

    @classmethod
    def from_cuts(cls, cuts: list[list[str]]) -> StoredText:
        """From analysis.cut() of the title, the lead and the body."""
        exact = []
        for words in cuts:
            kept: list[str] = []
            for w in words:  # one break between paragraphs, none before the first or after the last
                if w != BREAK:
                    kept.append(w)
                elif kept and kept[-1] != BREAK:
                    kept.append(BREAK)
            if kept and kept[-1] == BREAK:
                kept.pop()
            exact.append(kept)
        return cls(
            [" " + " ".join(words) + " " for words in exact],
            [" " + " ".join(map(fold_syllable, words)) + " " for words in exact],
        )

    @staticmethod
    def length(part: str) -> int:
        """Syllables in a stored part (its padding spaces, less one, less its breaks)."""
        return max(0, part.count(" ") - 1 - part.count(BREAK)) if part.strip() else 0

    def encode(self) -> bytes:
        # No lone surrogates to fear: every text is clean()ed on its way in.
        exact = [p.encode("utf-16-le") for p in self.exact]
        folded = [p.encode("utf-8") for p in self.folded]
        written = b"".join(exact)
        if _fold_units(written) == b"".join(folded):
            header = _HEADER.pack(_DERIVED, *map(len, exact), *map(len, folded))
            return lz4.block.compress(header + written, **_LZ4)
        header = _HEADER.pack(0, *map(len, exact), *map(len, folded))
        return lz4.block.compress(header + written + b"".join(folded), **_LZ4)

    @classmethod
    def decode(cls, stored: bytes) -> StoredText:
        raw = memoryview(lz4.block.decompress(stored))
        return cls(_parts(raw, 0, 3), _parts(raw, 3, 6))

    @staticmethod
    def folded_of(stored: bytes) -> list[str]:
        """Only the folded parts: a quoted phrase is checked in thousands of articles
        (matching.in_sequence), and the written form is not needed there."""
        return _parts(memoryview(lz4.block.decompress(stored)), 3, 6)

    @staticmethod
    def exact_of(stored: bytes) -> list[str]:
        """Only the parts as written (counting which written form of a pair articles use)."""
        return _parts(memoryview(lz4.block.decompress(stored)), 0, 3)

    @staticmethod
    def written_at(stored: bytes, needle: str) -> list[str] | None:
        """The written form of each place where the folded text holds ``needle`` (" phu nhan ",
        padded), reading only those places of the written text; None where the folded parts
        are stored rather than derived (or the needle is not ASCII): decode() those.

        Which written form of a pair articles use is counted in hundreds of articles for a
        query typed without marks. Decoding each whole article as text took more than half
        of that count. The folded bytes are searched at once, unit for unit, and the places
        found are then read in the UTF-16 bytes. Searching the parts joined finds what
        searching them one by one finds: the padding makes two spaces between them, and a
        needle has one between its syllables.
        """
        raw = memoryview(lz4.block.decompress(stored))
        flags, *lengths = _HEADER.unpack_from(raw)
        if not flags & _DERIVED or not needle.isascii():
            return None
        exact = raw[_HEADER.size : _HEADER.size + sum(lengths[:3])]
        wanted = needle.encode("ascii")
        return [
            str(exact[2 * (at + 1) : 2 * (at + len(wanted) - 1)], "utf-16-le")
            for at in padded_places(_fold_units(exact), wanted)
        ]


def padded_places(text: AnyStr, needle: AnyStr) -> Iterator[int]:
    """Where ``needle`` (padded with spaces) stands in ``text`` (a stored part, or folded
    bytes). Two uses side by side ("... phủ nhận phủ nhận ...") share a space; both are found."""
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + len(needle) - 1)


def _fold_units(exact: bytes | memoryview) -> bytes:
    """UTF-16 text folded one code unit to one ASCII byte (0xFF where that cannot be)."""
    return _ascii_fold().take(np.frombuffer(exact, dtype="<u2")).tobytes()


def _parts(raw: memoryview, first: int, end: int) -> list[str]:
    """Parts ``first`` to ``end`` of a decompressed StoredText (three written, then three
    folded), decoding only those."""
    flags, *lengths = _HEADER.unpack_from(raw)
    if first >= 3 and flags & _DERIVED:  # one ASCII byte per UTF-16 unit of the exact parts
        folded = _fold_units(raw[_HEADER.size : _HEADER.size + sum(lengths[:3])])
        at = sum(lengths[3:first])
        parts = []
        for n in lengths[first:end]:
            parts.append(folded[at : at + n].decode("ascii"))
            at += n
        return parts
    at = _HEADER.size + sum(lengths[:first])
    parts = []
    for i in range(first, end):
        n = lengths[i]
        parts.append(str(raw[at : at + n], "utf-16-le" if i < 3 else "utf-8"))
        at += n
    return parts


def category_key(label: str) -> str:
    """Categories match whatever the accents or case: "the thao" finds "Thể thao"."""
    return " ".join(fold(normalize(label)).split())


def epoch(value: str | None) -> int | None:
    """Seconds since 1970 for a record's date (a date alone counts from midnight, Vietnam time)."""
    if not value:
        return None
    if len(value) == 10:
        d = date.fromisoformat(value)
        return int(datetime(d.year, d.month, d.day, tzinfo=VN_TZ).timestamp())
    return int(datetime.fromisoformat(value).timestamp())


def document_for(record: dict[str, Any]) -> dict[str, Any]:
    """The index document for one archived record (a dict in the dump format)."""
    doc: dict[str, Any] = {
        "id": record["id"],
        "content_hash": record["content_hash"],
        "source": record["source"],
        "year": (record.get("published") or "")[:4] or "undated",
    }
    if record.get("category"):
        doc["category"] = record["category"]
        doc["category_key"] = category_key(record["category"])
    if record.get("author"):
        doc["author"] = record["author"]
    when = epoch(record.get("published"))
    if when is not None:
        doc["published"] = when
    title, sapo, body = record.get("title") or "", record.get("sapo") or "", record.get("body") or ""
    if sapo and body.startswith(sapo):
        body = body[len(sapo) :].lstrip()  # a lead repeated as the first paragraph would count twice
    # Each part is cut once, and every field's terms come from the cuts: no pair runs
    # from one part into the next, or across a paragraph break.
    cuts = [cut(title), cut(sapo), cut(body)]
    folded = [[fold_syllable(w) for w in words] for words in cuts]
    doc["all_f"] = set().union(*map(syllables, folded))
    doc["all_bi"] = set().union(*map(pairs, folded))
    doc["title"] = syllables(cuts[0])
    doc["title_f"] = syllables(folded[0])
    doc["title_bi"] = pairs(folded[0])
    if sapo:
        doc["sapo_f"] = syllables(folded[1])
        doc["sapo_bi"] = pairs(folded[1])
    doc["front_xbi"] = pairs(cuts[0]) | pairs(cuts[1])
    doc["text"] = StoredText.from_cuts(cuts).encode()
    return doc
