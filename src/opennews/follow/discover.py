"""What a source URL serves, told from its bytes, and the items it lists.

A source is an RSS/Atom feed, a JSON Feed, a sitemap (a news sitemap's
``news:news`` gives each item's title and date), a sitemap index (its newest
child sitemaps are read), or an outlet's home page, whose ``<link rel="alternate">``
feeds are followed instead (autodiscovery). Anything else is :class:`NotASource`.

Sitemaps are parsed with lxml without entities, DTDs or network access (a
"billion laughs" document stays a few bytes of text), and every list is bounded:
an outlet's sitemap of 50,000 URLs gives its newest :data:`MAX_ITEMS`.
Feeds go through the same reader as ``opennews ingest`` (feedparser), so a feed
followed and a feed file ingested give the same records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import orjson
from lxml import etree

from ..ingest.html import html_to_text
from ..ingest.readers.feed import read_feed
from ..ingest.records import Document, Found

__all__ = ["MAX_CHILDREN", "MAX_FEEDS", "MAX_ITEMS", "Item", "NotASource", "Parsed", "decode", "feed_links", "parse"]

MAX_ITEMS = 500  # items taken from one feed or sitemap per poll, newest first
MAX_CHILDREN = 3  # child sitemaps of an index read per poll, newest first
MAX_FEEDS = 10  # feeds taken from one home page (each costs a request when the source is added)
_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "jsonfeed",
    "application/json": "jsonfeed",
}
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)|<\?xml[^>]+encoding=["']([\w-]+)""", re.I)


class NotASource(ValueError):
    """The URL serves nothing opennews can follow; the message says what it is instead."""


@dataclass(frozen=True)
class Item:
    """One article a source lists: its link and the fields the source gives for it."""

    url: str
    fields: dict[str, Any]


@dataclass
class Parsed:
    kind: str  # rss, atom, jsonfeed, sitemap, sitemap-index, homepage
    items: list[Item] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # an index's child sitemaps, a home page's feeds
    problems: list[str] = field(default_factory=list)  # items left out, and why (for the run's rejects)


def decode(body: bytes, content_type: str = "") -> str:
    """Text of a response: the charset the server names, else the document's own, else UTF-8.

    Bytes that are valid UTF-8 with letters beyond ASCII are read as UTF-8 whatever charset is
    named: servers often send a default ``ISO-8859-1`` (or the old Vietnamese ``windows-1258``)
    over UTF-8 pages, and text really written in a one-byte code page is next to never valid
    UTF-8, so trusting the name there would archive mojibake (``Xe buÃ½t``) as the article."""
    m = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    charset = m.group(1) if m else None
    if not charset and (found := _CHARSET.search(body[:2048])):
        charset = (found.group(1) or found.group(2)).decode("ascii")
    if charset and not charset.lower().startswith("utf") and not body.isascii():
        try:
            return body.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    try:
        return body.decode(charset or "utf-8", "replace").lstrip("\ufeff")
    except LookupError:
        return body.decode("utf-8", "replace").lstrip("\ufeff")


def _root_name(body: bytes) -> str | None:
    """The first element's local name, past the XML declaration, comments and doctype."""
    head = body[:65536].lstrip(b"\xef\xbb\xbf")
    pos = 0
    while (m := _SKIP.match(head, pos)) and m.end() > pos:
        pos = m.end()
    while head[pos : pos + 1].isspace():
        pos += 1
    m = _ROOT.match(head, pos)
    return m.group(2).decode().lower() if m else None


def parse(body: bytes, content_type: str, url: str) -> Parsed:
    """The kind of what ``url`` served, and its items (or the links to follow instead)."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        problems: list[str] = []
        return Parsed("jsonfeed", _jsonfeed_items(stripped, url, problems), problems=problems)
    root = _root_name(stripped)
    if root in ("rss", "rdf", "feed"):
        problems = []
        items = _feed_items(body, content_type, url, problems)
        return Parsed("atom" if root == "feed" else "rss", items, problems=problems)
    if root == "urlset":
        return Parsed("sitemap", _sitemap_items(stripped, url))
    if root == "sitemapindex":
        return Parsed("sitemap-index", links=_index_children(stripped, url))
    if root == "html" or b"<html" in stripped[:4096].lower():
        links = feed_links(decode(body, content_type), url)
        if not links:
            raise NotASource('an HTML page without a <link rel="alternate"> feed to follow')
        return Parsed("homepage", links=links)
    what = f"<{root}> document" if root else f"{content_type or 'unknown'} content"
    raise NotASource(f"not a feed, sitemap or home page (a {what})")


# -- feeds ------------------------------------------------------------------------


def _feed_items(body: bytes, content_type: str, url: str, problems: list[str]) -> list[Item]:
    out: list[Item] = []
    for found in read_feed(Document(url, decode(body, content_type))):
        if not isinstance(found, Found):
            if found.reason == "feed has no entries":  # a feed with nothing in it today is still a feed
                return []
            raise NotASource(found.reason)
        fields = found.fields or {}
        link = fields.get("url")
        if isinstance(link, str) and link and (absolute := _join(url, link)):
            out.append(Item(absolute, fields))
        elif isinstance(link, str) and link:
            problems.append(f"item link does not parse: {link[:200]!r}")
    return out[:MAX_ITEMS]


def _list(value: Any) -> list[Any]:
    """A JSON Feed array as a list; anything else (a number, a string, an object) as none, so that
    one item's ``"tags": 5`` neither stops the feed nor turns a string into a list of letters."""
    return value if isinstance(value, list) else []


def _jsonfeed_items(body: bytes, url: str, problems: list[str]) -> list[Item]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise NotASource(f"JSON that cannot be parsed: {exc}") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise NotASource("JSON that is not a JSON Feed (no https://jsonfeed.org version)")
    out: list[Item] = []
    for entry in _list(data.get("items")):
        if not isinstance(entry, dict):
            continue
        link = entry.get("url") or entry.get("external_url")
        if not isinstance(link, str) or not link:
            continue
        if not (absolute := _join(url, link)):
            problems.append(f"item link does not parse: {link[:200]!r}")
            continue
        body_text = entry.get("content_text")
        if not body_text and isinstance(entry.get("content_html"), str):
            body_text = html_to_text(entry["content_html"])[0]
        authors = _list(entry.get("authors")) or ([entry["author"]] if isinstance(entry.get("author"), dict) else [])
        tags = [t for t in _list(entry.get("tags")) if isinstance(t, str)]
        fields = {
            "url": absolute,
            "title": entry.get("title"),
            "sapo": entry.get("summary"),
            "body": body_text or entry.get("summary"),
            "published": entry.get("date_published"),
            "updated": entry.get("date_modified"),
            "author": next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None),
            "category": tags[0] if tags else None,
            "tags": tags,
            "images": [entry["image"]] if isinstance(entry.get("image"), str) else [],
        }
        out.append(Item(fields["url"], fields))
        if len(out) >= MAX_ITEMS:
            break
    return out


# -- sitemaps -----------------------------------------------------------------------


def _xml(body: bytes) -> Any:
    """Parse XML safely: no entity expansion, no DTD, no network, lxml's depth/size bounds."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        return etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise NotASource(f"malformed XML: {exc}") from None


def _text(node: Any, path: str) -> str | None:
    """The text at ``path``, whose ``s:`` is the namespace the document's root is in (see :func:`_clark`)."""
    found = node.find(_clark(path, etree.QName(node.getroottree().getroot()).namespace))
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _clark(path: str, namespace: str | None) -> str:
    """``s:url`` in the root's namespace, whatever it is: the sitemaps.org one, none, Google's
    old ``0.84`` or an ``https`` spelling all occur on outlets' sites; ``n:`` is Google News'."""
    spaces = {"s": f"{{{namespace}}}" if namespace else "", "n": f"{{{_NEWS_NS}}}"}
    return "/".join(spaces[step[0]] + step[2:] for step in path.split("/"))


def _when(text: str | None) -> datetime:
    """A sitemap date for sorting (undated last)."""
    try:
        value = datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _absolute(base: str, loc: str) -> str:
    """A sitemap's ``<loc>`` as an absolute URL: the protocol asks for one, some sitemaps
    give a path. One that does not parse is kept as it is, to be refused with its reason."""
    try:
        return urljoin(base, loc)
    except ValueError:
        return loc


def _sitemap_items(body: bytes, url: str) -> list[Item]:
    root = _xml(body)
    out: list[Item] = []
    for node in root.iterfind(_clark("s:url", etree.QName(root).namespace)):
        loc = _text(node, "s:loc")
        if not loc:
            continue
        loc = _absolute(url, loc)
        keywords = _text(node, "n:news/n:keywords")
        fields = {
            "url": loc,
            "title": _text(node, "n:news/n:title"),
            "published": _text(node, "n:news/n:publication_date") or _text(node, "s:lastmod"),
            "tags": [k.strip() for k in keywords.split(",") if k.strip()] if keywords else [],
        }
        out.append(Item(loc, fields))
    out.sort(key=lambda item: _when(item.fields.get("published")), reverse=True)
    return out[:MAX_ITEMS]


def _index_children(body: bytes, url: str) -> list[str]:
    root = _xml(body)
    children = [
        (_absolute(url, loc), _when(_text(node, "s:lastmod")))
        for node in root.iterfind(_clark("s:sitemap", etree.QName(root).namespace))
        if (loc := _text(node, "s:loc"))
    ]
    children.sort(key=lambda pair: pair[1], reverse=True)
    return [loc for loc, _ in children[:MAX_CHILDREN]]


# -- home pages ------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        if tag == "link" and "alternate" in a.get("rel", "").lower().split() and a.get("href"):
            kind = a.get("type", "").split(";")[0].strip().lower()
            if kind in _FEED_TYPES:
                self.found.append((a["href"], kind))


def feed_links(html: str, url: str) -> list[str]:
    """The feeds a page announces with ``<link rel="alternate" type="application/rss+xml" …>``:
    the first :data:`MAX_FEEDS`, since each is fetched once when the page is added (an outlet's
    page names a handful: one per section; a page naming hundreds would cost minutes of polite
    requests)."""
    parser = _Links()
    parser.feed(html[: 1 << 20])
    base = _join(url, parser.base) or url if parser.base else url
    links = (_join(base, href) for href, _ in parser.found)
    return list(dict.fromkeys(link for link in links if link))[:MAX_FEEDS]


def _join(base: str, href: str) -> str | None:
    """``href`` made absolute, or None when it does not parse (``http://[::1``)."""
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None
