"""The JSON API: each page's data at ``/api/...``, plus suggestions and the OpenAPI document.

Responses are the payloads the pages render, serialised with orjson. Errors are
JSON too: ``{"error": {"status": 400, "message": "..."}}``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..search import SearchRequest
from .backend import Backend, Unavailable
from .openapi import openapi_document
from .params import MAX_QUERY, BadRequest, Query, article_id, parse_search
from .payloads import article_payload, run_search, search_payload, stats_payload, suggest_payload
from .site import Site

__all__ = ["Api", "JSONResponse"]

COMPLETIONS = 5  # completions asked for; the did-you-mean and headlines fill the list up to SUGGESTIONS


class JSONResponse(Response):
    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200, **kwargs: Any) -> None:
        super().__init__(content, status_code=status_code, **kwargs)
        self.headers.setdefault("cache-control", "public, max-age=60")
        self.headers.setdefault("access-control-allow-origin", "*")

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_json(status: int, message: str) -> JSONResponse:
    response = JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    response.headers["cache-control"] = "no-store"
    return response


def _suggestions(backend: Backend, q: str) -> tuple[list[str], Any]:
    """Completions of the query being typed, and the search the rest of the suggestions come from."""
    request = SearchRequest(q=q.strip(), per_page=5, facets=False, snippets=False)
    try:
        completions, response = backend.complete(q, COMPLETIONS), backend.search(request)
        if completions and not response.hits:
            # A half-typed syllable matches nothing yet; the headlines are those of what it becomes.
            completed = backend.search(replace(request, q=completions[0], suggest=False))
            response = replace(response, hits=completed.hits)
        return completions, response
    except Unavailable:
        return [], None


class Api:
    def __init__(self, site: Site) -> None:
        self.site = site
        self._openapi = orjson.dumps(openapi_document())

    async def search(self, request: Request) -> Response:
        params = parse_search(Query(request.scope["query_string"]), strict=True)
        response = await run_in_threadpool(run_search, self.site.backend, params)
        return JSONResponse(search_payload(params, response))

    async def article(self, request: Request) -> Response:
        wanted = article_id(request.path_params["id"])
        if wanted is None:
            raise HTTPException(404)
        record, tomb, related = await run_in_threadpool(self.site.backend.article, wanted)
        if record is None:
            if tomb is None:
                raise HTTPException(404)
            return JSONResponse({"withdrawn": tomb}, status_code=410)
        return JSONResponse(article_payload(record, related))

    async def suggest(self, request: Request) -> Response:
        query = Query(request.scope["query_string"])
        q = query.get("q")
        if len(q) > MAX_QUERY:
            raise BadRequest("q is too long (more than %(limit)s characters).", limit=MAX_QUERY)
        completions, response = await run_in_threadpool(_suggestions, self.site.backend, q) if q.strip() else ([], None)
        body = JSONResponse(suggest_payload(q, response, completions))
        body.headers["content-type"] = "application/x-suggestions+json"
        return body

    async def stats(self, request: Request) -> Response:
        backend = self.site.backend
        stats = await run_in_threadpool(backend.stats)
        documents = await run_in_threadpool(backend.index_documents)
        return JSONResponse(stats_payload(stats, documents))

    async def openapi(self, request: Request) -> Response:
        return Response(self._openapi, media_type="application/json", headers={"cache-control": "public, max-age=3600"})
