"""The indexer's postings, gathered per term instead of per posting.

Whoosh's writer hands every posting (field, term, document) to a pool that
sorts them all externally (pickled runs, a heap merge) and then feeds them to
the codec one call per posting. An article has some 900 distinct terms across
its fields (syllables, pairs, headline and lead forms), so that is ~900 tuples
built, pickled, unpickled, merged and written one by one per article: with the
analysis, most of the indexing time (profiled on 10,000 articles of the shared
corpus: 31 s in the pool's ``add``, 20 s sorting and merging runs, 17 s in the
codec's per-posting ``add``, of 178 s).

Every field here is a set of terms (no frequencies, positions or weights; see
schema.py), so a term's postings are just its ascending document numbers.
:class:`TermPool` appends each document number to its term's ``array("I")``
(documents arrive in order), spills the terms sorted into a run file when the
memory budget is reached, and gives the codec (postings.PackedFieldWriter) each
term once with all its document numbers: the term-by-term merge of the runs is
the only sort. :class:`TermWriter` is Whoosh's segment writer with this pool.
"""

from __future__ import annotations

import contextlib
import heapq
import pickle
from array import array
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
from whoosh.formats import Existence

from .whoosh_internals import SegmentWriter

__all__ = ["TermPool", "TermWriter"]

#: Terms per pickle in a spilled run.
RUN_TERMS = 4096
#: Memory held by a term beyond its postings (the key's tuple and bytes, the dict slot,
#: the array's header), estimated from ``sys.getsizeof``; each posting adds 4 bytes.
TERM_BYTES = 200

Term = tuple[str, bytes]


class TermPool:
    """Postings per term, in memory up to ``limitmb``, then in sorted runs on disk.

    The interface Whoosh's SegmentWriter uses of its pool: ``add``, ``fieldnames``,
    ``iter_postings`` and ``cleanup``.
    """

    def __init__(self, tempstore: Any, segment: Any, limitmb: int = 128) -> None:
        self.tempstore = tempstore
        self.segment = segment
        self.limit = limitmb * 1024 * 1024
        self.fieldnames: set[str] = set()
        self._terms: dict[Term, array] = {}
        self._size = 0
        self._runs: list[str] = []

    def add(self, item: tuple[str, bytes, int, float, Any]) -> None:
        """One posting, as Whoosh's writer gives it: (field, term, document, weight, value)."""
        fieldname, btext, docnum, weight, value = item
        if weight != 1 or value:
            raise ValueError(f"{fieldname}: the term pool holds sets of terms, not weights or values")
        key = (fieldname, btext)
        ids = self._terms.get(key)
        if ids is None:
            ids = self._terms[key] = array("I")
            self.fieldnames.add(fieldname)
            self._size += TERM_BYTES + len(btext)
        elif ids[-1] >= docnum:
            if ids[-1] == docnum:
                return  # the same term twice in one document
            raise ValueError(f"{fieldname}: document {docnum} came after {ids[-1]}")
        ids.append(docnum)
        self._size += 4
        if self._size > self.limit:
            self.save()

    def add_terms(self, fieldname: str, texts: Iterable[str], docnum: int) -> None:
        """A document's terms of one field at once (each once): what :class:`TermWriter`
        gives for a set field, without Whoosh's loop of a tuple per posting."""
        terms = self._terms
        grown = 0
        for text in texts:
            key = (fieldname, text.encode("utf-8"))
            ids = terms.get(key)
            if ids is None:
                terms[key] = array("I", (docnum,))
                grown += TERM_BYTES + len(key[1])
            elif ids[-1] < docnum:
                ids.append(docnum)
                grown += 4
        self.fieldnames.add(fieldname)
        self._size += grown
        if self._size > self.limit:
            self.save()

    def save(self) -> None:
        """Spill the terms in memory to a sorted run."""
        if not self._terms:
            return
        name = f"{self.segment.segment_id() if self.segment is not None else 'pool'}.{len(self._runs)}.terms"
        with self.tempstore.create_file(name).raw_file() as f:
            batch: list[tuple[Term, bytes]] = []
            for item in self._in_memory():
                batch.append(item)
                if len(batch) >= RUN_TERMS:
                    pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
                    batch = []
            if batch:
                pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
        self._runs.append(name)
        self._terms = {}
        self._size = 0

    def _read_run(self, name: str) -> Iterator[tuple[Term, bytes]]:
        with self.tempstore.open_file(name).raw_file() as f:
            while True:
                try:
                    batch = pickle.load(f)
                except EOFError:
                    return
                yield from batch

    def _in_memory(self) -> Iterator[tuple[Term, bytes]]:
        for key in sorted(self._terms):
            yield key, self._terms[key].tobytes()

    def terms(self) -> Iterator[tuple[str, bytes, np.ndarray]]:
        """(field, term, ascending document numbers) for every term, in order.

        Runs were spilled as documents came, so a term's numbers are in order when its
        pieces are joined run by run (``heapq.merge`` keeps the sources' order for a tie).
        """
        sources = [self._read_run(name) for name in self._runs]
        sources.append(self._in_memory())
        merged = heapq.merge(*sources, key=itemgetter(0)) if len(sources) > 1 else sources[0]
        for key, pieces in groupby(merged, key=itemgetter(0)):
            data = b"".join(piece for _, piece in pieces)
            yield key[0], key[1], np.frombuffer(data, dtype=np.uint32)

    def iter_postings(self) -> TermPool:
        """What the writer passes to its field writer: this pool (whose :meth:`terms` the
        packed field writer reads), iterable posting by posting for any other writer."""
        return self

    def __iter__(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        for fieldname, btext, ids in self.terms():
            for docnum in ids.tolist():
                yield fieldname, btext, docnum, 1.0, b""

    def cleanup(self) -> None:
        for name in self._runs:
            with contextlib.suppress(OSError):
                self.tempstore.delete_file(name)
        self._runs = []
        self._terms = {}
        self._size = 0


class TermWriter(SegmentWriter):  # type: ignore[misc]
    """Whoosh's segment writer, with its postings in a :class:`TermPool`.

    A field given as a set of terms (schema.TermSet) that is only indexed (not stored,
    no column, no lengths, no vectors) goes to the pool directly: Whoosh's
    ``add_document`` would make a tuple per term and record nothing else for it.
    """

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = TermPool(self._tempstorage, self.newsegment, limitmb=limitmb)
        self._direct = {name for name, field in self.schema.items() if _only_indexed(field)}

    def add_document(self, **fields: Any) -> None:
        docnum = self.docnum
        sets = {
            name: fields.pop(name)
            for name in [n for n, v in fields.items() if n in self._direct and isinstance(v, set | frozenset)]
        }
        super().add_document(**fields)
        for name, texts in sets.items():
            self.pool.add_terms(name, texts, docnum)


def _only_indexed(field: Any) -> bool:
    return bool(
        field.indexed
        and isinstance(field.format, Existence)
        and not (field.stored or field.column_type or field.scorable or field.vector)
        and not field.separate_spelling()
    )
