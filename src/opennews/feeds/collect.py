"""Gather what one feed holds: the articles (through the searcher), tombstones, archive links.

The searcher picks and orders the articles, the archive supplies their full records;
withdrawn articles are never items (their records are gone from the archive, so a
lagging index cannot bring them back) but become RFC 6721 tombstones. RFC 5005 links
chain the monthly archive pages so a client can walk from the live feed to the oldest
article.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

from ..archive import Archive
from ..search import SearchRequest, SearchResponse
from .catalog import Catalog, read_catalog
from .model import LICENCE_PATH, VN, Feed, FeedItem, item_from_record, parse_time, plain, tombstone
from .spec import FORMATS, FeedSpec, month_range

__all__ = ["MAX_ARCHIVE_ITEMS", "RECENT_TOMBSTONES", "ArchiveReader", "Reader", "collect"]

#: Withdrawals announced in a live feed: the most recent ones (older ones stay in their month's page).
RECENT_TOMBSTONES = 20
#: A month page holds at most this many articles (a bound on its size, ~10 MiB of full text).
MAX_ARCHIVE_ITEMS = 2000
_PAGE = 100
#: How often clients should poll (RSS <ttl>, and Cache-Control max-age in seconds, agree).
LIVE_TTL_MINUTES = 15
ARCHIVE_TTL_MINUTES = 24 * 60  # archive pages change only when history is back-filled or retracted


class Reader(Protocol):
    """Where feeds read from; blocking calls."""

    def search(self, request: SearchRequest) -> SearchResponse: ...

    def records(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def withdrawn(self) -> list[dict[str, Any]]:
        """Withdrawals, oldest first, each with the article's last ``record`` (None when purged)."""
        ...


class ArchiveReader:
    """A :class:`Reader` over a Searcher and its own archive connection (one lock each, so
    the web app's threads can share one)."""

    def __init__(self, search: Any, archive: Archive) -> None:
        self._search = search  # a Searcher, or anything with .search(SearchRequest)
        self.archive = archive
        self._lock = threading.Lock()
        self._withdrawn: tuple[int, list[dict[str, Any]]] | None = None

    def search(self, request: SearchRequest) -> SearchResponse:
        return self._search.search(request)  # type: ignore[no-any-return]

    def records(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            return self.archive.get_records(ids)

    def last_seq(self) -> int:
        with self._lock:
            return self.archive.last_seq()

    def catalog(self) -> Catalog:
        with self._lock:
            return read_catalog(self.archive)

    def withdrawn(self) -> list[dict[str, Any]]:
        with self._lock:
            seq = self.archive.last_seq()
            if self._withdrawn is None or self._withdrawn[0] != seq:
                out = []
                for w in self.archive.withdrawals():
                    versions = self.archive.history(w["id"])
                    record = self.archive.version_record(w["id"], versions[-1]["version"]) if versions else None
                    out.append({**w, "record": record})
                self._withdrawn = (seq, out)
            return self._withdrawn[1]


def _matches(spec: FeedSpec, record: Mapping[str, Any] | None) -> bool:
    """Whether a withdrawn article belonged to this feed (unknown when purged: only the latest feed)."""
    if spec.kind in ("latest", "search"):
        return True
    if record is None:
        return False
    value = spec.value.casefold()
    if spec.kind == "author":
        return value in str(record.get("author") or "").casefold()
    return str(record.get(spec.kind) or "").casefold() == value


def _month_of(record: Mapping[str, Any] | None) -> str:
    when = parse_time((record or {}).get("published"))
    return when.astimezone(VN).strftime("%Y-%m") if when else ""


def _items(reader: Reader, ids: Sequence[str], base_url: str) -> list[FeedItem]:
    records = reader.records(ids)
    return [item_from_record(records[i], base_url) for i in ids if i in records]


def _neighbour_month(reader: Reader, spec: FeedSpec, *, before: bool) -> str:
    """The nearest month before (or after) ``spec.month`` that has articles, or ''."""
    first, last = month_range(spec.month)
    request = spec.live().request(per_page=1, sort="newest" if before else "oldest")
    if before:
        request = replace(request, date_from=None, date_to=first - timedelta(days=1))
    else:
        request = replace(request, date_from=last + timedelta(days=1), date_to=None)
    hits = reader.search(request).hits
    when = parse_time(hits[0].published) if hits else None
    return when.astimezone(VN).strftime("%Y-%m") if when else ""


def collect(spec: FeedSpec, reader: Reader, base_url: str) -> Feed:
    """The feed ``spec`` names, read now."""
    ran: str | None = None  # the query's reading, run instead of it (it found nothing; the reading did)
    if spec.month:
        ids: list[str] = []
        page = 1
        while len(ids) < MAX_ARCHIVE_ITEMS:
            response = reader.search(spec.request(page=page, per_page=_PAGE))
            ids.extend(h.id for h in response.hits)
            if not response.hits or len(ids) >= response.total:
                break
            page += 1
        items = _items(reader, ids[:MAX_ARCHIVE_ITEMS], base_url)
    else:
        response = reader.search(spec.request())
        ran = response.ran
        items = _items(reader, [h.id for h in response.hits], base_url)

    withdrawn = [w for w in reader.withdrawn() if _matches(spec, w.get("record"))]
    if spec.month:
        withdrawn = [w for w in withdrawn if _month_of(w.get("record")) == spec.month]
    else:
        withdrawn = withdrawn[-RECENT_TOMBSTONES:]
    tombstones = sorted((tombstone(w, base_url) for w in withdrawn), key=lambda t: (t.when, t.guid), reverse=True)

    links: dict[str, dict[str, str]] = {"self": {fmt: spec.url(base_url, fmt) for fmt in FORMATS}}
    if spec.archivable:
        if spec.month:
            links["current"] = {fmt: spec.live().url(base_url, fmt) for fmt in FORMATS}
            for rel, before in (("prev-archive", True), ("next-archive", False)):
                month = _neighbour_month(reader, spec, before=before)
                if month:
                    links[rel] = {fmt: spec.at_month(month).url(base_url, fmt) for fmt in FORMATS}
        elif items:
            newest = max(i.published for i in items).astimezone(VN).strftime("%Y-%m")
            links["prev-archive"] = {fmt: spec.at_month(newest).url(base_url, fmt) for fmt in FORMATS}
    title = plain(spec.title + (f" → {ran}" if ran else ""))  # the name in it is archive text
    subtitle = "Lưu trữ mở tin tức tiếng Việt: " + title.removeprefix("opennews · ")
    return Feed(
        id=f"urn:opennews:feed:{spec.url('', 'atom')}",
        title=title,
        subtitle=subtitle,
        home_url=spec.html_url(base_url),
        site_url=f"{base_url}/",
        licence_url=base_url + LICENCE_PATH,
        items=items,
        tombstones=tombstones,
        links=links,
        archive=bool(spec.month),
        ttl_minutes=ARCHIVE_TTL_MINUTES if spec.month else LIVE_TTL_MINUTES,
    )
