"""RSS 2.0, RSS 1.0 and Atom files, read with feedparser.

Full content is taken where the feed carries it (``content:encoded``, Atom
``content``); otherwise the summary is the article's text. Dates are re-parsed
from the feed's own strings so their zone is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import feedparser

from ...article import source_from_url
from ..html import html_to_text
from ..records import Document, Found, Reject

__all__ = ["read_feed"]


def _text(detail: Any, fallback: str | None) -> str | None:
    """feedparser gives text constructs with a type: only HTML needs converting."""
    value = getattr(detail, "value", None) if detail is not None else None
    kind = getattr(detail, "type", "text/plain") if detail is not None else "text/plain"
    value = value if value is not None else fallback
    if value and "html" in kind:
        return html_to_text(value)[0]
    return value


def _images(entry: Any, found: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    images: list[dict[str, str | None]] = []
    for enc in entry.get("enclosures", []):
        if str(enc.get("type", "")).startswith("image/") and enc.get("href"):
            images.append({"url": enc["href"], "caption": None})
    for media in entry.get("media_content", []):
        if media.get("url") and (media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")):
            images.append({"url": media["url"], "caption": None})
    for thumb in entry.get("media_thumbnail", []):
        if thumb.get("url"):
            images.append({"url": thumb["url"], "caption": None})
    return images + found


def read_feed(doc: Document) -> Iterator[Found | Reject]:
    parsed = feedparser.parse(doc.text, sanitize_html=False, resolve_relative_uris=True)
    entries = parsed.get("entries", [])
    if not entries:
        problem = parsed.get("bozo_exception")
        reason = f"feed could not be parsed: {problem}" if problem else "feed has no entries"
        yield Reject("file", reason)
        return
    channel = parsed.get("feed", {})
    channel_link = channel.get("link")
    for n, entry in enumerate(entries, 1):
        content = entry.get("content") or []
        summary = _text(entry.get("summary_detail"), entry.get("summary"))
        body, found_images = ("", [])
        if content:
            full = content[0]
            if "html" in full.get("type", "text/html"):
                body, found_images = html_to_text(full.get("value"))
            else:
                body = full.get("value") or ""
        tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
        url = entry.get("link")
        guid = entry.get("id")
        if not url and isinstance(guid, str) and guid.startswith(("http://", "https://")):
            url = guid
        fields: dict[str, Any] = {
            "url": url,
            "title": _text(entry.get("title_detail"), entry.get("title")),
            "sapo": summary if body else None,
            "body": body or summary,
            "author": entry.get("author"),
            "published": dict.get(entry, "published") or dict.get(entry, "updated"),
            "updated": dict.get(entry, "updated") if dict.get(entry, "published") else None,
            "category": tags[0] if tags else None,
            "tags": tags,
            "images": _images(entry, found_images),
            "lang": entry.get("language") or channel.get("language"),
        }
        if not url and channel_link:
            fields["source"] = source_from_url(channel_link)
        yield Found(f"entry {n}", fields)
