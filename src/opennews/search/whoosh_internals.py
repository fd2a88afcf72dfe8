"""Every private part of Whoosh the search engine relies on, in one place.

Whoosh's public API writes and reads an index one posting at a time in Python;
the speed of this package comes from going underneath it: posting blocks in a
packed format (postings.py), files read through memory maps (storage.py), a
term's postings read a whole block at a time (docsets.py) and the indexer's
postings gathered per term (termpool.py). Those rely on names and behaviour that
Whoosh does not promise to keep, so they are gathered here: the classes other
modules subclass are imported from this module, ``whoosh-reloaded`` is pinned to
the exact version they were read from (pyproject.toml), and
tests/test_whoosh_internals.py checks each part, failing with the part's name
when an upgrade changes one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import multiproc
from whoosh.codec.whoosh3 import (
    W3Codec,
    W3FieldCursor,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
)
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import TOC, clean_files
from whoosh.matching import ListMatcher
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

__all__ = [
    "FileStorage",
    "ListMatcher",
    "MpWriter",
    "ParallelWriter",
    "SegmentWriter",
    "StructFile",
    "SubWriterTask",
    "W3Codec",
    "W3FieldCursor",
    "W3FieldWriter",
    "W3LeafMatcher",
    "W3PostingsWriter",
    "W3TermInfo",
    "W3TermsReader",
    "block_payload",
    "clean_leftovers",
    "deleted_docs",
    "die_with_parent",
    "drop_segments",
    "leaf_blocks",
    "leaf_ids",
    "pack_ushort",
    "segment_ids",
    "segments_holding",
    "term_postings",
    "whoosh_block_ids",
]

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


def term_postings(leaf: Any, field: str, text: str) -> Any:
    """A segment's matcher of a term with its deleted documents left in (the caller masks
    them), standing on its first block unread; raises ``TermNotFound``.

    ``SegmentReader.postings`` wraps the matcher of a segment with deletions in a filter,
    and the filter reads the first block at once, as a list: for a dense term's bitmap
    block, a million numbers, made into a list and never read. At a million articles with
    an update's deletions in its segments, 600 of the web benchmark's queries took 50.1 s
    that way, and 39.7 s with this (profiled; p95 187 ms against 135).
    """
    if leaf.is_closed:
        raise ReaderClosed
    if field not in leaf.schema:
        raise TermNotFound(f"no field {field!r}")
    return leaf._terms.matcher(field, leaf._text_to_bytes(field, text), leaf.schema[field].format)


def leaf_blocks(matcher: Any) -> Iterator[Any]:
    """A term's documents in a segment, a posting block at a time: each block's document
    numbers (an array), or the bitmap of a dense one (postings.Bitmap: ``first``, ``flags``).

    Reads W3 posting blocks directly, decoding each block once without the
    per-posting matcher calls: with the matcher's own ``block_docs()`` when it has
    one (the packed blocks of postings.py), else as Whoosh's format. Any other
    matcher (inlined postings, say) is walked the slow way.
    """
    child = getattr(matcher, "child", None)
    if child is not None and not hasattr(matcher, "_read_data"):
        matcher = child  # deletions are masked separately
    if not hasattr(matcher, "_read_data") or not hasattr(matcher, "_nextoffset"):
        yield list(matcher.all_ids())
        return
    read = getattr(matcher, "block_docs", None) or partial(whoosh_block_ids, matcher)
    while not matcher._atend:
        yield read()
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)


def leaf_ids(matcher: Any) -> Iterator[Sequence[int]]:
    """A term's document numbers in a segment, a posting block at a time (:func:`leaf_blocks`,
    with bitmaps read as numbers)."""
    for block in leaf_blocks(matcher):
        yield block.ids() if hasattr(block, "first") else block


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

    writer_class: type | None = None

    def run(self) -> None:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        from .termpool import TermWriter  # (termpool builds on this module)

        # SubWriterTask.run makes its writer with the name SegmentWriter of whoosh.multiproc;
        # in this process, that is the writer with the term pool.
        multiproc.SegmentWriter = self.writer_class or TermWriter
        super().run()


class ParallelWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multi-process writer, made stoppable.

    Whoosh's sub-writers are non-daemon processes and its queues join their feeder
    threads at exit: on Ctrl-C the parent waited on children that waited on a full
    queue (30 s and more, measured). Here the sub-writers die with the parent, ignore
    SIGINT, and :meth:`cancel` terminates them and abandons the queues at once.

    Each sub-writer writes a segment of its own (``multisegment``): their term pools
    (termpool.py) keep no posting runs for the parent to merge, Whoosh's other mode.
    ``writer`` is the sub-writers' class (termpool.TermWriter unless given).
    """

    def __init__(self, ix: Any, procs: int | None = None, *, writer: type | None = None, **kwargs: Any) -> None:
        kwargs["multisegment"] = True
        super().__init__(ix, procs=procs, **kwargs)
        self.writer_class = writer

    def _new_task(self) -> SubWriterTask:
        task = _Task(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        task.writer_class = self.writer_class
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
