"""What the web app reads from: one archive connection and one Searcher per process.

Neither a SQLite connection nor the Whoosh searcher may be used by two threads at
once, and Starlette runs blocking work in a thread pool; so each has its own lock
(the Searcher also reads articles through its own archive connection, so searches
never wait for page reads and the other way round). Every method here blocks:
call it through ``run_in_threadpool``.

A home without an index still serves pages: search answers 503 until the index
appears, and the Searcher is opened as soon as it does, without a restart. Once
open, the Searcher notices index commits, rebuilds and archive changes by itself.

:meth:`Backend.state` is the one invalidation key of every cache in the app (feed
documents, the OPML catalog, stats, the Searcher's answers): the archive's change-log
position and the index's, looked at no more than every :data:`STATE_CHECK` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from ..archive import Archive, ArchiveError
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
            if self._searcher is not None:
                self._searcher.close()
            if self._searcher_archive is not None:
                self._searcher_archive.close()
            self._searcher = self._searcher_archive = None
        with self._archive_lock:
            if self._archive is not None:
                self._archive.close()
            self._archive = None

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
            self._searcher = Searcher(self.settings.index_dir, archive)
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
            with self._search_lock:
                try:
                    searcher = self._open_searcher()
                except Unavailable:
                    pass
                else:
                    searcher.refresh()  # which reads the archive's position too
                    state = searcher.position
            if state is None:
                with self._archive_lock:
                    state = (self._open_archive().last_seq(), -1)
            self._state, self._state_checked = state, now
        return self._state

    def fresh_state(self) -> tuple[int, int] | None:
        """The key as last looked at, if that was recent enough to use without looking again:
        async callers then need no trip to a worker thread."""
        return self._state if time.monotonic() - self._state_checked < STATE_CHECK else None

    def hidden_since(self, seq: int) -> list[str]:
        """Articles withdrawn after change ``seq`` and still withdrawn."""
        with self._archive_lock:
            return self._open_archive().hidden_since(seq)

    # -- search ---------------------------------------------------------------------

    @property
    def searchable(self) -> bool:
        return self._searcher is not None

    def search(self, request: SearchRequest) -> SearchResponse:
        with self._search_lock:
            return self._open_searcher().search(request)

    def complete(self, q: str, limit: int = 5) -> list[str]:
        """Completions of a query being typed (``Searcher.complete``)."""
        with self._search_lock:
            return self._open_searcher().complete(q, limit)

    def matching_ids(self, request: SearchRequest) -> list[str]:
        """Every matching article id, newest first (for exports)."""
        with self._search_lock:
            return self._open_searcher().matching_ids(request)

    def related(self, article_id: str, limit: int = 5) -> list[Hit]:
        with self._search_lock:
            try:
                searcher = self._open_searcher()
            except Unavailable:
                return []
            return searcher.related(article_id, limit)

    def index_documents(self) -> int | None:
        with self._search_lock:
            try:
                searcher = self._open_searcher()
            except Unavailable:
                return None
            searcher.refresh()
            return searcher.doc_count

    # -- archive --------------------------------------------------------------------

    def record(self, article_id: str) -> dict[str, Any] | None:
        with self._archive_lock:
            return self._open_archive().get_record(article_id)

    def withdrawal(self, article_id: str) -> dict[str, Any] | None:
        with self._archive_lock:
            return self._open_archive().withdrawal(article_id)

    def article(self, article_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[Hit]]:
        """(record, tombstone, related articles): what an article page and its JSON twin show,
        in one trip to the worker thread. A withdrawn article has no record, only its tombstone."""
        record = self.record(article_id)
        if record is None:
            return None, self.withdrawal(article_id), []
        return record, None, self.related(article_id, 5)

    def count(self) -> int:
        with self._archive_lock:
            return self._open_archive().count()

    def listing(self, offset: int, limit: int) -> Sequence[tuple[str, str | None, str]]:
        with self._archive_lock:
            return self._open_archive().listing(offset, limit)

    def stats(self) -> dict[str, Any]:
        """Archive statistics, recomputed only when the archive has changed (they scan every row)."""
        with self._archive_lock:
            archive = self._open_archive()
            seq = archive.last_seq()
            if self._stats is None or self._stats[0] != seq:
                self._stats = (seq, archive.stats())
            return self._stats[1]
