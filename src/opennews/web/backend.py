"""What the web app reads from: one archive connection and one Searcher per process.

Neither a SQLite connection nor the Whoosh searcher may be used by two threads at
once, and Starlette runs blocking work in a thread pool; so each has its own lock
(the Searcher also reads articles through its own archive connection, so searches
never wait for page reads and the other way round). Every method here blocks:
call it through ``run_in_threadpool``.

A home without an index still serves pages: search answers 503 until the index
appears, and the Searcher is opened as soon as it does, without a restart. Once
open, the Searcher notices index commits, rebuilds and archive changes by itself; it is
opened ``serving``: a new generation of the index is prepared by a thread of its own while
requests go on being answered (each holds the search lock here, so a request that prepared
it would have held up every other one), and swapped in by the next request.

:meth:`Backend.state` is the one invalidation key of every cache in the app (feed
documents, the OPML catalog, stats, the Searcher's answers): the archive's change-log
position and the index's, looked at no more than every :data:`STATE_CHECK` seconds.

On PostgreSQL the two connections are kept for the life of the process; when the server
drops one (a restart, a fail-over, a session ended by an administrator), the request that
finds out answers 503 and the connection is opened anew on the next one, instead of every
later request failing on a dead connection.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ..archive import Archive, ArchiveError
from ..database import lost_connection
from ..search import Hit, Searcher, SearchRequest, SearchResponse
from ..settings import Settings

__all__ = ["Backend", "Unavailable"]

_RETRY_SECONDS = 2.0
#: How stale the state key may be (seconds): a change shows within this, plus a request.
STATE_CHECK = 0.25


class Unavailable(Exception):
    """The archive or the index is not there (yet): a 503 that says what to run."""


class Backend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._archive: Archive | None = None
        self._archive_lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._searcher_archive: Archive | None = None
        self._search_lock = threading.Lock()
        self._next_try = 0.0
        self._stats: tuple[int, dict[str, Any]] | None = None
        self._state: tuple[int, int] = (-1, -1)
        self._state_checked = float("-inf")

    # -- lifecycle ------------------------------------------------------------------

    def open(self) -> None:
        """Open what exists now; anything missing is retried on later requests."""
        try:
            with self._archive_lock:
                self._open_archive()
        except Unavailable:
            pass
        try:
            with self._search_lock:
                self._open_searcher(force=True)
        except Unavailable:
            pass

    def close(self) -> None:
        with self._search_lock:
            self._drop_searcher()
        with self._archive_lock:
            self._drop_archive()

    def _drop_searcher(self) -> None:
        searcher, archive = self._searcher, self._searcher_archive
        self._searcher = self._searcher_archive = None
        for part in (searcher, archive):
            if part is not None:
                with contextlib.suppress(Exception):  # a connection already gone cannot be closed cleanly
                    part.close()

    def _drop_archive(self) -> None:
        archive, self._archive = self._archive, None
        if archive is not None:
            with contextlib.suppress(Exception):
                archive.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Archive]:
        """The archive, under its lock; a connection found lost is dropped (503, opened anew next time)."""
        with self._archive_lock:
            try:
                yield self._open_archive()
            except Exception as exc:
                if not lost_connection(exc):
                    raise
                self._drop_archive()
                raise Unavailable(f"the connection to the archive was lost; retrying ({exc})") from None

    @contextlib.contextmanager
    def _searching(self, *, force: bool = False) -> Iterator[Searcher]:
        """The Searcher, under its lock; likewise for its archive connection."""
        with self._search_lock:
            try:
                yield self._open_searcher(force=force)
            except Exception as exc:
                if not lost_connection(exc):
                    raise
                self._drop_searcher()
                self._next_try = 0.0  # the index is there: try again at the next request
                raise Unavailable(f"the connection to the archive was lost; retrying ({exc})") from None

    def _open_archive(self) -> Archive:
        if self._archive is None:
            try:
                self._archive = Archive.open(self.settings.read_target, readonly=True)
            except (ArchiveError, OSError) as exc:
                raise Unavailable(str(exc)) from None
        return self._archive

    def _open_searcher(self, *, force: bool = False) -> Searcher:
        if self._searcher is not None:
            return self._searcher
        now = time.monotonic()
        if not force and now < self._next_try:
            raise Unavailable("the search index is not built yet; run 'opennews index'")
        self._next_try = now + _RETRY_SECONDS
        archive = None
        try:
            archive = Archive.open(self.settings.read_target, readonly=True)
            self._searcher = Searcher(self.settings.index_dir, archive, serving=True)
        except (ArchiveError, FileNotFoundError, OSError) as exc:
            if archive is not None:
                archive.close()
            raise Unavailable(str(exc)) from None
        self._searcher_archive = archive
        return self._searcher

    # -- the invalidation key ---------------------------------------------------------

    def state(self) -> tuple[int, int]:
        """(archive position, index position): every cache is valid for one value of it.
        The index position is -1 while there is no index."""
        now = time.monotonic()
        if now - self._state_checked >= STATE_CHECK:
            state = None
            with contextlib.suppress(Unavailable), self._searching() as searcher:
                searcher.refresh()  # which reads the archive's position too
                state = searcher.position
            if state is None:
                with self._reading() as archive:
                    state = (archive.last_seq(), -1)
            self._state, self._state_checked = state, now
        return self._state

    def fresh_state(self) -> tuple[int, int] | None:
        """The key as last looked at, if that was recent enough to use without looking again:
        async callers then need no trip to a worker thread."""
        return self._state if time.monotonic() - self._state_checked < STATE_CHECK else None

    def hidden_since(self, seq: int) -> list[str]:
        """Articles withdrawn after change ``seq`` and still withdrawn."""
        with self._reading() as archive:
            return archive.hidden_since(seq)

    # -- search ---------------------------------------------------------------------

    @property
    def searchable(self) -> bool:
        return self._searcher is not None

    def search(self, request: SearchRequest) -> SearchResponse:
        with self._searching() as searcher:
            return searcher.search(request)

    def complete(self, q: str, limit: int = 5) -> list[str]:
        """Completions of a query being typed (``Searcher.complete``)."""
        with self._searching() as searcher:
            return searcher.complete(q, limit)

    def matching_ids(self, request: SearchRequest) -> list[str]:
        """Every matching article id, newest first (for exports)."""
        with self._searching() as searcher:
            return searcher.matching_ids(request)

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        with contextlib.suppress(Unavailable), self._searching() as searcher:
            return searcher.related(article_id, limit)
        return []

    def index_documents(self) -> int | None:
        with contextlib.suppress(Unavailable), self._searching() as searcher:
            searcher.refresh()
            return searcher.doc_count
        return None

    # -- archive --------------------------------------------------------------------

    def record(self, article_id: str) -> dict[str, Any] | None:
        with self._reading() as archive:
            return archive.get_record(article_id)

    def withdrawal(self, article_id: str) -> dict[str, Any] | None:
        with self._reading() as archive:
            return archive.withdrawal(article_id)

    def article(self, article_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[Hit]]:
        """(record, tombstone, related articles): what an article page and its JSON twin show,
        in one trip to the worker thread. A withdrawn article has no record, only its tombstone."""
        record = self.record(article_id)
        if record is None:
            return None, self.withdrawal(article_id), []
        return record, None, self.related(article_id, 5)

    def count(self) -> int:
        with self._reading() as archive:
            return archive.count()

    def listing(self, offset: int, limit: int) -> Sequence[tuple[str, str | None, str]]:
        with self._reading() as archive:
            return archive.listing(offset, limit)

    def stats(self) -> dict[str, Any]:
        """Archive statistics, recomputed only when the archive has changed (they scan every row)."""
        with self._reading() as archive:
            seq = archive.last_seq()
            if self._stats is None or self._stats[0] != seq:
                self._stats = (seq, archive.stats())
            return self._stats[1]
