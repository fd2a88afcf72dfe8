"""HTML pages: search (the home page), article, about. Each renders its payload.

Views only parse, call the backend in the thread pool and render; the data each page
shows is built by :mod:`opennews.web.payloads`, shared with the JSON API.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .params import MAX_QUERY, Query, article_id, parse_search
from .payloads import article_payload, named_feed_url, run_search, search_feed_urls, search_payload, stats_payload
from .site import Site

__all__ = ["Pages"]


class Pages:
    def __init__(self, site: Site) -> None:
        self.site = site

    async def search(self, request: Request) -> Response:
        params = parse_search(Query(request.scope["query_string"]))
        response = await run_in_threadpool(run_search, self.site.backend, params)
        data = search_payload(params, response)
        context: dict[str, Any] = {
            "data": data,
            "params": params,
            "max_query": MAX_QUERY,
            "api_url": "/api/search?" + params.query_string(),
            "feed_urls": search_feed_urls(params) if params.q or params.filtered else None,
            "browsing": not params.q and not params.filtered,
            "facet_links": {
                name: params.filter_links(name, [f["value"] for f in values]) for name, values in data["facets"].items()
            },
        }
        return self.site.render(request, "search.html", context)

    async def article(self, request: Request) -> Response:
        wanted = article_id(request.path_params["id"])
        if wanted is None:
            raise HTTPException(404)
        record, tomb, related = await run_in_threadpool(self.site.backend.article, wanted)
        if record is None:
            if tomb is None:
                raise HTTPException(404)
            return self.site.render(request, "withdrawn.html", {"tomb": tomb}, status_code=410)
        data = article_payload(record, related)
        paragraphs = [p.strip() for p in (record.get("body") or "").split("\n\n") if p.strip()]
        feeds = {"source_atom": named_feed_url("source", record["source"], "atom")}
        if record.get("category"):
            feeds["category"] = named_feed_url("category", record["category"])
        context = {
            "data": data,
            "a": record,
            "paragraphs": paragraphs,
            "api_url": "/api" + data["page_url"],
            "feeds": feeds,
        }
        return self.site.render(request, "article.html", context)

    async def about(self, request: Request) -> Response:
        backend = self.site.backend
        stats = await run_in_threadpool(backend.stats)
        documents = await run_in_threadpool(backend.index_documents)
        data = stats_payload(stats, documents)
        return self.site.render(request, "about.html", {"data": data, "api_url": "/api/stats"})
