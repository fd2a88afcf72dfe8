"""Saved article pages (HTML): JSON-LD first, then Open Graph meta, then the text.

Most Vietnamese outlets embed a schema.org ``NewsArticle`` in their pages; where
one exists it names the headline, dates and byline reliably. The body comes from
the ``<article>`` element when there is one, else from every paragraph of the
page, and trailing share/related-links chrome is cut the same way as page text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..html import parse_page
from ..records import Document, Found, Reject
from .jsonmap import map_object, shape_of
from .pagelines import classify_lines

__all__ = ["read_webpage"]


def _jsonld_article(blocks: list[str]) -> dict[str, Any] | None:
    for block in blocks:
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue
        candidates = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in candidates:
            if isinstance(item, dict) and shape_of(item) == "jsonld":
                return map_object(item)
    return None


def read_webpage(doc: Document) -> Iterator[Found | Reject]:
    page = parse_page(doc.text)
    meta = page.meta
    fields: dict[str, Any] = {
        "url": meta.get("og:url") or page.canonical,
        "title": meta.get("og:title") or page.title,
        "sapo": meta.get("og:description") or meta.get("description"),
        "published": meta.get("article:published_time") or meta.get("pubdate"),
        "updated": meta.get("article:modified_time"),
        "author": meta.get("article:author") or meta.get("author"),
        "category": meta.get("article:section"),
        "tags": meta.get("keywords") or meta.get("news_keywords"),
        "images": [meta["og:image"]] if meta.get("og:image") else [],
    }
    fields.update({k: v for k, v in (_jsonld_article(page.jsonld) or {}).items() if v})
    if not fields.get("body"):
        paragraphs = page.article_paragraphs or page.paragraphs
        parts = classify_lines(paragraphs, has_title=True, has_sapo=bool(fields.get("sapo")))
        fields["body"] = parts["body"]
        fields["sapo"] = fields.get("sapo") or parts.get("sapo")
        fields["images"] = list(fields.get("images") or []) + page.images + parts.get("images", [])
        if not fields.get("author") and parts.get("author"):
            fields["author"] = parts["author"]
    if not fields.get("title"):
        yield Reject("file", "HTML page has no title (no og:title, <title> or JSON-LD headline)")
        return
    yield Found("file", fields)
