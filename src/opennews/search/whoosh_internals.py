"""Every use of Whoosh's private parts, in one place, for the version pinned in pyproject.toml.

tests/test_whoosh_internals.py checks each name and signature used here, so an upgrade
that changes them fails loudly there instead of quietly mid-query or mid-rebuild.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path
from typing import Any

from whoosh.index import TOC, clean_files
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import SegmentWriter

__all__ = ["ParallelWriter", "clean_leftovers", "die_with_parent", "drop_segments", "segment_ids", "segments_holding"]

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
                import shutil

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
