"""The sources followed: kept in the archive's ``follow_sources`` table, added by telling their kind.

``opennews sources add URL`` fetches the URL once: a feed or sitemap is kept with
its kind; an outlet's home page is not polled itself, the feeds it announces are
(each kept as a source of its own, ``via`` the home page, so that each keeps its
own ETag, error streak and schedule, and ``sources remove HOME`` removes them all).

The sources also say which hosts may be fetched at all (:func:`allowed`): an item
link to a host no source names is never requested.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..archive import Archive, ArchiveError, timestamp
from ..article import canonical_url, source_from_url
from .discover import NotASource, parse
from .fetch import Fetched, FetchError
from .robots import ascii_host

__all__ = [
    "DEFAULT_EVERY",
    "FetcherLike",
    "Source",
    "add_source",
    "allowed_for",
    "get_source",
    "list_sources",
    "named_by",
    "remove_source",
    "site_of",
]

DEFAULT_EVERY = 15  # minutes between two polls of one source
_COLUMNS = (
    "url, name, kind, via, every_minutes, added_at, last_poll, last_status, articles, "
    "error_streak, last_error, next_due, etag, last_modified"
)


class FetcherLike(Protocol):
    """What following needs of a fetcher (:class:`opennews.follow.fetch.Fetcher` is one)."""

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched: ...


@dataclass
class Source:
    url: str
    name: str | None
    kind: str
    via: str | None
    every_minutes: int
    added_at: str
    last_poll: str | None
    last_status: str | None
    articles: int
    error_streak: int
    last_error: str | None
    next_due: str
    etag: str | None
    last_modified: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso(moment: datetime) -> str:
    return timestamp(moment)


def _now() -> datetime:
    return datetime.now(UTC)


def site_of(url: str) -> str:
    """The site a URL belongs to: its registrable domain (rss.example.vn and www.example.vn
    are both example.vn), or the address itself for an IP host."""
    host = ascii_host(urlsplit(url).hostname or "")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return source_from_url(f"http://{host}/")
    return host


def list_sources(archive: Archive) -> list[Source]:
    rows = archive.execute(f"SELECT {_COLUMNS} FROM follow_sources ORDER BY url").fetchall()
    return [Source(*row) for row in rows]


def get_source(archive: Archive, url: str) -> Source | None:
    row = archive.execute(f"SELECT {_COLUMNS} FROM follow_sources WHERE url = ?", (url,)).fetchone()
    return Source(*row) if row else None


_WEB_PORTS = {"http": 80, "https": 443}


def _port(url: str) -> int | None:
    """The port a URL reaches (80 or 443 when it names none); None for a port that is not one."""
    parts = urlsplit(url)
    try:
        return parts.port or _WEB_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def named_by(url: str, source: str) -> bool:
    """Whether a source's URL names ``url``'s host: the same site, on a web port (80, 443) for a
    site with a name, or on the port the source itself uses. An item link to another port
    (``example.vn:6379``, ``127.0.0.1:22``) reaches another service than the outlet's web site."""
    if site_of(url) != site_of(source):
        return False
    port = _port(url)
    if port is not None and port == _port(source):
        return True
    return port in _WEB_PORTS.values() and not _is_ip(urlsplit(source).hostname or "")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_for(archive: Archive) -> Callable[[str], bool]:
    """Whether fetching may reach a URL: a source names its host (:func:`named_by`). Asked afresh
    each time (a small indexed table), so a source added while following widens it at once."""

    def allowed(url: str) -> bool:
        try:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return False
        except ValueError:  # "http://[::1": not a URL at all
            return False
        rows = archive.execute("SELECT url, via FROM follow_sources").fetchall()
        return any(named_by(url, u) or (via and named_by(url, via)) for u, via in rows)

    return allowed


def _insert(archive: Archive, url: str, name: str | None, kind: str, via: str | None, every: int, now: str) -> None:
    archive.execute(
        "INSERT INTO follow_sources (url, name, kind, via, every_minutes, added_at, next_due) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (url) DO UPDATE SET name = excluded.name, kind = excluded.kind, via = excluded.via, "
        "every_minutes = excluded.every_minutes",
        (url, name, kind, via, every, now, now),
    )


def add_source(
    archive: Archive,
    fetcher: FetcherLike,
    url: str,
    *,
    name: str | None = None,
    every: int = DEFAULT_EVERY,
    now: Callable[[], datetime] = _now,
) -> list[Source]:
    """Fetch ``url`` once, tell its kind, and keep it (or the feeds its home page names).

    Raises :class:`ArchiveError` with the reason when it cannot be followed (the fetch
    failed, or it is neither a feed, a sitemap nor a home page announcing feeds).
    """
    if every < 1:
        raise ArchiveError("--every must be at least 1 minute")
    try:
        url = canonical_url(url)
    except ValueError as exc:
        raise ArchiveError(str(exc)) from None
    kind, feeds = _tell(fetcher, url)
    when = iso(now())
    with archive.transaction():
        if kind != "homepage":
            _insert(archive, url, name, kind, None, every, when)
        else:
            _insert(archive, url, name, "homepage", None, every, when)
            for feed_url, feed_kind in feeds:
                _insert(archive, feed_url, name, feed_kind, url, every, when)
    added = [get_source(archive, u) for u in [url, *(f for f, _ in feeds)]]
    return [s for s in added if s is not None]


def _tell(fetcher: FetcherLike, url: str) -> tuple[str, list[tuple[str, str]]]:
    try:
        got = fetcher.get(url)
        parsed = parse(got.body, got.content_type, got.url)
    except FetchError as exc:
        raise ArchiveError(f"{url}: could not be fetched: {exc.reason}") from None
    except NotASource as exc:
        raise ArchiveError(f"{url}: cannot be followed: {exc}") from None
    if parsed.kind != "homepage":
        return parsed.kind, []
    feeds: list[tuple[str, str]] = []
    problems: list[str] = []
    for link in parsed.links:
        try:
            link = canonical_url(link)
            got = fetcher.get(link)
            found = parse(got.body, got.content_type, got.url)
        except (FetchError, NotASource, ValueError) as exc:
            problems.append(f"{link}: {getattr(exc, 'reason', exc)}")
            continue
        if found.kind in ("rss", "atom", "jsonfeed"):
            feeds.append((link, found.kind))
    if not feeds:
        raise ArchiveError(f"{url}: none of the feeds the page announces can be followed ({'; '.join(problems)})")
    return "homepage", feeds


def remove_source(archive: Archive, url: str) -> int:
    """Stop following ``url`` (and the feeds found on it, for a home page); how many went.

    The items seen stay, so that following the source again does not fetch them again."""
    try:
        key = canonical_url(url)
    except ValueError:
        key = url
    with archive.transaction():
        cur = archive.execute("DELETE FROM follow_sources WHERE url = ? OR via = ?", (key, key))
        count = cur.rowcount
        archive.execute("DELETE FROM follow_sitemaps WHERE source = ?", (key,))
    if not count:
        raise ArchiveError(f"no source {url}; 'opennews sources' lists them")
    return count


def due(archive: Archive, moment: datetime) -> list[Source]:
    """Sources whose next poll is due at ``moment`` (home pages are followed through their feeds)."""
    return [s for s in list_sources(archive) if s.kind != "homepage" and s.next_due <= iso(moment)]


def next_due_at(archive: Archive) -> datetime | None:
    row = archive.execute("SELECT MIN(next_due) FROM follow_sources WHERE kind <> 'homepage'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def backoff(every_minutes: int, streak: int, retry_after: float | None) -> timedelta:
    """How long after a failed poll the next one comes: the usual interval doubled per
    failure in a row (at most a day), and never before what the server asked for."""
    wait = timedelta(minutes=every_minutes) * (2 ** min(max(streak - 1, 0), 10))
    wait = min(wait, timedelta(days=1))
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def record_poll(
    archive: Archive,
    source: Source,
    moment: datetime,
    *,
    status: str,
    error: FetchError | str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    articles: int = 0,
    complete: bool = True,
) -> None:
    """Note one poll's outcome and when the next is due (backing off after failures).

    A poll that left listed items for later (``complete`` false: stopped, or more new
    items than one poll takes) forgets the ETag and Last-Modified, so the next poll reads
    the whole list again instead of being told "not modified" and losing those items."""
    if error is None:
        streak, nxt, why = 0, moment + timedelta(minutes=source.every_minutes), None
    else:
        streak = source.error_streak + 1
        retry = error.retry_after if isinstance(error, FetchError) else None
        why = error.reason if isinstance(error, FetchError) else error
        nxt = moment + backoff(source.every_minutes, streak, retry)
    archive.execute(
        "UPDATE follow_sources SET last_poll = ?, last_status = ?, error_streak = ?, last_error = ?, next_due = ?, "
        "etag = CASE WHEN ? THEN COALESCE(?, etag) END, "
        "last_modified = CASE WHEN ? THEN COALESCE(?, last_modified) END, articles = articles + ? WHERE url = ?",
        (iso(moment), status, streak, why, iso(nxt), complete, etag, complete, last_modified, articles, source.url),
    )


def child_validators(archive: Archive, url: str) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified a sitemap index's child last answered with."""
    row = archive.execute("SELECT etag, last_modified FROM follow_sitemaps WHERE url = ?", (url,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def known_children(archive: Archive, source: str) -> list[str]:
    """The child sitemaps a sitemap index listed when it was last read in full."""
    rows = archive.execute("SELECT url FROM follow_sitemaps WHERE source = ? ORDER BY url", (source,)).fetchall()
    return [row[0] for row in rows]


def drop_other_children(archive: Archive, source: str, listed: list[str]) -> None:
    """Forget the child sitemaps an index no longer lists, so that its 304s stop asking for them."""
    for url in set(known_children(archive, source)) - set(listed):
        archive.execute("DELETE FROM follow_sitemaps WHERE url = ? AND source = ?", (url, source))


def keep_child_validators(archive: Archive, url: str, source: str, etag: str | None, last_modified: str | None) -> None:
    archive.execute(
        "INSERT INTO follow_sitemaps (url, source, etag, last_modified) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (url) DO UPDATE SET source = excluded.source, etag = excluded.etag, "
        "last_modified = excluded.last_modified",
        (url, source, etag, last_modified),
    )


def forget_child_validators(archive: Archive, source: str) -> None:
    """After a poll that left items for later: the next one reads every child in full."""
    archive.execute("UPDATE follow_sitemaps SET etag = NULL, last_modified = NULL WHERE source = ?", (source,))
