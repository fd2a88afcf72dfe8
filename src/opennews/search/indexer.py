"""Keeping the Whoosh index in step with the archive.

The index is derived data. ``update`` follows the archive's change log from the
last sequence number the index has seen (new, changed, withdrawn articles) and
commits once; ``rebuild`` writes a complete new index beside the live one, with
several processes, and swaps it in with a rename, so searching never stops and a
crash leaves the old index untouched. ``verify`` compares ids and content hashes
with the archive and says what to do when they differ.

Whoosh commits atomically (a new TOC generation); the state file holding the
last applied change is written after the commit, so replaying is always safe.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from whoosh import index as whoosh_index
from whoosh.writing import LockError, PostingPool

from ..archive import Archive
from ..files import write_atomically
from .postings import PackedCodec
from .schema import SCHEMA_VERSION, build_schema, document_for
from .vocabulary import Vocabulary

__all__ = ["IndexReport", "Indexer", "VerifyReport"]

LIVE = "whoosh"
VOCABULARY = "vocabulary.sqlite3"
STATE = "state.json"


@dataclass
class IndexReport:
    mode: str
    indexed: int = 0
    deleted: int = 0
    seconds: float = 0.0
    last_seq: int = 0


@dataclass
class VerifyReport:
    archive_count: int
    index_count: int
    missing: list[str] = field(default_factory=list)  # in the archive, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, not (any more) in the archive
    stale: list[str] = field(default_factory=list)  # indexed from an older version

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale) and self.archive_count == self.index_count


Tick = Callable[[int], None]

#: Document ids per posting block.
POSTING_BLOCK = 1024


def index_state(index_dir: Path) -> dict[str, int] | None:
    """The state the indexer wrote last, if it was written for this schema version (an index
    of another version stores its documents differently: it must be rebuilt, not read)."""
    try:
        state = json.loads((Path(index_dir) / STATE).read_text())
    except (OSError, ValueError):
        return None
    return state if state.get("schema") == SCHEMA_VERSION else None


def _codec() -> PackedCodec:
    """Whoosh's codec (with packed posting blocks, see postings.py), minus what only its
    own scoring uses.

    Nothing here is scored by Whoosh (see docsets.py), so per-document field
    lengths are not gathered (gathering them stats a file for every posting),
    and posting blocks stay uncompressed and large: reading a term's postings
    back whole is what every query does, and each block costs a Python-level
    step, so 1,024 ids per block read eight times faster than Whoosh's 128.
    """
    codec = PackedCodec(blocklimit=POSTING_BLOCK, compression=0)
    codec.length_stats = False
    return codec


#: Postings per pickle in the indexer's sorted runs.
RUN_BATCH = 8192


def _write_run_in_batches(self: PostingPool, f: Any, items: Any) -> None:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= RUN_BATCH:
            pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
            batch = []
    if batch:
        pickle.dump(batch, f, pickle.HIGHEST_PROTOCOL)
    f.close()


def _read_run_in_batches(self: PostingPool, path: str) -> Iterator[Any]:
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


# Whoosh's posting pool (the external sort behind every segment it writes) pickles each
# posting on its own: some 1,000 per article, and a dump and a load of each took a quarter
# of the indexing time. Runs written and read a batch of postings at a time hold the same
# items in the same order.
PostingPool._write_run = _write_run_in_batches
PostingPool._read_run = _read_run_in_batches


@contextmanager
def _committing(writer: Any, vocab: Vocabulary) -> Iterator[None]:
    """Commit the Whoosh writer if the block succeeds, cancel it if not; close the vocabulary."""
    try:
        yield
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        vocab.close()


class Indexer:
    """Builds and updates the index under ``index_dir`` from an :class:`Archive`."""

    def __init__(self, index_dir: Path, archive: Archive, *, procs: int | None = None, limitmb: int = 1024) -> None:
        self.index_dir = Path(index_dir)
        self.archive = archive
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)
        self.limitmb = limitmb

    # -- state --------------------------------------------------------------------

    @property
    def live_dir(self) -> Path:
        return self.index_dir / LIVE

    def exists(self) -> bool:
        return self.live_dir.is_dir() and whoosh_index.exists_in(str(self.live_dir)) and self._state() is not None

    def _state(self) -> dict[str, int] | None:
        return index_state(self.index_dir)

    def _write_state(self, last_seq: int) -> None:
        state = {"schema": SCHEMA_VERSION, "last_seq": last_seq, "written": time.time()}
        write_atomically(self.index_dir / STATE, json.dumps(state).encode())

    def last_seq(self) -> int:
        state = self._state()
        return int(state["last_seq"]) if state else 0

    # -- building -----------------------------------------------------------------

    def rebuild(self, tick: Tick | None = None) -> IndexReport:
        """Index every current article into a fresh index, then swap it in."""
        started = time.monotonic()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        seq = self.archive.last_seq()  # changes after this are replayed by the next update
        new_dir = self.index_dir / (LIVE + ".new")
        shutil.rmtree(new_dir, ignore_errors=True)
        new_dir.mkdir()
        new_vocab = self.index_dir / (VOCABULARY + ".new")
        new_vocab.unlink(missing_ok=True)
        ix = whoosh_index.create_in(str(new_dir), build_schema())
        total = self.archive.count()
        big = total > 2000 and self.procs > 1
        # Segments are separate files, not Whoosh's compound ones: a compound segment is
        # read through a BytesIO copy of the whole file, so every searching process would
        # hold the index in private memory instead of sharing the page cache.
        writer = ix.writer(
            procs=self.procs if big else 1, multisegment=big, limitmb=self.limitmb, codec=_codec(), compound=False
        )
        vocab = Vocabulary(new_vocab)
        n = 0
        with _committing(writer, vocab):
            for raw in self.archive.iter_json():
                record = orjson.loads(raw)
                writer.add_document(**document_for(record))
                vocab.add_records([record])
                n += 1
                if tick and n % 500 == 0:
                    tick(500)
        if tick:
            tick(n % 500)
        self._swap(new_dir, new_vocab)
        self._write_state(seq)
        return IndexReport("rebuild", indexed=n, seconds=time.monotonic() - started, last_seq=seq)

    def _swap(self, new_dir: Path, new_vocab: Path) -> None:
        old = self.index_dir / (LIVE + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.live_dir.exists():
            os.replace(self.live_dir, old)
        os.replace(new_dir, self.live_dir)
        os.replace(new_vocab, self.index_dir / VOCABULARY)
        shutil.rmtree(old, ignore_errors=True)  # open searchers keep their files (POSIX)

    def update(self, tick: Tick | None = None, *, wait: float = 60.0) -> IndexReport:
        """Apply the archive's changes since the last update; rebuild if there is no index."""
        if not self.exists():
            return self.rebuild(tick)
        started = time.monotonic()
        since = self.last_seq()
        latest: dict[str, str] = {}
        last = since
        while batch := self.archive.changes_since(last, limit=10_000):
            for seq, article_id, kind in batch:
                latest[article_id] = kind
                last = seq
        report = IndexReport("update", last_seq=last)
        if not latest:
            return report
        ix = whoosh_index.open_dir(str(self.live_dir))
        writer = self._writer(ix, wait)
        vocab = Vocabulary(self.index_dir / VOCABULARY)
        with _committing(writer, vocab):
            for article_id, kind in latest.items():
                record = self.archive.get_record(article_id) if kind != "withdraw" else None
                if record is None:
                    writer.delete_by_term("id", article_id)
                    report.deleted += 1
                else:
                    writer.update_document(**document_for(record))
                    if kind == "add":
                        vocab.add_records([record])
                    report.indexed += 1
                if tick and (report.indexed + report.deleted) % 500 == 0:
                    tick(500)
        self._write_state(last)
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _writer(ix: whoosh_index.Index, wait: float):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + wait
        while True:
            try:
                return ix.writer(codec=_codec(), compound=False)
            except LockError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # -- checking -----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Compare the index with the archive: counts, ids and content hashes."""
        archive_hashes = dict(self.archive.id_hashes())
        if not self.exists():
            return VerifyReport(len(archive_hashes), 0, missing=sorted(archive_hashes))
        ix = whoosh_index.open_dir(str(self.live_dir))
        with ix.searcher() as searcher:
            indexed = {fields["id"]: fields.get("content_hash") for fields in searcher.all_stored_fields()}
        report = VerifyReport(len(archive_hashes), len(indexed))
        report.missing = sorted(set(archive_hashes) - set(indexed))
        report.extra = sorted(set(indexed) - set(archive_hashes))
        report.stale = sorted(i for i, h in indexed.items() if i in archive_hashes and archive_hashes[i] != h)
        return report
