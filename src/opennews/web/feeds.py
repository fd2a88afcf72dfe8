"""Feed endpoints: RSS, Atom and JSON Feed for latest, source, category, author and search,
their monthly archive pages, ``/feeds.opml`` and the feeds page.

Serving a feed should cost about as much as serving a file: each document is built once
per state of the home (the backend's invalidation key: the archive's and the index's
change-log positions) and kept as bytes and gzipped bytes with its validators, so a
request is a dictionary lookup, a 304 decision and a write.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..archive import Archive, ArchiveError
from ..caches import SizedLRU
from ..database import lost_connection
from ..feeds import (
    DEFAULT_LIMIT,
    FORMATS,
    ArchiveReader,
    Catalog,
    Document,
    FeedSpec,
    collect,
    document,
    not_modified,
    render_opml,
)
from ..feeds.http import make_document
from ..feeds.model import EPOCH
from ..feeds.names import name as name_of_segment
from ..feeds.spec import month_range
from .backend import Unavailable
from .i18n import N_
from .params import BadRequest, Query, parse_search
from .site import Site

__all__ = ["FeedViews"]

CACHE_SIZE = 512
#: ... holding at most this many bytes (body and gzipped body): a feed of 100 full articles is
#: some 400 kB, so 512 of them could hold 200 MB in every worker.
CACHE_BYTES = 64 << 20
_NAMED = ("source", "category", "author")


@dataclass
class _Cached:
    state: tuple[int, int]
    doc: Document


T = TypeVar("T")


def _size(cached: _Cached) -> int:
    return len(cached.doc.body) + len(cached.doc.gzipped)


class FeedViews:
    def __init__(self, site: Site) -> None:
        self.site = site
        self._reader: ArchiveReader | None = None
        self._open_lock = threading.Lock()
        self._cache: SizedLRU[tuple[Any, ...], _Cached] = SizedLRU(_size)
        self._catalog: tuple[tuple[int, int], Catalog] | None = None

    # -- state --------------------------------------------------------------------------

    def _open(self) -> ArchiveReader:
        with self._open_lock:
            if self._reader is None:
                try:
                    archive = Archive.open(self.site.settings.read_target, readonly=True)
                except (ArchiveError, OSError) as exc:
                    raise Unavailable(str(exc)) from None
                self._reader = ArchiveReader(self.site.backend, archive)
            return self._reader

    async def _state(self) -> tuple[int, int]:
        backend = self.site.backend
        return backend.fresh_state() or await run_in_threadpool(backend.state)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.archive.close()
            self._reader = None

    async def _reading(self, work: Callable[[], T]) -> T:
        """``work()`` in a worker thread; a connection to the archive found lost is dropped
        (a 503 now, opened anew at the next request), as the backend does with its own."""
        try:
            return await run_in_threadpool(work)
        except Exception as exc:
            if not lost_connection(exc):
                raise
            with self._open_lock:
                reader, self._reader = self._reader, None
            if reader is not None:
                with contextlib.suppress(Exception):
                    reader.archive.close()
            raise Unavailable(f"the connection to the archive was lost; retrying ({exc})") from None

    async def _document(self, key: tuple[Any, ...], build: Any) -> Document:
        state = await self._state()
        cached = self._cache.get(key)
        if cached is not None and cached.state == state:
            return cached.doc
        doc = await self._reading(build)
        self._cache.put(key, _Cached(state, doc), entries=CACHE_SIZE, max_bytes=CACHE_BYTES)
        return doc

    # -- requests -------------------------------------------------------------------------

    @staticmethod
    def _answer(request: Request, doc: Document) -> Response:
        headers = request.headers
        accepted = headers.get("accept-encoding", "")
        gzipped = any(
            part.split(";")[0].strip() == "gzip" and "q=0" not in part.replace(" ", "").split(";")[1:]
            for part in accepted.split(",")
        )
        if not_modified(doc, headers.get("if-none-match"), headers.get("if-modified-since")):
            kept = doc.headers(gzipped=gzipped)
            kept.pop("content-encoding", None)
            return Response(status_code=304, headers=kept)
        body = doc.gzipped if gzipped else doc.body
        response = Response(body, headers=doc.headers(gzipped=gzipped))
        response.headers["content-type"] = doc.media_type
        return response

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def _spec(self, request: Request, kind: str, value: str = "") -> FeedSpec:
        query = Query(request.scope["query_string"])
        params = parse_search(query)
        author = query.get("author").strip()
        if len(author) > 200:
            raise BadRequest(N_("%(name)s is too long (more than %(limit)s characters)."), name="author", limit=200)
        limit = params.per_page if ("limit" in query.values or "per_page" in query.values) else DEFAULT_LIMIT
        if kind != "search":
            return FeedSpec(kind=kind, value=value, limit=limit)  # type: ignore[arg-type]
        return FeedSpec(
            kind="search",
            q=params.q,
            source=params.source,
            category=params.category,
            author=author,
            date_from=params.date_from,
            date_to=params.date_to,
            limit=limit,
            exact=params.exact,
        )

    async def _serve(self, request: Request, spec: FeedSpec, fmt: str) -> Response:
        if fmt not in FORMATS:
            raise HTTPException(404)
        base = self._base(request)

        def build() -> Document:
            return document(collect(spec, self._open(), base), fmt)

        doc = await self._document(("feed", spec.key, fmt, base), build)
        return self._answer(request, doc)

    async def latest(self, request: Request) -> Response:
        return await self._serve(request, self._spec(request, "latest"), request.path_params["fmt"])

    async def search(self, request: Request) -> Response:
        return await self._serve(request, self._spec(request, "search"), request.path_params["fmt"])

    @staticmethod
    def _name(request: Request) -> str:
        """The source, category or author a feed path names (written by ``feeds.names``)."""
        name = name_of_segment(request.path_params["name"])
        if request.path_params["kind"] not in _NAMED or name is None:
            raise HTTPException(404)
        return name

    async def named(self, request: Request) -> Response:
        kind, name = request.path_params["kind"], self._name(request)
        return await self._serve(request, self._spec(request, kind, name), request.path_params["fmt"])

    async def archive(self, request: Request) -> Response:
        kind = request.path_params.get("kind", "latest")
        name = self._name(request) if "name" in request.path_params else ""
        month = request.path_params["month"]
        try:
            month_range(month)
        except ValueError:
            raise HTTPException(404) from None
        spec = FeedSpec(kind=kind, value=name, month=month)  # type: ignore[arg-type]
        return await self._serve(request, spec, request.path_params["fmt"])

    # -- discovery --------------------------------------------------------------------------

    async def _read_catalog(self) -> Catalog:
        state = await self._state()
        if self._catalog is None or self._catalog[0] != state:
            reader = await run_in_threadpool(self._open)
            self._catalog = (state, await self._reading(reader.catalog))
        return self._catalog[1]

    async def opml(self, request: Request) -> Response:
        base = self._base(request)
        catalog = await self._read_catalog()

        def build() -> Document:
            body = render_opml(base, catalog.sources, catalog.categories, catalog.newest)
            return make_document(body, "text/x-opml; charset=utf-8", catalog.newest or EPOCH, 3600)

        doc = await self._document(("opml", base), build)
        return self._answer(request, doc)

    async def page(self, request: Request) -> Response:
        catalog = await self._read_catalog()
        base = self._base(request)
        entries = [("latest", "", FeedSpec())]
        entries += [("source", n, FeedSpec(kind="source", value=n)) for n in catalog.sources]
        entries += [("category", n, FeedSpec(kind="category", value=n)) for n in catalog.categories]
        rows = [
            {"kind": kind, "name": name, "urls": {fmt: spec.url("", fmt) for fmt in FORMATS}, "page": spec.html_url("")}
            for kind, name, spec in entries
        ]
        context = {"feeds": rows, "base_url": base, "example": FeedSpec(kind="search", q="Hà Nội").url("", "rss")}
        return self.site.render(request, "feeds.html", context)
