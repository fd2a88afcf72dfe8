"""The items seen in sources (``follow_items``): when each is checked again, and how a
feed's fields and its page's fields make one record.

An item is fetched once. Items published in the last 48 hours are checked again
at growing intervals after publication (:data:`RECHECKS`: 1 h, 4 h, 12 h, 24 h, 48 h),
because outlets correct and extend fresh stories; a changed page then becomes a new
version through the ingest run like any edit. After 48 hours an item is never
fetched again. A page answering 404/410 is marked ``gone`` for the operator to look at
(``opennews sources --gone``): it is never withdrawn by itself, since outlets also
answer 404 during outages and migrations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ..archive import Archive
from .sources import iso

__all__ = ["RECHECKS", "Seen", "gone_items", "merge", "missed", "next_check", "note_item", "seen_item"]

RECHECKS = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=12), timedelta(hours=24), timedelta(hours=48))
_COLUMNS = "url, source, article_id, published, first_seen, last_checked, checks, next_check, state, last_error"
LATE = timedelta(hours=12)  # a re-check missed by more than this (follow was stopped) is skipped, not made up
_MAX_LEAD = 800  # a feed's text longer than this is its full content, not a summary to use as the lead

#: Fields a feed gives that the page's own win over; the feed's fill what the page lacks.
_FILLED = ("title", "published", "updated", "sapo", "author", "category", "tags", "images", "lang")


@dataclass
class Seen:
    url: str
    source: str
    article_id: str | None
    published: str | None
    first_seen: str
    last_checked: str | None
    checks: int
    next_check: str | None
    state: str  # ok, gone, failed
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            value = parsedate_to_datetime(str(text))
        except (TypeError, ValueError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def next_check(published: str | None, first_seen: datetime, moment: datetime) -> datetime | None:
    """When an item is next checked: the first point of :data:`RECHECKS` after publication
    (or after it was first seen, when the source gives no date) still ahead of ``moment``;
    None once 48 hours have passed (a date in the future counts as first seen)."""
    start = _moment(published) or first_seen
    start = min(start, first_seen)
    return next((start + step for step in RECHECKS if start + step > moment), None)


def seen_item(archive: Archive, url: str) -> Seen | None:
    row = archive.execute(f"SELECT {_COLUMNS} FROM follow_items WHERE url = ?", (url,)).fetchone()
    return Seen(*row) if row else None


def note_item(
    archive: Archive,
    url: str,
    source: str,
    moment: datetime,
    *,
    article_id: str | None,
    published: str | None,
    state: str,
    error: str | None = None,
    fetched: bool = True,
    feed: dict[str, Any] | None = None,
    retry: timedelta | None = None,
) -> Seen:
    """Record that ``url`` was seen (and, with ``fetched``, checked) at ``moment``.

    ``retry``: the page could not be had for now (a 5xx, a time-out, its host backed off), so
    it is asked again after that long even past the 48-hour schedule, up to as many checks as
    the schedule has; an old article met during an outlet's outage would otherwise keep only
    its feed's summary, or be lost when the source gives no text."""
    old = seen_item(archive, url)
    first = _moment(old.first_seen) if old else moment
    assert first is not None
    published = published or (old.published if old else None)
    nxt = next_check(published, first, moment)
    checks = (old.checks if old else 0) + (1 if fetched else 0)
    if retry is not None and checks <= len(RECHECKS):
        nxt = min(nxt, moment + retry) if nxt else moment + retry
    archive.execute(
        "INSERT INTO follow_items (url, source, article_id, published, first_seen, last_checked, checks, "
        "next_check, state, last_error, feed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (url) DO UPDATE SET article_id = COALESCE(excluded.article_id, follow_items.article_id), "
        "published = excluded.published, last_checked = excluded.last_checked, checks = excluded.checks, "
        "next_check = excluded.next_check, state = excluded.state, last_error = excluded.last_error, "
        "feed = COALESCE(excluded.feed, follow_items.feed)",
        (
            url,
            source,
            article_id,
            published,
            iso(first),
            iso(moment) if fetched else (old.last_checked if old else None),
            checks,
            iso(nxt) if nxt else None,
            state,
            error,
            orjson.dumps(feed, default=str).decode() if feed is not None else None,
        ),
    )
    found = seen_item(archive, url)
    assert found is not None
    return found


def gone_items(archive: Archive) -> list[Seen]:
    rows = archive.execute(f"SELECT {_COLUMNS} FROM follow_items WHERE state = 'gone' ORDER BY url").fetchall()
    return [Seen(*row) for row in rows]


def item_counts(archive: Archive) -> dict[str, dict[str, int]]:
    """Per source, how many items are in each state."""
    out: dict[str, dict[str, int]] = {}
    for source, state, n in archive.execute(
        "SELECT source, state, COUNT(*) FROM follow_items GROUP BY source, state"
    ).fetchall():
        out.setdefault(source, {})[state] = n
    return out


def feed_lead(feed: dict[str, Any]) -> str | None:
    """The feed's summary: its own ``sapo`` when it also carries full content, else the
    text it gives (which is then the summary)."""
    body = feed.get("body")
    return feed.get("sapo") or (body if isinstance(body, str) and len(body) <= _MAX_LEAD else None)


def merge(feed: dict[str, Any], page: dict[str, Any] | None, url: str) -> dict[str, Any]:
    """One record from the item's page and its feed entry.

    The page is the fuller, more careful source (its body, JSON-LD dates and byline);
    the feed fills what the page lacks (its summary as the lead). Without a page the
    record is the feed's own. The item's link is the record's url either way, so the
    article keeps one id whether its text came from the page or the feed.
    """
    if page is None or not page.get("body"):
        record = dict(feed)
        if page:
            record.update({k: v for k, v in page.items() if v and k != "body"})
    else:
        record = dict(page)
        for key in _FILLED:
            if not record.get(key):
                value = feed_lead(feed) if key == "sapo" else feed.get(key)
                if value:
                    record[key] = value
    record["url"] = url
    return record


def feed_of(archive: Archive, url: str) -> dict[str, Any]:
    """The source's fields for an item, as kept when it was first seen (for re-checks)."""
    row = archive.execute("SELECT feed FROM follow_items WHERE url = ?", (url,)).fetchone()
    value = orjson.loads(row[0]) if row and row[0] else {}
    return value if isinstance(value, dict) else {}


def due_items(archive: Archive, source: str, moment: datetime) -> list[str]:
    """A source's items whose re-check is due at ``moment``."""
    rows = archive.execute(
        "SELECT url FROM follow_items WHERE source = ? AND next_check IS NOT NULL AND next_check <= ? "
        "ORDER BY next_check",
        (source, iso(moment)),
    ).fetchall()
    return [row[0] for row in rows]


def missed(next_check_at: str, moment: datetime) -> bool:
    """Whether a due re-check is so late (following was stopped for a while) that it is
    skipped: the item is then checked at the next point of the schedule still ahead, if any,
    instead of every source's backlog being fetched at once."""
    due_at = _moment(next_check_at)
    return due_at is not None and due_at < moment - LATE
