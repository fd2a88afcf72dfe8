"""Sets of documents as Python integers: the boolean half of every query.

Bit *n* of an integer stands for document *n* of the index (global numbering
across segments). Intersections, unions, exclusions and counts are then single
C-level operations on ~11 kB integers for a 90,000-article archive, whatever
the syllables' frequencies: "của" (in nine articles of ten) costs what "Điện
Biên" costs once its set is read, and sets of frequent terms are kept.

Whoosh walks postings one document at a time in Python, so an intersection of
common syllables, a facet count over 40,000 matches or a date range costs
hundreds of milliseconds there; here the postings of a term are read block by
block once (numpy turns the block's ids into bits), and everything after that
is arithmetic. Ranking then only has to look at a few dozen documents.

:class:`Tally` adds weighted features bit-sliced (one integer per bit of the
running sum), so "the documents whose summed weight reaches T" is also a handful
of integer operations; :meth:`Tally.top` finds the T that keeps about k.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from whoosh.reading import TermNotFound

from ..caches import SizedLRU
from .postings import Bitmap
from .whoosh_internals import deleted_docs as _deleted
from .whoosh_internals import leaf_blocks as _leaf_blocks
from .whoosh_internals import term_postings as _term_postings

__all__ = ["DocSets", "Tally", "ids_of"]

#: Sets of terms found in more documents than this are kept between queries.
CACHE_MIN_DF = 256
CACHE_SIZE = 4096
#: ... and at most this many bytes of them: a set takes up to an eighth of a byte per document
#: of the index (11 kB at 90,000 articles, where all 4,096 fit in 45 MB; 125 kB at a million,
#: where some 2,000 do), so a count alone would let a serving worker grow with the archive.
#: At a million, with 128 MB kept, the 480 dev queries read 1,586 sets of terms in more than
#: 131,072 articles (2–7 ms each), where 630 distinct ones would do; with 256 MB, 998, and the
#: whole run took 12% less (34.6–35.6 s against 30.7 s; p95 140–145 ms against 125).
CACHE_BYTES = 256 << 20
#: Document frequencies kept between queries (idf and the order of intersections ask often).
FREQUENCIES = 1 << 16


def _bits(ids: np.ndarray, size: int) -> int:
    return _bits_of([(0, ids)], size)[0]


def _bits_of(blocks: list[tuple[int, np.ndarray | Bitmap]], size: int) -> tuple[int, int]:
    """The set of a term's posting blocks (:meth:`DocSets._blocks`), and how many documents
    they hold. A bitmap is copied in whole, where numbers are set one by one."""
    if not blocks:
        return 0, 0
    flags = np.zeros(size + 8, dtype=np.uint8)
    held = 0
    for offset, block in blocks:
        if isinstance(block, Bitmap):
            start = offset + block.first
            stretch = block.flags[: len(flags) - start]  # the last character's padding may run past the end
            flags[start : start + len(stretch)] |= stretch
            held += int(np.count_nonzero(stretch))
        else:
            flags[block + offset if offset else block] = 1
            held += len(block)
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little"), held


def _bytes(bits: int) -> int:
    return (bits.bit_length() + 7) // 8


def ids_of(bits: int) -> np.ndarray:
    """The document numbers in a set, ascending."""
    if not bits:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), dtype=np.uint8)
    # As booleans, nonzero() takes a path several times faster than over bytes.
    return np.flatnonzero(np.unpackbits(raw, bitorder="little").view(np.bool_))


class DocSets:
    """Document sets read from one open Whoosh searcher (rebuilt when it is reopened)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.leaves: list[tuple[Any, int]] = list(reader.leaf_readers())
        self.size = reader.doc_count_all()
        self.all = (1 << self.size) - 1
        deleted = [offset + n for leaf, offset in self.leaves if leaf.has_deletions() for n in _deleted(leaf)]
        self.live = self.all & ~_bits(np.asarray(deleted, dtype=np.int64), self.size) if deleted else self.all
        #: The documents not in ``live`` (deleted, hidden), ascending: few, to filter ids with.
        self._dead = np.unique(np.asarray(deleted, dtype=np.int64))
        self._cache: SizedLRU[tuple[str, str], int] = SizedLRU(_bytes)
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, int]] = {}
        self._codes: dict[str, tuple[list[str], np.ndarray] | None] = {}
        self._published: np.ndarray | None = None
        self._frequencies: dict[tuple[str, str], int] = {}

    def hide(self, ids: Iterable[str]) -> None:
        """Leave the documents of these article ids out of every set from now on (articles
        withdrawn since the index was written, until the indexer deletes them)."""
        mask = 0
        for article_id in ids:
            mask |= self.term("id", article_id)
        if mask:
            with self._lock:
                self.live &= ~mask
                self._dead = np.union1d(self._dead, ids_of(mask))
                # Each kept set is its postings & live: masking it is what reading it again
                # would give, and keeps it (a new generation's replayed sets among them).
                self._cache.update_all(lambda bits: bits & ~mask)

    def doc_frequency(self, field: str, text: str) -> int:
        key = (field, text)
        found = self._frequencies.get(key)
        if found is None:
            found = int(self.searcher.reader().doc_frequency(field, text))
            if len(self._frequencies) >= FREQUENCIES:
                self._frequencies.clear()  # a cheap bound: queries soon refill what they use
            self._frequencies[key] = found
        return found

    def term(self, field: str, text: str) -> int:
        """The live documents containing ``text`` in ``field``."""
        key = (field, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                return found
        bits, df = _bits_of(self._blocks(field, text), self.size)
        bits &= self.live
        if df >= CACHE_MIN_DF:
            with self._lock:
                self._cache.put(key, bits, entries=CACHE_SIZE, max_bytes=CACHE_BYTES)
        return bits

    def ids(self, field: str, text: str) -> np.ndarray:
        """The live documents containing ``text`` in ``field``, ascending, without making
        their set (unless it is kept): for a sample of them, where the set's bits would
        cost an eighth of a byte per document of the index."""
        with self._lock:
            found = self._cache.get((field, text))
        if found is not None:
            return ids_of(found)
        postings = self._postings(field, text)
        dead = self._dead
        return postings[~np.isin(postings, dead)] if len(dead) and len(postings) else postings

    def _blocks(self, field: str, text: str) -> list[tuple[int, np.ndarray | Bitmap]]:
        """The term's posting blocks in every segment (deleted documents too: the callers mask
        them), ascending, each with the number of its segment's first document."""
        out: list[tuple[int, np.ndarray | Bitmap]] = []
        for leaf, offset in self.leaves:
            try:
                postings = _term_postings(leaf, field, text)  # one look-up, where asking first would be two
            except TermNotFound:
                continue
            for block in _leaf_blocks(postings):
                # Already an array, unless walked the slow way.
                out.append((offset, block if isinstance(block, Bitmap) else np.asarray(block, dtype=np.int64)))
        return out

    def _postings(self, field: str, text: str) -> np.ndarray:
        """Every document of the index holding the term (deleted ones too), ascending."""
        parts = [
            (block.ids() if isinstance(block, Bitmap) else block) + offset
            for offset, block in self._blocks(field, text)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def hot(self) -> list[tuple[str, str]]:
        """The (field, text) keys of the kept sets, the most recently used first."""
        with self._lock:
            return self._cache.keys_by_use()

    def replay(self, keys: Iterable[tuple[str, str]], deadline: float, *, turn: Any = None) -> int:
        """Read the sets and document frequencies of ``keys`` (another generation's :meth:`hot`),
        in order, until ``time.monotonic()`` reaches ``deadline``; they are then kept in the
        same order of use. Returns how many were read.

        With ``turn`` (a lock the requests hold while they search), each set is read only
        while no request holds it: a request waits for one set at most, never for the
        replay, and under load the replay gives way. Read alongside the requests instead,
        it took half the interpreter from them: 4 threads searching the 90,000-article
        index through one lock had a p95 of 131–155 ms in the second after a swap, against
        59–66 ms warm; giving way, 61–71 ms.
        """
        done: list[tuple[str, str]] = []
        for field, text in keys:
            if time.monotonic() >= deadline or (turn is not None and not _take(turn, deadline)):
                break
            try:
                self.term(field, text)
                self.doc_frequency(field, text)
            finally:
                if turn is not None:
                    turn.release()
            done.append((field, text))
            time.sleep(0)  # let a request waiting for the interpreter in, rather than after 5 ms
        with self._lock:
            for key in reversed(done):
                self._cache.touch(key)
        return len(done)

    def all_of(self, field: str, texts: Iterable[str]) -> int:
        """Documents holding every one of ``texts``; rarest first, stopping early at nothing."""
        ordered = sorted(set(texts), key=lambda t: self.doc_frequency(field, t))
        bits = self.live
        for text in ordered:
            bits &= self.term(field, text)
            if not bits:
                break
        return bits

    def values(self, field: str) -> dict[str, int]:
        """Every value of a keyword field with its set: facets and filters."""
        with self._lock:
            found = self._values.get(field)
        if found is None:
            reader = self.searcher.reader()
            texts = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in reader.lexicon(field)]
            found = {text: self.term(field, text) for text in texts}
            with self._lock:
                self._values[field] = found
        return found

    def published(self) -> np.ndarray:
        """Publication time (epoch seconds) by document number; undated documents sort oldest."""
        if self._published is None:
            undated = np.iinfo(np.int64).min
            dates = np.full(self.size, undated, dtype=np.int64)
            for leaf, offset in self.leaves:
                if leaf.has_column("published"):
                    column = leaf.column_reader("published")
                    values = np.fromiter((undated if v is None else v for v in column), np.int64)
                    # Whoosh fills the column of a document without the field with the
                    # largest value, which would make undated articles the newest.
                    values[values == np.iinfo(np.int64).max] = undated
                    dates[offset : offset + len(values)] = values
            self._published = dates
        return self._published

    def by_date(self, docnums: np.ndarray, *, newest: bool = True, limit: int | None = None) -> np.ndarray:
        """``docnums`` (ascending) by publication time, newest (or oldest) first, ties in index
        order; undated ones sort oldest either way, so they come last when the newest are
        asked for. With ``limit``, only the first ``limit`` of that order.

        A page of a common word sorted by date wants 20 of 900,000 matches at a million
        articles: sorting them all took ~70 ms, where a partition finds the date the page
        ends at and only the documents up to it are sorted.
        """
        dates = self.published()[docnums]
        if newest:  # negating the undated marker would overflow it to the front
            dates = -np.maximum(dates, np.iinfo(np.int64).min + 1)
        if limit is not None and limit <= 0:
            return docnums[:0]
        if limit is not None and limit < len(dates) // 4:
            last = np.partition(dates, limit - 1)[limit - 1]
            within = np.flatnonzero(dates <= last)  # every tie at the last date too, in index order
            return docnums[within[np.argsort(dates[within], kind="stable")[:limit]]]
        order = docnums[np.argsort(dates, kind="stable")]
        return order if limit is None else order[:limit]

    def published_between(self, low: int | None, high: int | None) -> int:
        dates = self.published()
        keep = dates > np.iinfo(np.int64).min
        if low is not None:
            keep &= dates >= low
        if high is not None:
            keep &= dates <= high
        return _bits(np.flatnonzero(keep), self.size) & self.live

    def count_by(self, fields: Sequence[str], bits: int) -> dict[str, dict[str, int]]:
        """For each field, how many of ``bits`` hold each of its values (facet counts).

        A field with one value per document (source, category, year) is counted by
        value number over the documents themselves; others set by set.
        """
        matched: np.ndarray | None = None  # the documents of ``bits``, unpacked once for every field
        out: dict[str, dict[str, int]] = {}
        for field in fields:
            coded = self._coded(field)
            if coded is None:
                counts = {value: (bits & docs).bit_count() for value, docs in self.values(field).items()}
                out[field] = {value: n for value, n in counts.items() if n}
                continue
            names, codes = coded
            if matched is None:
                matched = ids_of(bits)
            tally = np.bincount(codes[matched] + 1, minlength=len(names) + 1)[1:]
            out[field] = {names[k]: int(tally[k]) for k in np.flatnonzero(tally).tolist()}
        return out

    def _coded(self, field: str) -> tuple[list[str], np.ndarray] | None:
        """The field's values, and each document's value number (-1 for none); None when
        some document holds several values."""
        with self._lock:
            if field in self._codes:
                return self._codes[field]
        values = self.values(field)
        names = list(values)
        codes = np.full(self.size, -1, dtype=np.int32)
        held = 0
        for k, name in enumerate(names):
            docs = ids_of(values[name])
            codes[docs] = k
            held += len(docs)
        coded = (names, codes) if held == int((codes >= 0).sum()) else None
        with self._lock:
            self._codes[field] = coded
        return coded


def _take(lock: Any, deadline: float) -> bool:
    """Acquire ``lock`` unless ``deadline`` passes first."""
    while not lock.acquire(timeout=0.01):
        if time.monotonic() >= deadline:
            return False
    return True


class Tally:
    """Per-document weighted sums of features, bit-sliced.

    ``planes[i]`` holds bit *i* of every document's running sum, so adding a
    feature of integer weight *w* to a set of documents is a ripple-carry
    addition of whole integers, and "sum ≥ T" a comparison of the same kind.
    """

    def __init__(self, universe: int) -> None:
        self.universe = universe
        self.planes: list[int] = []

    def add(self, docs: int, weight: int) -> None:
        docs &= self.universe
        if not docs or weight <= 0:
            return
        for shift in range(weight.bit_length()):
            if weight >> shift & 1:
                self._add_at(docs, shift)

    def _add_at(self, carry: int, plane: int) -> None:
        planes = self.planes
        while carry:
            while plane >= len(planes):
                planes.append(0)
            low = planes[plane]
            planes[plane] = low ^ carry
            carry &= low
            plane += 1

    def at_least(self, threshold: int) -> int:
        """Documents whose sum is ≥ ``threshold``."""
        if threshold <= 0:
            return self.universe
        if threshold >> len(self.planes):
            return 0
        greater, equal = 0, self.universe
        for i in range(len(self.planes) - 1, -1, -1):
            plane = self.planes[i]
            if threshold >> i & 1:
                equal &= plane
            else:
                greater |= equal & plane
                equal &= ~plane
        return greater | equal

    def top(self, k: int) -> tuple[int, int]:
        """The highest threshold keeping at least ``k`` documents (or all with any weight),
        as (documents at or above it, documents strictly above it)."""
        weighted = self.at_least(1)
        if not self.planes or weighted.bit_count() <= k:
            return weighted, 0
        # The threshold bit by bit from the top, in one pass over the planes (a binary
        # search over thresholds would pay a whole comparison per step): ``greater``
        # holds the documents whose high bits already beat the threshold's, ``equal``
        # those whose high bits equal its; a bit is set when enough documents reach it.
        greater, equal = 0, self.universe
        for plane in reversed(self.planes):
            reaching = equal & plane
            if (greater | reaching).bit_count() >= k:
                equal = reaching
            else:
                greater |= reaching
                equal &= ~plane
        return greater | equal, greater

    def values_for(self, ids: Iterable[int]) -> dict[int, int]:
        """The sums for a few documents (to order the chosen ones)."""
        return {n: sum(1 << i for i, plane in enumerate(self.planes) if plane >> n & 1) for n in ids}
