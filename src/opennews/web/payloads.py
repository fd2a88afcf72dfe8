"""The data behind every page, as plain JSON-ready dicts: the page renders it, the API returns it.

Keeping one function per page kind that both the HTML view and its ``/api`` twin
call is what makes "the JSON is exactly what the page shows" true by construction.
Nothing here formats for a language; templates do that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import nh3

from ..feeds import FORMATS, FeedSpec
from ..search import Hit, SearchResponse
from .backend import Backend
from .params import MAX_PAGE, SearchParams

__all__ = ["article_payload", "search_payload", "stats_payload", "suggest_payload"]

SUGGESTIONS = 8  # a browser shows about this many under its search bar

#: Only <mark> survives in highlighted text: the searcher escapes, and this makes sure.
_MARK_ONLY: dict[str, Any] = {"tags": {"mark"}, "attributes": {}}


def article_path(article_id: str) -> str:
    return f"/articles/{quote(article_id, safe='')}"


_TEXT = r"(?:[^<>&\r\x00\u00a0]|&(?:amp|lt|gt);)*"
#: Text and whole <mark> elements, written as the sanitiser writes them (what the searcher produces).
_ALREADY_CLEAN = re.compile(f"{_TEXT}(?:<mark>{_TEXT}</mark>{_TEXT})*")


def marked(html: str) -> str:
    """Highlighted text reduced to text and ``<mark>``, whatever the layer below produced.

    Text that is already only that, in the sanitiser's own spelling, is returned as it
    is: the same string nh3 would give, without its ~20 µs of parsing per snippet.
    """
    if not html:
        return ""
    if _ALREADY_CLEAN.fullmatch(html):
        return html
    return nh3.clean(html, **_MARK_ONLY)


def hit_payload(hit: Hit, *, snippets: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": hit.id,
        "rank": hit.rank,
        "title": hit.title,
        "url": hit.url,
        "page_url": article_path(hit.id),
        "api_url": "/api" + article_path(hit.id),
        "source": hit.source,
        "category": hit.category,
        "author": hit.author,
        "published": hit.published,
        "sapo": hit.sapo,
        "score": hit.score,
    }
    if snippets:
        item["title_html"] = marked(hit.title_html) or None
        item["snippet"] = marked(hit.snippet) or None
    return item


def _facets(params: SearchParams, response: SearchResponse) -> dict[str, list[dict[str, Any]]]:
    selected = {
        "source": params.source,
        "category": params.category,
        "year": str(params.date_from.year)
        if params.date_from and params.date_to and params.date_from.year == params.date_to.year
        else "",
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for name in ("source", "category", "year"):
        values = response.facets.get(name, [])
        out[name] = [{"value": v, "count": n, "selected": v == selected[name]} for v, n in values]
    return out


def search_payload(params: SearchParams, response: SearchResponse) -> dict[str, Any]:
    pages = max(1, min(response.pages, MAX_PAGE))
    api = "/api/search?"
    return {
        "query": params.q,
        "filters": {
            "source": params.source or None,
            "category": params.category or None,
            "from": params.date_from.isoformat() if params.date_from else None,
            "to": params.date_to.isoformat() if params.date_to else None,
        },
        "sort": params.sort,
        "page": params.page,
        "limit": params.per_page,
        "pages": pages,
        "total": response.total,
        "results": [hit_payload(h) for h in response.hits],
        "facets": _facets(params, response),
        "suggestion": response.suggestion,
        "suggestion_kind": response.suggestion_kind,
        "query_run": response.ran or params.q,
        "query_reason": response.ran_kind,
        "exact": params.exact,
        "exact_url": api + params.query_string(exact="1", page="") if response.ran else None,
        "relaxed": response.relaxed,
        "notes": list(response.notes),
        "next": api + params.query_string(page=params.page + 1) if params.page < pages else None,
        "prev": api + params.query_string(page=params.page - 1) if params.page > 1 else None,
        "took_ms": round(response.took_ms, 1),
    }


def search_feed_urls(params: SearchParams) -> dict[str, str]:
    """The feeds of a search (its query and filters; not its page, size or sort), per format.

    A page listing one source or one category and nothing else is that source's or
    category's own feed (the link OPML and article pages give), not a search feed.
    """
    if not (params.q or params.date_from or params.date_to) and bool(params.source) != bool(params.category):
        kind = "source" if params.source else "category"
        return {fmt: named_feed_url(kind, params.source or params.category, fmt) for fmt in FORMATS}
    query = params.query_string(page="", limit="", sort="")
    return {fmt: f"/feeds/search.{fmt}?{query}" for fmt in FORMATS}


def article_payload(record: dict[str, Any], related: list[Hit]) -> dict[str, Any]:
    return {
        "article": record,
        "page_url": article_path(record["id"]),
        "related": [hit_payload(h, snippets=False) for h in related],
        "feeds": {"latest": "/feeds/latest.rss", "source": named_feed_url("source", record["source"])},
    }


def named_feed_url(kind: str, name: str, fmt: str = "rss") -> str:
    """The feed of one source, category or author: the path ``FeedSpec`` writes for it."""
    return FeedSpec(kind=kind, value=name).url("", fmt)  # type: ignore[arg-type]


def stats_payload(stats: dict[str, Any], index_documents: int | None) -> dict[str, Any]:
    first, last = stats["published_range"]
    return {
        "articles": stats["articles"],
        "sources": stats["sources"],
        "versions": stats["versions"],
        "withdrawn": stats["withdrawn"],
        "top_sources": [{"value": v, "count": n} for v, n in stats["top_sources"]],
        "top_categories": [{"value": v, "count": n} for v, n in stats["top_categories"]],
        "by_year": [{"value": v, "count": n} for v, n in stats["by_year"].items()],
        "published_range": {"first": first, "last": last},
        "index": {"available": index_documents is not None, "documents": index_documents},
        "last_change": stats["last_change"],
    }


def suggest_payload(q: str, response: SearchResponse | None, completions: Sequence[str] = ()) -> list[Any]:
    """OpenSearch suggestions: ``[query, [completions], [descriptions], [urls]]``.

    The query's completions come first (what is being typed, finished), then the "did
    you mean" reading (accents restored, Telex decoded), then the headlines of the best
    matches; browsers show them under their search bar, so each appears once and the
    list stays short (``SUGGESTIONS``).
    """
    texts: list[str] = []
    descriptions: list[str] = []
    urls: list[str] = []

    def offer(text: str, description: str, url: str) -> None:
        if text not in texts and len(texts) < SUGGESTIONS:
            texts.append(text)
            descriptions.append(description)
            urls.append(url)

    for completion in completions:
        offer(completion, "", "/?" + urlencode({"q": completion}))
    if response is not None:
        if response.suggestion:
            offer(response.suggestion, "", "/?" + urlencode({"q": response.suggestion}))
        for hit in response.hits:
            offer(hit.title, hit.source, article_path(hit.id))
    return [q, texts, descriptions, urls]


def run_search(backend: Backend, params: SearchParams) -> SearchResponse:
    """The one blocking call both search views make (in the thread pool)."""
    return backend.search(params.request())
