"""Feed items made from archive records, cleaned once so every format says the same thing.

Every writer (RSS, Atom, JSON Feed) renders the same :class:`Feed`, so an article has
the same id, dates, text and links in all of them. Cleaning happens here, not in the
writers: NFC, no XML-illegal characters (lxml refuses them, clients mangle them), no
bidi controls (:func:`plain`), absolute URLs, timezone-aware dates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from typing import Any
from urllib.parse import quote, urljoin

from ..vietnamese import strip_bidi

__all__ = [
    "EPOCH",
    "LICENCE_PATH",
    "RIGHTS",
    "VN",
    "Feed",
    "FeedItem",
    "Image",
    "Tombstone",
    "article_guid",
    "clean",
    "item_from_record",
    "parse_time",
    "plain",
]

#: Vietnam time (UTC+07:00, no daylight saving): what dates are written in.
VN = timezone(timedelta(hours=7), "ICT")
#: The "updated" of a feed with nothing in it: fixed, so an empty feed has stable bytes.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: The licence every item carries. The code is Apache-2.0; the texts are not ours to licence.
RIGHTS = (
    "Article texts remain the copyright of their outlets; opennews keeps them for search, "
    "research and the public record, and links every article to its original."
)
#: Where the licence is explained (the about page), made absolute per feed.
LICENCE_PATH = "/about"

# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, surrogates, U+FFFE/U+FFFF).
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_IMAGE_TYPES = {".png": "image/png", ".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml"}


def clean(text: str | None) -> str:
    """A name as feeds look it up (the catalog, the feeds a change touched): NFC,
    XML-legal, no stray whitespace at the ends. What feeds print goes through :func:`plain`."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", _ILLEGAL.sub("", text)).strip()


def plain(text: str | None) -> str:
    """Text as a feed prints it: :func:`clean`, and no bidi control (U+202A-U+202E,
    U+2066-U+2069, LRM, RLM, ALM).

    Stripped here, on the way out, not at ingest. The archive is the truth and already
    holds whatever came in: stripping at ingest would leave every archive written before
    unprotected, make a new version (a changed content hash) of each affected article when
    its source is next read, and break the byte-identical dump round trip. Pages keep
    the characters and isolate the text instead (``<bdi>``); a feed cannot, because a
    reader prints our titles, authors and category names in its own lists, next to its
    own text, with no markup of ours around them, so an override there would spoof
    whatever the reader prints after it. In the shared corpus (90,159 articles) these
    characters are rare and meaningless: 57 marks (53 LRM, 4 RLM), all in bodies and
    leads, mostly inside a word (an LRM between the "l" and "ý" of "lý"); not one
    override, embedding or isolate.
    """
    return strip_bidi(clean(text))


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 stamp as an aware datetime; a stamp without a zone is read as Vietnam time."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=VN) if when.tzinfo is None else when


def article_guid(article_id: str) -> str:
    """The item id every feed uses: the stable article id as an absolute IRI (Atom requires
    one), never the headline or the URL slug, so retitling never makes a duplicate."""
    return f"urn:opennews:article:{article_id}"


def _image_type(url: str) -> str:
    path = url.split("?", 1)[0].lower()
    for ext, kind in _IMAGE_TYPES.items():
        if path.endswith(ext):
            return kind
    return "image/jpeg"


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    caption: str
    type: str


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: str
    guid: str
    title: str
    link: str  # the article's page here (absolute)
    external_url: str  # the original at the outlet, absolute, or ""
    source: str
    summary: str  # the lead (sapo)
    content_html: str  # lead, full text and pictures
    author: str
    categories: tuple[str, ...]
    images: tuple[Image, ...]
    published: datetime
    updated: datetime
    ingested: datetime  # when this version entered the archive: moves when an article is edited

    @property
    def rights(self) -> str:
        return f"© {self.source}. {RIGHTS}"


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A withdrawn article (RFC 6721): its id, when it was withdrawn and why."""

    guid: str
    when: datetime
    reason: str
    link: str


@dataclass
class Feed:
    """One feed document, format-neutral. ``links`` maps a relation (self, alternate,
    prev-archive, next-archive, current) to an absolute URL per format ("rss", "atom", "json")."""

    id: str
    title: str
    subtitle: str
    home_url: str  # the HTML page showing the same articles
    site_url: str
    licence_url: str
    items: list[FeedItem]
    tombstones: list[Tombstone] = field(default_factory=list)
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    archive: bool = False  # an RFC 5005 archive document, not the live feed
    ttl_minutes: int = 15

    @property
    def updated(self) -> datetime:
        """The newest item (or withdrawal): never the build time, so unchanged content keeps its bytes."""
        if self.items:
            return max(i.updated for i in self.items)
        return max((t.when for t in self.tombstones), default=EPOCH)

    @property
    def last_modified(self) -> datetime:
        """What HTTP ``Last-Modified`` says: the newest change to anything in the feed,
        including an edit that left the article's own dates alone, and a withdrawal."""
        times = [self.updated, *(i.ingested for i in self.items), *(t.when for t in self.tombstones)]
        return max(times)

    def link(self, rel: str, fmt: str) -> str | None:
        return self.links.get(rel, {}).get(fmt)


def _absolute(url: str | None, base: str) -> str:
    if not url:
        return ""
    url = plain(url)
    return urljoin(base, url) if base else url


def item_from_record(record: Mapping[str, Any], base_url: str) -> FeedItem:
    """One feed item from an archive record (the dump format)."""
    article_id = str(record["id"])
    page = f"{base_url}/articles/{quote(article_id, safe='')}"
    original = _absolute(record.get("url"), "")
    title = plain(record.get("title")) or article_id
    sapo = plain(record.get("sapo"))
    paragraphs = [plain(p) for p in (record.get("body") or "").split("\n\n")]
    images = tuple(
        Image(url, plain(img.get("caption")), _image_type(url))
        for img in record.get("images") or []
        if isinstance(img, Mapping) and (url := _absolute(img.get("url"), original or page)).startswith("http")
    )
    html = []
    if sapo:
        html.append(f"<p><strong>{escape(sapo)}</strong></p>")
    html.extend(f"<p>{escape(p)}</p>" for p in paragraphs if p)
    for img in images:
        caption = f"<figcaption>{escape(img.caption)}</figcaption>" if img.caption else ""
        html.append(f'<figure><img src="{escape(img.url)}" alt="{escape(img.caption)}">{caption}</figure>')
    if original:
        html.append(f'<p><a href="{escape(original)}">{escape(plain(record.get("source")))}</a></p>')
    ingested = parse_time(record.get("ingested_at")) or EPOCH
    published = parse_time(record.get("published")) or ingested
    updated = max(parse_time(record.get("updated")) or published, published)
    categories: list[str] = []
    for name in [record.get("category"), *(record.get("tags") or [])]:
        text = plain(name) if isinstance(name, str) else ""
        if text and text not in categories:
            categories.append(text)
    return FeedItem(
        id=article_id,
        guid=article_guid(article_id),
        title=title,
        link=page,
        external_url=original,
        source=plain(record.get("source")),
        summary=sapo,
        content_html="".join(html),
        author=plain(record.get("author")),
        categories=tuple(categories),
        images=images,
        published=published,
        updated=updated,
        ingested=ingested,
    )


def tombstone(withdrawal: Mapping[str, Any], base_url: str) -> Tombstone:
    article_id = str(withdrawal["id"])
    return Tombstone(
        guid=article_guid(article_id),
        when=(parse_time(withdrawal.get("withdrawn_at")) or EPOCH).astimezone(VN),
        reason=plain(withdrawal.get("reason")),
        link=f"{base_url}/articles/{quote(article_id, safe='')}",
    )


def newest_first(items: Sequence[FeedItem]) -> list[FeedItem]:
    return sorted(items, key=lambda i: (i.published, i.id), reverse=True)
