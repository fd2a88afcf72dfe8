"""A home: the archive and every copy derived from it, kept in step.

The archive is the truth. The search index, the static feeds, the dump files and a
running server's caches are copies, each following the archive's change log from
its own recorded position (see :mod:`opennews.sync`). Everything that changes the
archive goes through a :class:`Home` method that ends by syncing the copies, so a
library caller gets exactly what the command line gets, and a takedown reaches
every copy before ``withdraw`` returns. A running server notices the log moving
and syncs by itself what another process left behind (see :mod:`opennews.web.follow`);
the home's sync lock makes sure the two never do the same work at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .archive import Archive, ArchiveError
from .locks import Busy, FileLock
from .search.indexer import Indexer, IndexReport, Phases, SilentPhases
from .settings import Settings
from .sync import PARTS, DumpsCopy, FeedsCopy, PartReport, SyncReport, chosen

if TYPE_CHECKING:
    from .follow.follow import CycleReport, FollowOptions
    from .follow.sources import FetcherLike
    from .ingest import IngestOptions, IngestReport, Progress
    from .search import Searcher

__all__ = ["DEFAULT_BASE_URL", "Home"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Home:
    """One home folder: open it, change its archive, keep its copies in step."""

    def __init__(self, settings: Settings, *, base_url: str | None = None, phases: Phases | None = None) -> None:
        self.settings = settings
        self._base_url = base_url
        self.phases: Phases = phases or SilentPhases()
        # Two locks, so that a new article reaches the index while the dumps (which grow with the
        # archive: the snapshot is rewritten) are still being written for the change before it.
        self.sync_lock = FileLock(settings.home / ".sync.lock", "sync of this home's index and feeds")
        self.dumps_lock = FileLock(settings.home / ".dumps.lock", "sync of this home's dumps")

    @classmethod
    def at(cls, path: str | Path, **kwargs: Any) -> Home:
        return cls(Settings(Path(path)), **kwargs)

    # -- the archive ----------------------------------------------------------------

    def exists(self) -> bool:
        """Whether there is an archive: the SQLite file, or an archive's tables in the database."""
        if self.settings.database is None:
            return self.settings.archive_path.exists()
        try:
            self.archive(readonly=True).close()
        except ArchiveError:
            return False
        return True

    def archive(self, *, readonly: bool = False) -> Archive:
        """The archive; a read-only one from the read replica when there is one (the copies
        then follow the replica's change log, a moment behind the primary's)."""
        target = self.settings.read_target if readonly else self.settings.archive_target
        return Archive.open(target, readonly=readonly)

    def is_empty(self) -> bool:
        if not self.exists():
            return True
        with self.archive(readonly=True) as archive:
            return archive.count() == 0

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A Searcher on the live index, with its own read-only archive connection."""
        from .search import Searcher

        with self.archive(readonly=True) as archive:
            try:
                searcher = Searcher(self.settings.index_dir, archive)
            except FileNotFoundError as exc:
                raise ArchiveError(str(exc)) from None
            with searcher:
                yield searcher

    # -- what changes the archive (each ends by syncing) ------------------------------

    def ingest(
        self,
        paths: list[str],
        *,
        options: IngestOptions | None = None,
        progress: Progress | None = None,
        parts: Iterable[str] | None = PARTS,
    ) -> tuple[IngestReport, SyncReport]:
        """Read files into the archive, then bring ``parts`` of the copies up to date."""
        from .ingest import ingest

        with self.archive() as archive:
            report = ingest(archive, paths, rejects_path=self.settings.rejects_path, options=options, progress=progress)
        return report, self.sync(parts)

    def demo(
        self, articles: int, *, seed: int = 0, parts: Iterable[str] | None = PARTS
    ) -> tuple[IngestReport, SyncReport]:
        """Generate ``articles`` synthetic articles into the archive, then sync."""
        from .demo import generate
        from .ingest import Found, IngestOptions, Run

        options = IngestOptions()
        with (
            self.archive() as archive,
            Run(archive, rejects_path=self.settings.rejects_path, options=options, command="demo") as run,
        ):
            info = run.begin_input(f"demo (seed {seed})")
            info.format = "demo"
            for n, record in enumerate(generate(articles, seed=seed), 1):
                run.take(Found(f"article {n}", record), info)
            report = run.finish()
        return report, self.sync(parts)

    def follow(
        self,
        make_fetcher: Callable[[Callable[[str], bool]], FetcherLike],
        *,
        stop: threading.Event,
        once: bool = False,
        options: FollowOptions | None = None,
        after_cycle: Callable[[CycleReport], None] = lambda report: None,
        parts: Iterable[str] | None = PARTS,
    ) -> list[CycleReport]:
        """Poll the followed sources into the archive until ``stop`` is set (``once``: all now,
        then return), syncing ``parts`` of the copies after every cycle that changed the archive.

        ``make_fetcher`` is given the sources' ``allowed(url)`` and returns the fetcher to use."""
        from .follow.follow import LazyFetcher, follow
        from .follow.sources import allowed_for

        def cycle_done(report: CycleReport) -> None:
            if report.run and (report.run.total("added") or report.run.total("updated")):
                self.sync(parts)
            after_cycle(report)

        with self.archive() as archive:
            allowed = allowed_for(archive)
            fetcher = LazyFetcher(make_fetcher, allowed)
            try:
                return follow(
                    archive,
                    fetcher,
                    allowed,
                    rejects_path=self.settings.rejects_path,
                    stop=stop,
                    once=once,
                    options=options,
                    after_cycle=cycle_done,
                )
            finally:
                fetcher.close()

    def withdraw(self, article_id: str, reason: str, *, purge: bool = False) -> SyncReport:
        """Take an article down everywhere, leaving a tombstone; ``purge`` deletes its text."""
        with self.archive() as archive:
            archive.withdraw(article_id, reason, purge=purge)
        return self.sync()

    def restore(self, article_id: str) -> SyncReport:
        """Bring back an article withdrawn in error, everywhere."""
        with self.archive() as archive:
            archive.restore(article_id)
        return self.sync()

    def lift(self, article_id: str) -> SyncReport:
        """Remove a purged article's tombstone so that it may be ingested again."""
        with self.archive() as archive:
            archive.lift(article_id)
        return self.sync()

    # -- the copies ---------------------------------------------------------------------

    def base_url(self) -> str:
        """Where links in static feeds point: as given, else ``$OPENNEWS_BASE_URL``, else what
        the feeds were last written with, else the local server's address."""
        chosen_url = self._base_url or os.environ.get("OPENNEWS_BASE_URL")
        if not chosen_url:
            chosen_url = FeedsCopy(self.settings.feeds_dir, "").recorded().get("base_url")
        return str(chosen_url or DEFAULT_BASE_URL).rstrip("/")

    def indexer(self, archive: Archive) -> Indexer:
        return Indexer(self.settings.index_dir, archive, phases=self.phases)

    def positions(self) -> dict[str, int | None]:
        """The archive's position and each copy's (None: never built)."""
        if not self.exists():
            return {"archive": None, "index": None, "feeds": None, "dumps": None}
        with self.archive(readonly=True) as archive:
            index = self.indexer(archive)
            return {
                "archive": archive.last_seq(),
                "index": index.last_seq() if index.exists() else None,
                "feeds": FeedsCopy(self.settings.feeds_dir, self.base_url()).position(),
                "dumps": DumpsCopy(self.settings.dumps_dir).position(),
            }

    def behind(self) -> bool:
        """Whether some copy is behind the archive (cheap: a query and a few small files)."""
        found = self.positions()
        archive = found.pop("archive")
        return archive is not None and any(p is None or p < archive for p in found.values())

    def sync(
        self,
        parts: Iterable[str] | None = PARTS,
        *,
        wait: bool = True,
        force_feeds: bool = False,
        force_dumps: bool = False,
    ) -> SyncReport:
        """Bring ``parts`` of the copies up to the archive's position.

        The index and the feeds (which read the index) are brought up under the home's sync
        lock, the dumps under its dumps lock: one writer of each at a time, and a dumps rewrite
        never holds up the index. With ``wait`` it waits for another sync (saying so); without
        it a part whose lock is held is skipped, with ``busy`` set, the other sync doing the work.
        """
        wanted = chosen(parts)
        started = time.monotonic()
        report = SyncReport()
        if not wanted or not self.exists():
            return report
        if "index" in wanted or "feeds" in wanted:
            with self._holding(self.sync_lock, wait, report) as held, self.archive(readonly=True) as archive:
                report.target = archive.last_seq()
                if held:
                    self._sync_index_and_feeds(archive, wanted, report, force_feeds=force_feeds)
        if "dumps" in wanted:
            with self._holding(self.dumps_lock, wait, report) as held, self.archive(readonly=True) as archive:
                report.target = max(report.target, archive.last_seq())
                dumps = DumpsCopy(self.settings.dumps_dir)
                position = dumps.position()
                if held and (force_dumps or position is None or position < report.target):
                    self.phases.phase("writing dumps")
                    report.parts.append(dumps.sync(archive, force=force_dumps))
        report.seconds = time.monotonic() - started
        return report

    @contextmanager
    def _holding(self, lock: FileLock, wait: bool, report: SyncReport) -> Iterator[bool]:
        """Hold ``lock`` for the block (True), or, when it is busy and ``wait`` is off, say so
        in ``report`` and run the block without it (False: the block must skip its work)."""
        try:
            lock.acquire(wait=None if wait else 0, say=self.phases.say)
        except Busy as exc:
            report.busy = f"{report.busy}; {exc}" if report.busy else str(exc)
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    def _sync_index_and_feeds(
        self, archive: Archive, wanted: tuple[str, ...], report: SyncReport, *, force_feeds: bool
    ) -> None:
        indexer = self.indexer(archive)
        if "index" in wanted:
            before = indexer.last_seq() if indexer.exists() else None
            if before is None or before < report.target:
                report.parts.append(self._index_part(indexer.update(), before))
        if "feeds" in wanted and indexer.exists():
            feeds = FeedsCopy(self.settings.feeds_dir, self.base_url())
            upto = indexer.last_seq()
            position = feeds.position()
            if force_feeds or position is None or position < upto:
                self.phases.phase("writing static feeds")
                with self.searcher() as searcher:
                    report.parts.append(feeds.sync(archive, searcher, upto, everything=force_feeds))

    @staticmethod
    def _index_part(result: IndexReport, before: int | None) -> PartReport:
        what = "rebuilt" if result.mode == "rebuild" else "updated"
        detail = f"{what}: {result.indexed:,} indexed, {result.deleted:,} removed"
        return PartReport("index", before, result.last_seq, result.seconds, detail)

    def rebuild_index(self) -> IndexReport:
        """Build a fresh index and swap it in (searches and updates go on meanwhile)."""
        with self.archive(readonly=True) as archive:
            return self.indexer(archive).rebuild()
