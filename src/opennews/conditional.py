"""Conditional requests (RFC 9110 §13): the one reading of ``If-None-Match`` and
``If-Modified-Since``, for the feeds and the dump files alike.

These headers come from anyone, so a value that cannot be read is as if it were absent
(§13.1.3: "A recipient MUST ignore the If-Modified-Since header field if the received
field value is not a valid HTTP-date"), whatever ``email.utils`` raises on it: besides
``ValueError`` and ``TypeError``, a year or zone offset past what ``datetime`` or a C
integer holds raises ``OverflowError`` (``Mon, 01 Jan 99999999999999999999 00:00:00 GMT``).
"""

from __future__ import annotations

from collections.abc import Collection
from email.utils import parsedate_to_datetime

__all__ = ["etags", "http_date", "not_modified"]


def etags(header: str) -> set[str]:
    """The entity tags of an ``If-None-Match`` value, ``W/`` dropped (§13.1.2 compares weakly)."""
    return {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}


def http_date(text: str) -> float | None:
    """Epoch seconds of an HTTP date (or any RFC 5322 date with a zone), or None if it is not one."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:  # "-0000": a time of no known zone
        return None
    return when.timestamp()


def not_modified(
    tags: Collection[str], modified_at: int, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a representation with entity tags ``tags`` (any of them matches), last changed at
    ``modified_at`` (whole epoch seconds, as ``Last-Modified`` says it), may be answered 304:
    If-None-Match decides when present; else If-Modified-Since (§13.2.2)."""
    if if_none_match is not None:
        sent = etags(if_none_match)
        return "*" in sent or not sent.isdisjoint(tags)
    if not if_modified_since:
        return False
    since = http_date(if_modified_since)
    return since is not None and modified_at <= since
