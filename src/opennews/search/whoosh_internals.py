"""Every private part of Whoosh the search engine relies on, in one place.

Whoosh's public API writes and reads an index one posting at a time in Python;
the speed of this package comes from going underneath it: posting blocks in a
packed format (postings.py), files read through memory maps (storage.py), a
term's postings read a whole block at a time (docsets.py) and the indexer's
sorted runs pickled in batches (below). Those rely on names and behaviour that
Whoosh does not promise to keep, so they are gathered here: the classes other
modules subclass are imported from this module, ``whoosh-reloaded`` is pinned to
the exact version they were read from (pyproject.toml), and
tests/test_whoosh_internals.py checks each part, failing with the part's name
when an upgrade changes one.

Importing this module installs the batched runs (:func:`install`). Any process
that unpickles the packed codec imports it on the way (postings.py imports this
module), so a sub-writer process started by ``spawn`` or ``forkserver`` writes its
runs in the format the parent reads them in, as one started by ``fork`` does.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import PostingPool, SegmentWriter

__all__ = [
    "RUN_BATCH",
    "FileStorage",
    "MpWriter",
    "PostingPool",
    "SegmentWriter",
    "StructFile",
    "SubWriterTask",
    "W3Codec",
    "W3LeafMatcher",
    "W3PostingsWriter",
    "block_payload",
    "deleted_docs",
    "install",
    "leaf_ids",
    "read_run_in_batches",
    "whoosh_block_ids",
    "write_run_in_batches",
]

# -- the posting pool's sorted runs --------------------------------------------------

#: Postings per pickle in the indexer's sorted runs.
RUN_BATCH = 8192


def write_run_in_batches(self: PostingPool, f: Any, items: Iterable[Any]) -> None:
    """``PostingPool._write_run``: the run's postings, ``RUN_BATCH`` to a pickle."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= RUN_BATCH:
            pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
    f.close()


def read_run_in_batches(self: PostingPool, path: str) -> Iterator[Any]:
    """``PostingPool._read_run``: a run written by :func:`write_run_in_batches`, posting by
    posting; the run file is removed once read (or abandoned), as Whoosh's own does."""
    f = self._open_run(path)
    try:
        while True:
            try:
                batch = pickle.load(f)
            except EOFError:
                return
            yield from batch
    finally:
        f.close()
        self._remove_run(path)


def install() -> None:
    """Make Whoosh's posting pool write and read its runs in batches (done on import; again is harmless).

    The pool (the external sort behind every segment Whoosh writes) pickles each
    posting on its own: some 1,000 per article, and a dump and a load of each took
    a quarter of the indexing time. Runs written and read a batch of postings at a
    time hold the same items in the same order. Both halves are replaced together:
    a run is only ever read by the reader matching its writer.
    """
    PostingPool._write_run = write_run_in_batches
    PostingPool._read_run = read_run_in_batches


install()

# -- reading posting blocks whole -----------------------------------------------------


def block_payload(matcher: W3LeafMatcher) -> Any:
    """The ids part of the posting block a W3 matcher stands on, as stored (read on first use)."""
    if matcher._data is None:
        matcher._read_data()
    return matcher._data[0]


def whoosh_block_ids(matcher: W3LeafMatcher) -> np.ndarray:
    """The document numbers of a block in Whoosh's own format (a tuple of gaps)."""
    ids = np.asarray(block_payload(matcher), dtype=np.int64)
    return ids if matcher._byteids else np.cumsum(ids)


def leaf_ids(matcher: Any) -> Iterator[Sequence[int]]:
    """A term's document numbers in a segment, a posting block at a time.

    Reads W3 posting blocks directly, decoding each block once without the
    per-posting matcher calls: with the matcher's own ``block_ids()`` when it has
    one (the packed blocks of postings.py), else as Whoosh's format. Any other
    matcher (inlined postings, say) is walked the slow way.
    """
    child = getattr(matcher, "child", None)
    if child is not None and not hasattr(matcher, "_read_data"):
        matcher = child  # deletions are masked separately
    if not hasattr(matcher, "_read_data") or not hasattr(matcher, "_nextoffset"):
        yield list(matcher.all_ids())
        return
    read = getattr(matcher, "block_ids", None) or partial(whoosh_block_ids, matcher)
    while not matcher._atend:
        yield read()
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)


def deleted_docs(leaf: Any) -> Iterable[int]:
    """The deleted document numbers of a segment reader (its cached set when it keeps one)."""
    found = getattr(leaf, "deleted_docs_set", None)
    if found is not None:
        return found
    return [n for n in range(leaf.doc_count_all()) if leaf.is_deleted(n)]
