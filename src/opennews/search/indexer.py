"""Keeping the Whoosh index in step with the archive's change log.

The index is derived data: it records the change-log position it reflects and
brings itself up to date from there. Its folder holds generations, each a complete
index, and a pointer to the live one::

    index/CURRENT          the live generation's name, replaced atomically
    index/gen-000007/      Whoosh's files, vocabulary.sqlite3, state.json (position)
    index/.writer.lock     held by whoever writes the live generation
    index/.rebuild.lock    held by a rebuild while it builds its generation

``update`` applies the changes after the live generation's position, committing every
:data:`BATCH` documents (a killed update keeps what it committed; the state file is
written after each commit and replaying a change is harmless). ``rebuild`` builds a new
generation beside the live one, with several processes, without stopping updates;
then, holding the writer lock, it points ``CURRENT`` at it and applies the changes made
meanwhile. A ``kill -9`` at any moment leaves ``CURRENT`` naming a complete index;
the next writer removes what was left behind. Searchers notice a new commit or
generation by the state file and ``CURRENT``, and refresh in place.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from ..archive import Archive
from ..files import write_atomically
from ..locks import FileLock
from .postings import PackedCodec
from .schema import SCHEMA_VERSION, StoredText, build_schema, document_for
from .termpool import TermWriter
from .vocabulary import Vocabulary
from .whoosh_internals import ParallelWriter, clean_leftovers, drop_segments, segment_ids, segments_holding

__all__ = [
    "BATCH",
    "IndexReport",
    "Indexer",
    "Phases",
    "SilentPhases",
    "VerifyReport",
    "current_generation",
    "index_state",
]

CURRENT = "CURRENT"
GENERATION = "gen-"
VOCABULARY = "vocabulary.sqlite3"
STATE = "state.json"
#: Documents per commit of an incremental update: what a killed update keeps at most loses.
BATCH = 2000
#: Left behind by the single-folder layout of earlier versions (removed when found).
_LEGACY = ("whoosh", "whoosh.new", "whoosh.old", "vocabulary.sqlite3", "vocabulary.sqlite3.new", "state.json")


@dataclass
class IndexReport:
    mode: str
    indexed: int = 0
    deleted: int = 0
    seconds: float = 0.0
    last_seq: int = 0
    cleaned: list[str] = field(default_factory=list)


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


class Phases(Protocol):
    """Told what the indexer is doing: a named phase (with its size when known), then steps."""

    def phase(self, name: str, total: int | None = None) -> None: ...
    def advance(self, n: int) -> None: ...
    def say(self, message: str) -> None: ...


class SilentPhases:
    """Phases nobody is told about (a library caller that asked for none)."""

    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def say(self, message: str) -> None:
        pass


#: Document ids per posting block.
POSTING_BLOCK = 16384


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, as ``CURRENT`` names it (None when there is none)."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name.startswith(GENERATION) or "/" in name or name in (".", ".."):
        return None
    return Path(index_dir) / name


def index_state(generation: Path | None) -> dict[str, int] | None:
    """The state written last into a generation, if written for this schema version (an
    index of another version stores its documents differently: it must be rebuilt, not read)."""
    if generation is None:
        return None
    try:
        state = json.loads((generation / STATE).read_text())
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
    step, so 1,024 ids per block read eight times faster than Whoosh's 128, and
    at a million articles, where a common syllable is in 500,000 documents,
    16,384 a block decode them in a third to a fifth of the time 1,024 take (2.2–2.4
    against 7.4–12.5 ms, in turns on a busy machine), before Whoosh's own cost per block.
    """
    codec = PackedCodec(blocklimit=POSTING_BLOCK, compression=0)
    codec.length_stats = False
    return codec


class ArticleWriter(TermWriter):
    """A writer that makes the index document itself: ``add_document(_record=...)`` takes an
    archived record as JSON.

    In a parallel build the parent process reads the archive and each sub-writer process
    analyses and indexes: with the documents made in the parent, it was the bottleneck
    (90,159 articles: 305 s, of which the sub-writers worked 280 s of CPU together), and
    a document of some 900 terms cost more to pickle to a sub-writer than its record.
    """

    def add_document(self, _record: bytes | None = None, **fields: Any) -> None:
        if _record is not None:
            fields = document_for(orjson.loads(_record))
        super().add_document(**fields)


def _write_state(generation: Path, last_seq: int) -> None:
    state = {"schema": SCHEMA_VERSION, "last_seq": last_seq, "written": time.time()}
    write_atomically(generation / STATE, json.dumps(state).encode())


class Indexer:
    """Builds and updates the index under ``index_dir`` from an :class:`Archive`."""

    def __init__(
        self,
        index_dir: Path,
        archive: Archive,
        *,
        procs: int | None = None,
        limitmb: int = 1024,
        batch: int = BATCH,
        phases: Phases | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.archive = archive
        self.procs = procs if procs is not None else min(2, os.cpu_count() or 1)
        self.limitmb = limitmb
        self.batch = batch
        self.phases: Phases = phases or SilentPhases()
        self.writer_lock = FileLock(self.index_dir / ".writer.lock", "index writer")
        self.rebuild_lock = FileLock(self.index_dir / ".rebuild.lock", "index rebuild")

    # -- state --------------------------------------------------------------------

    @property
    def live_dir(self) -> Path | None:
        return current_generation(self.index_dir)

    def exists(self) -> bool:
        live = self.live_dir
        return live is not None and whoosh_index.exists_in(str(live)) and index_state(live) is not None

    def last_seq(self) -> int:
        state = index_state(self.live_dir)
        return int(state["last_seq"]) if state else 0

    # -- housekeeping ---------------------------------------------------------------

    def _clean(self) -> list[str]:
        """Remove what killed writers and rebuilds left behind (call holding the writer lock)."""
        removed: list[str] = []
        live = self.live_dir
        if live is not None and whoosh_index.exists_in(str(live)):
            removed += [f"{live.name}/{n}" for n in clean_leftovers(FileStorage(str(live)), live)]
        if self.rebuild_lock.try_acquire():  # no rebuild is building a generation now
            try:
                for path in self.index_dir.iterdir():
                    stale = path.name.startswith(GENERATION) and path != live
                    if stale or path.name in _LEGACY or path.name.startswith(f".{CURRENT}."):
                        if path.is_dir():
                            shutil.rmtree(path, ignore_errors=True)
                        else:
                            path.unlink(missing_ok=True)
                        removed.append(path.name)
            finally:
                self.rebuild_lock.release()
        return removed

    def _new_generation(self) -> Path:
        numbers = [
            int(p.name[len(GENERATION) :])
            for p in self.index_dir.glob(GENERATION + "*")
            if p.name[len(GENERATION) :].isdigit()
        ]
        path = self.index_dir / f"{GENERATION}{max(numbers, default=0) + 1:06d}"
        path.mkdir()
        return path

    # -- building -----------------------------------------------------------------

    def rebuild(self) -> IndexReport:
        """Index every current article into a new generation, then swap it in and apply the
        changes made while it was built. Updates go on meanwhile; a second rebuild waits."""
        started = time.monotonic()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.rebuild_lock.acquire(say=self.phases.say)
        try:
            generation = self._new_generation()
            try:
                seq, n = self._build(generation)
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
        finally:
            self.rebuild_lock.release()
        report = IndexReport("rebuild", indexed=n, last_seq=seq)
        self.writer_lock.acquire(say=self.phases.say)
        try:
            self.phases.phase("switching to the new index")
            write_atomically(self.index_dir / CURRENT, f"{generation.name}\n".encode())
            caught_up = self._apply(generation)
            report.indexed += caught_up.indexed
            report.deleted = caught_up.deleted
            report.last_seq = max(seq, caught_up.last_seq)
            report.cleaned = self._clean()
        finally:
            self.writer_lock.release()
        report.seconds = time.monotonic() - started
        return report

    def _build(self, generation: Path) -> tuple[int, int]:
        """Write every current article into ``generation``; (position it reflects, documents)."""
        ix = whoosh_index.create_in(str(generation), build_schema())
        vocab = Vocabulary(generation / VOCABULARY)
        n = 0
        try:
            with self.archive.snapshot():
                seq = self.archive.last_seq()
                total = self.archive.count()
                writer = self._bulk_writer(ix, total)
                try:
                    self.phases.phase("indexing", total)
                    for raw in self.archive.iter_json():
                        writer.add_document(_record=raw)
                        vocab.add_records([orjson.loads(raw)])
                        n += 1
                        if n % 500 == 0:
                            self.phases.advance(500)
                    self.phases.advance(n % 500)
                    self.phases.phase("writing segments")
                    writer.commit()
                except BaseException:
                    writer.cancel()
                    raise
            self.phases.phase("writing the vocabulary")
            vocab.flush(seq)
        finally:
            vocab.close()
        _write_state(generation, seq)
        return seq, n

    def update(self, *, wait: float | None = None) -> IndexReport:
        """Apply the archive's changes since the last update; build the index if there is none.

        Waits for another writer (a rebuild's swap, another update) for ``wait`` seconds
        (None: as long as it takes), saying so; raises :class:`~opennews.locks.Busy` past that.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.writer_lock.acquire(wait=wait, say=self.phases.say)
        try:
            cleaned = self._clean()
            live = self.live_dir
            if live is not None and self.exists():
                report = self._apply(live)
                report.cleaned = cleaned
                return report
        finally:
            self.writer_lock.release()
        return self.rebuild()

    def _apply(self, generation: Path) -> IndexReport:
        """Apply changes after the generation's position, a batch of documents per commit
        (call holding the writer lock)."""
        started = time.monotonic()
        state = index_state(generation)
        last = int(state["last_seq"]) if state else 0
        report = IndexReport("update", last_seq=last)
        upto = self.archive.last_seq()
        if upto <= last:
            return report
        self.phases.phase("updating the index", None)
        ix = whoosh_index.open_dir(str(generation))
        vocab = Vocabulary(generation / VOCABULARY)
        counted = vocab.last_seq  # additions up to here are in the vocabulary already
        try:
            while last < upto:
                pending: dict[str, tuple[str, int]] = {}
                reached = last
                for seq, article_id, kind in self.archive.changes_since(last, limit=10_000):
                    if seq > upto:
                        break
                    pending[article_id] = (kind, seq)
                    reached = seq
                    if len(pending) >= self.batch:
                        break
                if reached == last:
                    break
                self._commit_batch(ix, vocab, pending, counted, report)
                vocab.flush(reached)
                _write_state(generation, reached)
                last = report.last_seq = reached
        finally:
            vocab.close()
        report.seconds = time.monotonic() - started
        return report

    def _commit_batch(
        self, ix: Any, vocab: Vocabulary, pending: dict[str, tuple[str, int]], counted: int, report: IndexReport
    ) -> None:
        records = self.archive.get_records([i for i, (kind, _) in pending.items() if kind != "withdraw"])
        purged = [i for i in pending if i not in records and (tomb := self.archive.withdrawal(i)) and tomb["purged"]]
        rewrite = self._forget(ix, vocab, purged) if purged else set()
        writer = TermWriter(ix, codec=_codec(), compound=False)
        try:
            for article_id, (kind, seq) in pending.items():
                record = records.get(article_id)
                if record is None:
                    writer.delete_by_term("id", article_id)
                    report.deleted += 1
                else:
                    writer.update_document(**document_for(record))
                    if kind == "add" and seq > counted:
                        vocab.add_records([record])
                    report.indexed += 1
                self.phases.advance(1)
            self.phases.phase("committing")
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        if rewrite:
            self._rewrite(ix, rewrite)
        self.phases.phase("updating the index", None)

    def _bulk_writer(self, ix: Any, documents: int) -> Any:
        """A writer for many documents at once: several processes when there are enough of them
        to pay for starting them (each writes a segment of its own)."""
        # Segments are separate files, not Whoosh's compound ones: a compound segment is
        # read through a BytesIO copy of the whole file, so every searching process would
        # hold the index in private memory instead of sharing the page cache.
        options: dict[str, Any] = {"limitmb": self.limitmb, "codec": _codec(), "compound": False}
        if documents > 2000 and self.procs > 1:
            return ParallelWriter(ix, procs=self.procs, writer=ArticleWriter, **options)
        return ArticleWriter(ix, **options)

    def _rewrite(self, ix: Any, rewrite: set[str]) -> None:
        """Write the segments that held purged text again, from the archive, without it."""
        with ix.searcher() as searcher:
            ids = segment_ids(searcher, rewrite)
        self.phases.phase("rewriting the index segments that held purged text", len(ids))
        writer = self._bulk_writer(ix, len(ids))
        try:
            for start in range(0, len(ids), 500):
                for record in self.archive.get_records(ids[start : start + 500]).values():
                    writer.add_document(_record=orjson.dumps(record))
                self.phases.advance(len(ids[start : start + 500]))
            writer.commit(mergetype=drop_segments(rewrite))
        except BaseException:
            writer.cancel()
            raise

    @staticmethod
    def _forget(ix: Any, vocab: Vocabulary, purged: list[str]) -> set[str]:
        """For articles purged from the archive: take their words out of the vocabulary and
        name the segments that hold their text (rewritten after the deletion commits)."""
        docnums: list[int] = []
        with ix.searcher() as searcher:
            column = searcher.reader().column_reader("text", translate=False)
            for article_id in purged:
                for n in searcher.document_numbers(id=article_id):
                    text = StoredText.decode(column[n])
                    vocab.remove_text(text.exact[0])
                    vocab.remove_text(text.exact[1])
                    docnums.append(n)
            return segments_holding(searcher, docnums)

    # -- checking -----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Compare the index with the archive: counts, ids and content hashes."""
        archive_hashes = dict(self.archive.id_hashes())
        live = self.live_dir
        if live is None or not self.exists():
            return VerifyReport(len(archive_hashes), 0, missing=sorted(archive_hashes))
        ix = whoosh_index.open_dir(str(live))
        with ix.searcher() as searcher:
            indexed = {fields["id"]: fields.get("content_hash") for fields in searcher.all_stored_fields()}
        report = VerifyReport(len(archive_hashes), len(indexed))
        report.missing = sorted(set(archive_hashes) - set(indexed))
        report.extra = sorted(set(indexed) - set(archive_hashes))
        report.stale = sorted(i for i, h in indexed.items() if i in archive_hashes and archive_hashes[i] != h)
        return report
