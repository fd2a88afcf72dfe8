"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with orjson: feedgen has none.

Extensions follow the spec's rule (keys starting with an underscore, holding an object
with ``about``): ``_opennews`` on the feed (archive links, tombstones) and on each item
(licence, source, original URL). Archive pages chain with ``next_url`` (older articles).
"""

from __future__ import annotations

from typing import Any

import orjson

from .model import RIGHTS, Feed, FeedItem

__all__ = ["render_json"]

VERSION = "https://jsonfeed.org/version/1.1"


def _item(item: FeedItem, licence_url: str, about: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.guid,
        "url": item.link,
        "title": item.title,
        "content_html": item.content_html,
        "summary": item.summary or None,
        "date_published": item.published.isoformat(),
        "date_modified": item.updated.isoformat(),
        "language": "vi",
        "tags": list(item.categories) or None,
    }
    if item.external_url:
        out["external_url"] = item.external_url
    if item.author:
        out["authors"] = [{"name": item.author}]
    if item.images:
        out["image"] = item.images[0].url
        out["attachments"] = [{"url": i.url, "mime_type": i.type, "title": i.caption or None} for i in item.images]
    out["_opennews"] = {
        "about": about,
        "article_id": item.id,
        "source": item.source,
        "rights": item.rights,
        "license": licence_url,
    }
    return {k: v for k, v in out.items() if v is not None}


def render_json(feed: Feed) -> bytes:
    about = feed.site_url + "feeds"  # the feeds page explains the extension
    extension: dict[str, Any] = {"about": about, "rights": RIGHTS, "license": feed.licence_url}
    for rel in ("prev-archive", "next-archive", "current"):
        if href := feed.link(rel, "json"):
            extension[rel.replace("-", "_")] = href
    if feed.archive:
        extension["archive"] = True
    if feed.tombstones:
        extension["deleted"] = [{"id": t.guid, "when": t.when.isoformat(), "reason": t.reason} for t in feed.tombstones]
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.link("self", "json"),
        "description": feed.subtitle,
        "language": "vi",
        "authors": [{"name": "opennews", "url": feed.site_url}],
    }
    older = feed.link("prev-archive", "json")
    if older:
        doc["next_url"] = older  # JSON Feed's paging: the next page holds older items
    doc["items"] = [_item(i, feed.licence_url, about) for i in feed.items]
    doc["_opennews"] = extension
    return orjson.dumps({k: v for k, v in doc.items() if v is not None})
