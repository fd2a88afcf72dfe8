"""Vietnamese date/time parsing into aware Asia/Ho_Chi_Minh datetimes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from opennews.vietnamese import VN_TZ, parse_datetime

EXPECTED = datetime(2020, 6, 1, 9, 29, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    "text",
    [
        "01/06/2020 - 09:29",
        "Thứ hai, 01/06/2020, 09:29 (GMT+7)",
        "09:29 01/06/2020",
        "2020-06-01T09:29:00+07:00",
        "2020-06-01T02:29:00Z",
        "2020-06-01 09:29",
        "Mon, 01 Jun 2020 02:29:00 GMT",
        "Mon, 01 Jun 2020 09:29:00 +0700",
        "thứ 2, 1/6/2020 09h29",
        "1/6/2020 9:29 SA",
        "ngày 1 tháng 6 năm 2020 09:29",
    ],
)
def test_every_notation_gives_the_same_instant(text: str) -> None:
    value = parse_datetime(text)
    assert isinstance(value, datetime)
    assert value == EXPECTED
    assert value.utcoffset() == timedelta(hours=7)


def test_unix_timestamps() -> None:
    assert parse_datetime(1590978540) == EXPECTED
    assert parse_datetime("1590978540") == EXPECTED


def test_other_zone_is_converted_to_vietnam_time() -> None:
    value = parse_datetime("Thứ hai, 01/06/2020, 04:29 (GMT+2)")
    assert value == EXPECTED and value.utcoffset() == timedelta(hours=7)


def test_afternoon_markers() -> None:
    assert parse_datetime("01/06/2020 02:15 CH") == datetime(2020, 6, 1, 14, 15, tzinfo=VN_TZ)


def test_date_only_stays_a_date() -> None:
    assert parse_datetime("2020-06-01") == date(2020, 6, 1)
    assert parse_datetime("01/06/2020") == date(2020, 6, 1)
    assert parse_datetime("20200601") == date(2020, 6, 1)
    assert parse_datetime("Chủ nhật, 7/6/2020") == date(2020, 6, 7)


@pytest.mark.parametrize(
    "bad", ["", "hôm qua", "32/01/2020", "01/13/2020 10:00", "Tiếng Việt | English", "12:99 01/01/2020"]
)
def test_non_dates_raise_value_error_with_the_input(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(bad)
