"""Vietnamese news dates and times, parsed into aware datetimes in Vietnam time.

Pages write "01/06/2020 - 09:29", "Thứ hai, 01/06/2020, 09:29 (GMT+7)" or
"09:29 01/06/2020"; feeds write RFC 822 or ISO 8601; scrapers store Unix
timestamps. A time without a zone is Vietnam time (UTC+07:00). A date without a
time stays a :class:`datetime.date`: inventing midnight would be a lie.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

__all__ = ["VN_TZ", "parse_datetime", "to_vietnam"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_WEEKDAY = r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7])"
_SEP = r"\s*[,\-–—|]?\s*"
_DATE = r"(?:ngày\s*)?(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4})"
_TIME = r"(?:lúc\s*)?(?P<H>\d{1,2})\s*[:hg]\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?(?:\s*(?P<ap>am|pm|sa|ch))?"
_ZONE = r"(?:\s*\(?\s*(?:gmt|utc)\s*(?P<tz>[+\-]\s*\d{1,2}(?::?\d{2})?)?\s*\)?)?"
_LEAD = r"^\s*(?:" + _WEEKDAY + _SEP + r")?"

_DATE_FIRST = re.compile(_LEAD + _DATE + r"(?:" + _SEP + _TIME + r")?" + _ZONE + r"\s*$")
_TIME_FIRST = re.compile(_LEAD + _TIME + _SEP + _DATE + _ZONE + r"\s*$")
_WORDS = re.compile(
    _LEAD + r"ngày\s*(?P<d>\d{1,2})\s*tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})"
    r"(?:" + _SEP + _TIME + r")?" + _ZONE + r"\s*$"
)
_YMD = re.compile(r"^\s*(?P<y>\d{4})(?P<s>[/.]?)(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})\s*$")
_TIMESTAMP = re.compile(r"^\s*\d{9,10}(?:\.\d+)?\s*$")
_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}.*)?$")


def to_vietnam(value: datetime) -> datetime:
    """Attach Vietnam time to a naive datetime, or convert an aware one to it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=VN_TZ)
    return value.astimezone(VN_TZ)


def _offset(tz: str | None) -> timezone | None:
    if not tz:
        return None
    tz = tz.replace(" ", "")
    sign = -1 if tz[0] == "-" else 1
    body = tz[1:].replace(":", "")
    hours, minutes = (int(body), 0) if len(body) <= 2 else (int(body[:-2]), int(body[-2:]))
    if hours > 14 or minutes > 59:
        raise ValueError(f"impossible UTC offset {tz!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_parts(m: re.Match[str]) -> datetime | date:
    groups = m.groupdict()
    day = date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
    if groups.get("H") is None:
        return day
    hour, minute = int(groups["H"]), int(groups["M"])
    second = int(groups["S"] or 0)
    ampm = groups.get("ap")
    if ampm in ("pm", "ch") and hour < 12:
        hour += 12
    elif ampm in ("am", "sa") and hour == 12:
        hour = 0
    naive = datetime(day.year, day.month, day.day, hour, minute, second)
    zone = _offset(groups.get("tz"))
    return to_vietnam(naive.replace(tzinfo=zone) if zone else naive)


def _from_timestamp(seconds: float, shown: str) -> datetime:
    """Seconds since 1970 as a date-time; one too large or not a number for the platform's
    clock (``1e30``, ``nan``) is not a date, rather than an OverflowError or OSError."""
    try:
        return datetime.fromtimestamp(seconds, UTC).astimezone(VN_TZ)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"not a date: timestamp {shown[:40]} is out of range") from None


def parse_datetime(text: str | int | float) -> datetime | date:
    """Parse a date or date-time as written in Vietnamese news, feeds and dumps.

    Returns an aware datetime in Asia/Ho_Chi_Minh, or a date when no time of day
    is given. Raises :class:`ValueError` with the input quoted when it is not a date.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _from_timestamp(float(text), repr(text))
    if not isinstance(text, str):
        raise ValueError(f"not a date: {text!r}")
    s = unicodedata.normalize("NFC", text).strip().lower()
    if not s:
        raise ValueError("empty date")
    try:
        if _TIMESTAMP.match(s):
            return _from_timestamp(float(s), repr(text))
        if _ISO.match(s):
            iso = s.upper().replace(" ", "T", 1)
            if len(iso) == 10:
                return date.fromisoformat(iso)
            return to_vietnam(datetime.fromisoformat(iso))
        for pattern in (_DATE_FIRST, _TIME_FIRST, _WORDS, _YMD):
            m = pattern.match(s)
            if m:
                return _from_parts(m)
        if s[:1].isalpha() or "," in s:
            parsed = parsedate_to_datetime(text.strip())
            return parsed.astimezone(VN_TZ) if parsed.tzinfo else parsed.replace(tzinfo=UTC).astimezone(VN_TZ)
    except (ValueError, OverflowError, TypeError, IndexError) as exc:
        raise ValueError(f"not a valid date: {text!r} ({exc})") from None
    raise ValueError(f"not a recognised date: {text!r}")
