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

import contextlib
import ctypes
import os
import pickle
import shutil
import signal
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import TOC, clean_files
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import PostingPool, SegmentWriter

__all__ = [
    "RUN_BATCH",
    "FileStorage",
    "MpWriter",
    "ParallelWriter",
    "PostingPool",
    "SegmentWriter",
    "StructFile",
    "SubWriterTask",
    "W3Codec",
    "W3LeafMatcher",
    "W3PostingsWriter",
    "block_payload",
    "clean_leftovers",
    "deleted_docs",
    "die_with_parent",
    "drop_segments",
    "install",
    "leaf_ids",
    "read_run_in_batches",
    "segment_ids",
    "segments_holding",
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


# -- writing: stoppable parallel rebuilds, leftovers, rewriting segments --------------------

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a no-op elsewhere), so that a
    ``kill -9`` of an indexing or ingesting process never leaves its workers behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Task(SubWriterTask):  # type: ignore[misc]
    """A sub-writer that dies with its parent and leaves Ctrl-C to it."""

    def run(self) -> None:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        super().run()


class ParallelWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multi-process writer, made stoppable.

    Whoosh's sub-writers are non-daemon processes and its queues join their feeder
    threads at exit: on Ctrl-C the parent waited on children that waited on a full
    queue (30 s and more, measured). Here the sub-writers die with the parent, ignore
    SIGINT, and :meth:`cancel` terminates them and abandons the queues at once.
    """

    def _new_task(self) -> SubWriterTask:
        task = _Task(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        task.daemon = True
        self.tasks.append(task)
        task.start()
        return task

    def cancel(self) -> None:
        try:
            for task in self.tasks:
                if task.is_alive():
                    task.terminate()
            for queue in (self.jobqueue, self.resultqueue):
                queue.cancel_join_thread()
                queue.close()
            for task in self.tasks:
                task.join(1.0)
                if task.is_alive():
                    task.kill()
        finally:
            SegmentWriter.cancel(self)


def clean_leftovers(storage: Any, folder: Path) -> list[str]:
    """Remove what killed writers left in an index folder: temporary folders and files
    (``*.tmp``: posting runs, job files) and segment files no table of contents names.

    Call it only while holding the index's writer lock.
    """
    removed: list[str] = []
    for path in folder.iterdir():
        if path.name.endswith(".tmp"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    before = set(os.listdir(folder))
    generation = TOC._latest_generation(storage, "MAIN")
    if generation >= 0:
        toc = TOC.read(storage, "MAIN", generation)
        clean_files(storage, "MAIN", generation, toc.segments)
    removed += sorted(before - set(os.listdir(folder)))
    return removed


def segments_holding(searcher: Any, docnums: list[int]) -> set[str]:
    """The ids of the segments that hold these (global) document numbers."""
    found: set[str] = set()
    leaves = list(searcher.reader().leaf_readers())
    for n in docnums:
        for i, (leaf, offset) in enumerate(leaves):
            end = leaves[i + 1][1] if i + 1 < len(leaves) else offset + leaf.doc_count_all()
            if offset <= n < end:
                found.add(leaf.segment().segment_id())
    return found


def segment_ids(searcher: Any, segment_ids: set[str]) -> list[str]:
    """The article ids of the live documents of the named segments."""
    out = []
    for leaf, _ in searcher.reader().leaf_readers():
        if leaf.segment().segment_id() in segment_ids:
            out += [leaf.stored_fields(n)["id"] for n in range(leaf.doc_count_all()) if not leaf.is_deleted(n)]
    return out


def drop_segments(segment_ids: set[str]) -> Any:
    """A Whoosh merge policy that leaves the named segments out of the new table of contents
    (their files are then removed): a deleted document's text leaves the disk only with
    its segment. The caller adds the segments' other documents again in the same commit.
    (Whoosh's own way, copying them over with ``add_reader``, took ~30 ms a document.)"""

    def policy(writer: Any, segments: list[Any]) -> list[Any]:
        return [s for s in segments if s.segment_id() not in segment_ids]

    return policy
