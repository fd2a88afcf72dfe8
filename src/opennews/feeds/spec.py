"""Which feed: latest, one source, category or author, or a search; live or one archived month.

A :class:`FeedSpec` is what a feed URL means, and the one place that turns it back into
URLs, so the web app, the static files, OPML and HTML autodiscovery all agree on them.
A name in a path is written by :mod:`.names` (and read back by ``names.name``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from urllib.parse import urlencode

from ..search import SearchRequest
from .names import url_segment

__all__ = ["DEFAULT_LIMIT", "FORMATS", "KINDS", "MAX_LIMIT", "FeedSpec", "month_range"]

Kind = Literal["latest", "source", "category", "author", "search"]
KINDS: tuple[str, ...] = ("latest", "source", "category", "author", "search")
#: Format name -> (file extension, media type).
FORMATS: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
DEFAULT_LIMIT = 50
MAX_LIMIT = 100  # the searcher's page size cap; history is in the archive pages

_TITLES = {
    "latest": "Tin mới nhất",
    "source": "Nguồn: {value}",
    "category": "Chuyên mục: {value}",
    "author": "Tác giả: {value}",
    "search": "Tìm kiếm: {value}",
}


def month_range(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM`` (ValueError if it is not one)."""
    if len(month) != 7 or month[4] != "-":
        raise ValueError(month)
    year, number = int(month[:4]), int(month[5:])
    if not (1800 <= year <= 2200 and 1 <= number <= 12):
        raise ValueError(month)
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


@dataclass(frozen=True)
class FeedSpec:
    kind: Kind = "latest"
    value: str = ""  # the source, category or author named in the path
    q: str = ""
    source: str = ""
    category: str = ""
    author: str = ""
    date_from: date | None = None
    date_to: date | None = None
    limit: int = DEFAULT_LIMIT
    month: str = ""  # YYYY-MM: an archive page instead of the live feed
    exact: bool = False  # a search of exactly ``q``, never its Telex or accent reading

    @property
    def archivable(self) -> bool:
        """Search feeds are ad hoc; the named feeds have a walkable history."""
        return self.kind != "search"

    @property
    def path(self) -> str:
        if self.kind in ("latest", "search"):
            return f"/feeds/{self.kind}"
        return f"/feeds/{self.kind}/{url_segment(self.value)}"

    def query_pairs(self) -> dict[str, str]:
        pairs = {
            "q": self.q,
            "source": self.source,
            "category": self.category,
            "author": self.author,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "exact": "1" if self.exact else "",
        }
        if not self.month and self.limit != DEFAULT_LIMIT:
            pairs["limit"] = str(self.limit)
        return {k: v for k, v in pairs.items() if v}

    def url(self, base_url: str, fmt: str) -> str:
        """The absolute URL of this feed in ``fmt`` (what ``rel="self"`` says)."""
        path = self.path + (f"/archive/{self.month}" if self.month else "")
        query = urlencode(self.query_pairs())
        return f"{base_url}{path}.{fmt}" + (f"?{query}" if query else "")

    def at_month(self, month: str) -> FeedSpec:
        return replace(self, month=month)

    def live(self) -> FeedSpec:
        return replace(self, month="")

    @property
    def title(self) -> str:
        value = self.value or self.q or " ".join(v for v in (self.source, self.category, self.author) if v)
        title = "opennews · " + _TITLES[self.kind].format(value=value)
        return title + (f" · lưu trữ {self.month}" if self.month else "")

    def html_url(self, base_url: str) -> str:
        """The page a person would look at for the same articles."""
        pairs: dict[str, str] = {}
        if self.kind == "search":
            pairs = {k: v for k, v in self.query_pairs().items() if k != "limit"}
        elif self.kind == "source" or self.kind == "category":
            pairs = {self.kind: self.value}
        elif self.kind == "author":
            pairs = {"q": f'author:"{self.value}"'}
        if self.kind != "latest":
            pairs["sort"] = "newest"
        return f"{base_url}/" + (f"?{urlencode(pairs)}" if pairs else "")

    def request(self, *, page: int = 1, per_page: int | None = None, sort: str = "newest") -> SearchRequest:
        """The search that selects this feed's articles (newest first; an archive page keeps to its month)."""
        named = {self.kind: self.value} if self.kind in ("source", "category", "author") else {}
        date_from, date_to = self.date_from, self.date_to
        if self.month:
            date_from, date_to = month_range(self.month)
        return SearchRequest(
            q=self.q,
            source=named.get("source") or self.source or None,
            category=named.get("category") or self.category or None,
            author=named.get("author") or self.author or None,
            date_from=date_from,
            date_to=date_to,
            sort=sort,  # type: ignore[arg-type]
            page=page,
            per_page=per_page or self.limit,
            facets=False,
            suggest=False,
            snippets=False,
            exact=self.exact,
            reading=True,  # a feed subscribes to what the query means: "thuy dien" is thủy điện
        )

    @property
    def key(self) -> tuple[object, ...]:
        return (
            self.kind,
            self.value,
            self.q,
            self.source,
            self.category,
            self.author,
            self.date_from,
            self.date_to,
            self.limit,
            self.month,
            self.exact,
        )
