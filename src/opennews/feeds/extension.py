"""The parts of our feeds feedgen cannot write, added through its extension hooks.

feedgen 1.0.0 (the newest release) has bugs we work around here rather than patch:

1. Entry ``<link>`` elements lose every attribute but ``href`` (lkiesow/python-feedgen#135:
   a loop variable shadows the link dict), so Atom entry links (alternate, related,
   enclosure, license) are written here with all their attributes.
2. It has no RFC 5005 (archived feeds), RFC 6721 (tombstones), Dublin Core rights per
   item in the form we want, or Media RSS captions; those are written here too.

The other traps (RSS ``<channel><link>`` is the *last* link added; ``type="CDATA"`` is
invalid in Atom; ``updated``/``lastBuildDate`` default to now; ``add_entry`` prepends)
are avoided by how :mod:`.rss` and :mod:`.atom` call feedgen; tests cover each.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from .model import Feed, FeedItem

__all__ = ["ATOM", "NAMESPACES", "EntryExtension", "FeedExtension"]

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"
HISTORY = "http://purl.org/syndication/history/1.0"
NAMESPACES = {"dc": DC, "media": MEDIA, "at": TOMBSTONES, "fh": HISTORY}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ARCHIVE_RELS = ("prev-archive", "next-archive", "current")


def _sub(parent: Any, tag: str, text: str | None = None, **attrib: str) -> Any:
    elem = etree.SubElement(parent, tag, {k: v for k, v in attrib.items() if v})
    if text:
        elem.text = text
    return elem


class FeedExtension(BaseExtension):  # type: ignore[misc]
    """Feed-level: archive links and marker, tombstones (Atom), archive links (RSS)."""

    def __init__(self) -> None:
        self.feed: Feed | None = None
        self.fmt = "atom"

    def extend_ns(self) -> dict[str, str]:
        return dict(NAMESPACES)

    def _archive_links(self, parent: Any) -> None:
        assert self.feed is not None
        # feedgen writes Atom documents with un-namespaced elements under a default xmlns
        # attribute, so Atom elements added there are un-namespaced too (else lxml invents prefixes).
        tag = f"{{{ATOM}}}link" if self.fmt == "rss" else "link"
        for rel in _ARCHIVE_RELS:
            href = self.feed.link(rel, self.fmt)
            if href:
                kind = "application/rss+xml" if self.fmt == "rss" else "application/atom+xml"
                _sub(parent, tag, rel=rel, href=href, type=kind)
        if self.feed.archive:
            _sub(parent, f"{{{HISTORY}}}archive")

    def extend_atom(self, feed: Any) -> Any:
        assert self.feed is not None
        self._archive_links(feed)
        for tomb in self.feed.tombstones:
            deleted = _sub(feed, f"{{{TOMBSTONES}}}deleted-entry", ref=tomb.guid, when=tomb.when.isoformat())
            _sub(deleted, "link", href=tomb.link, type="text/html")
            if tomb.reason:
                _sub(deleted, f"{{{TOMBSTONES}}}comment", tomb.reason, **{_XML_LANG: "vi"})
        return feed

    def extend_rss(self, rss: Any) -> Any:
        self._archive_links(rss.find("channel"))
        return rss


class EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Entry-level: links with their attributes (Atom), rights, creator and pictures (RSS)."""

    def __init__(self) -> None:
        self.item: FeedItem | None = None
        self.licence_url = ""

    def extend_atom(self, entry: Any) -> Any:
        item = self.item
        assert item is not None
        _sub(entry, "link", rel="alternate", type="text/html", hreflang="vi", href=item.link)
        if item.external_url:
            _sub(entry, "link", rel="related", type="text/html", href=item.external_url)
        for img in item.images:
            _sub(entry, "link", rel="enclosure", type=img.type, href=img.url, title=img.caption)
        _sub(entry, "link", rel="license", type="text/html", href=self.licence_url)
        return entry

    def extend_rss(self, entry: Any) -> Any:
        item = self.item
        assert item is not None
        if item.author:
            _sub(entry, f"{{{DC}}}creator", item.author)
        _sub(entry, f"{{{DC}}}rights", item.rights)
        for img in item.images:
            content = _sub(entry, f"{{{MEDIA}}}content", url=img.url, type=img.type, medium="image")
            if img.caption:
                _sub(content, f"{{{MEDIA}}}description", img.caption, type="plain")
        return entry
