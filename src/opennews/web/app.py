"""The Starlette application: the route table, the middleware, and how errors look.

``create_app(settings)`` builds one app for one home. ``app_from_env()`` is the
factory ``opennews serve`` hands to uvicorn (each worker process calls it and
opens its own archive connection and Searcher, in the lifespan). Reads go through that
read-only connection; the write API (writes.py) opens its own for each write.

Errors are answered in the shape the client asked for: JSON under ``/api/``, a
page in the reader's language elsewhere. Nothing ever shows a traceback. A 405
names the methods the address answers (``Allow``), as RFC 9110 requires.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..settings import Settings
from .api import Api, JSONResponse, error_json
from .backend import Unavailable
from .discovery import Discovery
from .dumps import Dumps
from .feeds import FeedViews
from .follow import Follower
from .guard import PathGuard
from .i18n import N_
from .pages import Pages
from .params import BadRequest
from .security import _HEADERS, SecurityHeaders
from .site import Site
from .writes import Writes

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("opennews.web")

_TITLES = {
    400: N_("This request cannot be answered"),
    422: N_("This request cannot be answered"),
    404: N_("Page not found"),
    405: N_("This method is not allowed here"),
    410: N_("This article was withdrawn"),
    503: N_("Search is not available yet"),
    500: N_("Something went wrong on our side"),
}
_MESSAGES = {
    404: N_("There is no page at this address. Try searching instead."),
    405: N_("This address only answers GET requests."),
    503: N_("The archive or its search index is not ready. An operator can run 'opennews index' to build it."),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(site: Site, request: Request, status: int, message: str) -> Response:
    language = site.language(request)
    headers = {"cache-control": "no-store"}
    try:
        return site.render(
            request,
            "error.html",
            {"status": status, "title": language.gettext(_TITLES.get(status, _TITLES[400])), "message": message},
            status_code=status,
            headers=headers,
        )
    except Exception:  # a broken template must not turn an error into a traceback
        log.exception("rendering the error page failed")
        return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>\n", status, headers=headers)


def bad_request_response(site: Site, request: Request, exc: BadRequest) -> Response:
    """The answer to a request that cannot be answered as asked (400, or 422), in the client's shape."""
    if _wants_json(request):
        return error_json(exc.status, str(exc))
    text = site.language(request).gettext(exc.message)
    return _error_page(site, request, exc.status, text % exc.values if exc.values else text)


def _handlers(site: Site) -> dict[type[Exception] | int, object]:
    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return bad_request_response(site, request, exc)

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("unavailable: %s", exc)
        if _wants_json(request):
            return error_json(503, str(exc))
        response = _error_page(site, request, 503, site.language(request).gettext(_MESSAGES[503]))
        response.headers["retry-after"] = "30"
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        if _wants_json(request):
            response: Response = error_json(status, exc.detail)
        else:
            message = site.language(request).gettext(_MESSAGES.get(status, _TITLES.get(status, _TITLES[400])))
            response = _error_page(site, request, status, message)
        for name, value in (exc.headers or {}).items():  # the router's Allow on a 405
            response.headers[name] = value
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("error answering %s %s", request.method, request.url.path, exc_info=exc)
        if _wants_json(request):
            response: Response = error_json(500, "internal error")
        else:
            response = HTMLResponse(
                '<!doctype html><html lang="vi"><meta charset="utf-8"><title>500</title>'
                "<h1>Lỗi máy chủ · Server error</h1><p>Xin thử lại sau. Please try again later.</p></html>\n",
                status_code=500,
                headers={"cache-control": "no-store"},
            )
        for name, value in _HEADERS:  # this response bypasses the middleware stack
            response.headers[name.decode()] = value.decode()
        return response

    return {BadRequest: bad_request, Unavailable: unavailable, HTTPException: http_error, Exception: server_error}


def create_app(settings: Settings, *, follow: bool = True) -> Starlette:
    """One app serving one home; the archive and index are opened when it starts.

    ``follow``: bring the home's copies up to date when another process changes the
    archive (see follow.py); off for a home this process must not write.
    """
    site = Site(settings)
    pages, api, discovery = Pages(site), Api(site), Discovery(site)
    dumps = Dumps(site)
    feeds = FeedViews(site)
    writes = Writes(settings)

    async def healthz(request: Request) -> Response:
        try:
            count = await run_in_threadpool(site.backend.count)
        except Unavailable as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        documents = await run_in_threadpool(site.backend.index_documents)
        body = {"status": "ok", "articles": count, "index_documents": documents, "worker": os.getpid()}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    routes = [
        Route("/", pages.search, name="search"),
        Route("/articles/{id}", pages.article, name="article"),
        Route("/about", pages.about, name="about"),
        Route("/api/search", api.search, name="api_search"),
        Route("/api/articles", writes.ingest, methods=["POST"], name="api_ingest"),
        Route("/api/articles/{id}", api.article, name="api_article"),
        Route("/api/articles/{id}/withdraw", writes.withdraw, methods=["POST"], name="api_withdraw"),
        Route("/api/articles/{id}/restore", writes.restore, methods=["POST"], name="api_restore"),
        Route("/api/suggest", api.suggest, name="api_suggest"),
        Route("/api/stats", api.stats, name="api_stats"),
        Route("/api/openapi.json", api.openapi, name="openapi"),
        Route("/opensearch.xml", discovery.opensearch, name="opensearch"),
        Route("/robots.txt", discovery.robots, name="robots"),
        Route("/sitemap.xml", discovery.sitemap_index, name="sitemap_index"),
        Route("/sitemaps/articles-{n:int}.xml", discovery.sitemap, name="sitemap"),
        Route("/feeds", feeds.page, name="feeds"),
        Route("/feeds.opml", feeds.opml, name="feeds_opml"),
        Route("/feeds/feeds.opml", feeds.opml, name="feeds_opml_file"),  # where the static copy lives
        Route("/feeds/latest.{fmt}", feeds.latest, name="feed_latest"),
        Route("/feeds/search.{fmt}", feeds.search, name="feed_search"),
        Route("/feeds/latest/archive/{month}.{fmt}", feeds.archive, name="feed_latest_archive"),
        Route("/feeds/{kind}/{name}/archive/{month}.{fmt}", feeds.archive, name="feed_archive"),
        Route("/feeds/{kind}/{name}.{fmt}", feeds.named, name="feed_named"),
        Route("/healthz", healthz, name="healthz"),
        Route("/dumps/", dumps.index, name="dumps"),
        Route("/dumps/{name}", dumps.file, name="dump_file"),
        Route("/api/dumps", dumps.api_index, name="api_dumps"),
        Route("/api/export", dumps.export, name="api_export"),
        Route("/schema/article.json", dumps.schema, name="article_schema"),
        Route("/static/{path:path}", site.assets.serve, name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(site.backend.open)
        follower = Follower(settings)
        if follow:
            follower.start()
        try:
            yield
        finally:
            await run_in_threadpool(follower.stop)
            site.backend.close()
            feeds.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(PathGuard, refuse=lambda request, exc: bad_request_response(site, request, exc)),
            # Compressed downloads keep their Content-Length and byte ranges: never gzip them again.
            Middleware(
                GZipMiddleware,
                minimum_size=800,
                compresslevel=5,
                exclude_content_types=(
                    *DEFAULT_EXCLUDED_CONTENT_TYPES,
                    "application/zstd",
                    "application/vnd.apache.parquet",
                ),
            ),
        ],
        exception_handlers=_handlers(site),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.site = site
    return app


def app_from_env() -> Starlette:
    """The uvicorn factory: the home comes from ``OPENNEWS_HOME`` (``opennews serve`` sets it)."""
    return create_app(Settings.from_env())
