"""The article record: validation, the stable id rule, hashing, round trips."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import orjson
import pytest

from opennews.article import (
    FIELDS,
    ValidationError,
    article_id,
    canonical_url,
    make_article,
    source_from_url,
    strip_tracking,
)

BASE = {
    "url": "https://vnmau.example/thoi-su/bai-viet-1.html",
    "title": "Hà Nội mưa lớn",
    "sapo": "Mưa lớn kéo dài từ đêm qua.",
    "body": "Đoạn một.\n\nĐoạn hai.",
    "published": "2021-07-01T08:00:00+07:00",
}


def test_minimal_record_is_normalised() -> None:
    a = make_article(BASE)
    assert a.source == "vnmau.example"
    assert a.lang == "vi"
    assert a.published == datetime(2021, 7, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    assert a.paragraphs == ["Đoạn một.", "Đoạn hai."]
    assert list(a.to_dict()) == list(FIELDS)
    assert len(a.id) == 16 and len(a.content_hash) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "missing title"),
        ({"title": None}, "missing title"),
        ({"body": "", "sapo": None}, "missing body and sapo"),
        ({"url": "/relative/path.html"}, "not an absolute"),
        ({"url": "ftp://host/x"}, "not an absolute"),
        ({"published": "hôm qua"}, "published"),
        ({"published": datetime(2021, 1, 1, 8, 0)}, "no time zone"),
        ({"title": "x" * 1001}, "too long"),
        ({"id": "has spaces in it"}, "id must be"),
        ({"title": {"nested": 1}}, "must be text"),
        ({"images": [{"url": "javascript:alert(1)"}]}, "image url"),
        ({"tags": 1}, "tags must be text or a list"),
        ({"images": 7}, "images must be a URL, an object or a list"),
        ({"published": 1e30}, "published: not a date: timestamp 1e\\+30 is out of range"),
        ({"published": "99999999999999999999"}, "not a recognised date"),
        ({"updated": float("nan")}, "updated: not a date"),
    ],
)
def test_invalid_records_say_why(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_article({**BASE, **change})


def test_sapo_alone_is_enough_and_becomes_the_text() -> None:
    a = make_article({**BASE, "body": None})
    assert a.body == BASE["sapo"]


def test_text_is_cleaned_but_tone_style_is_kept() -> None:
    a = make_article({**BASE, "title": "  Thuỷ\u00a0điện  Hoà\u200b Bình ", "body": "Dòng một\r\nDòng  hai\n\n\n"})
    assert a.title == "Thuỷ điện Hoà Bình"  # what readers see is kept, only invisibles go
    assert a.body == "Dòng một\n\nDòng hai"


def test_id_comes_from_canonical_url_not_the_headline() -> None:
    a = make_article(BASE)
    b = make_article(
        {**BASE, "title": "Tiêu đề khác", "url": "HTTPS://VNMAU.example:443/thoi-su/bai-viet-1.html?utm_source=fb#top"}
    )
    assert a.id == b.id
    assert a.content_hash != b.content_hash
    assert "ha-noi" not in a.id


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://a.example/x.html?utm_source=rss", "https://a.example/x.html"),
        ("https://a.example/x.html?utm_source=rss&utm_medium=feed&utm_campaign=tet", "https://a.example/x.html"),
        ("https://a.example/tin?id=123&utm_source=zalo", "https://a.example/tin?id=123"),
        ("https://a.example/tin?utm_term=a&id=123&fbclid=IwAR0x&p=2", "https://a.example/tin?id=123&p=2"),
        ("https://a.example/x?b=2&a=1&gclid=z&q=a%20b+c&x", "https://a.example/x?b=2&a=1&q=a%20b+c&x"),
        ("https://a.example/x?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&yclid=5&_ga=6&igshid=7", "https://a.example/x"),
        ("https://a.example/x?UTM_Source=rss&Fbclid=1", "https://a.example/x"),
        ("https://a.example/x?utm%5Fsource=rss&page=3", "https://a.example/x?page=3"),
        ("https://a.example/x?utm_source=rss#binh-luan", "https://a.example/x#binh-luan"),
        ("https://a.example/x#top?utm_source=rss", "https://a.example/x#top?utm_source=rss"),
        ("https://a.example/x?id=1&utm_sourcex=1&ref=home", "https://a.example/x?id=1&ref=home"),
        ("https://a.example/x?id=1&gclidx=1", "https://a.example/x?id=1&gclidx=1"),
        ("https://A.example:443/x?Id=5&&b", "https://A.example:443/x?Id=5&&b"),
    ],
)
def test_strip_tracking(url: str, stored: str) -> None:
    assert strip_tracking(url) == stored
    assert strip_tracking(stored) == stored


def test_stored_url_has_no_tracking_parameters_and_the_id_ignores_them() -> None:
    clean = make_article({**BASE, "url": "https://vnmau.example/tin?id=123&p=2"})
    tracked = make_article({**BASE, "url": "https://vnmau.example/tin?utm_source=rss&id=123&fbclid=x&p=2"})
    assert tracked.url == "https://vnmau.example/tin?id=123&p=2"
    assert tracked.to_dict()["url"] == tracked.url
    assert tracked.id == clean.id and tracked.content_hash == clean.content_hash
    assert make_article({**BASE, "url": "https://vnmau.example/tin?id=124"}).id != clean.id


@pytest.mark.parametrize(
    ("url", "ident"),
    [
        # Pinned: ids of URLs whose tracking parameters were already ignored stay what they were.
        ("https://baomau.example/a-1.html?utm_source=rss&utm_medium=feed", "55873fd425fdd871"),
        ("https://baomau.example/tin?id=123&utm_campaign=x&fbclid=AbC#binh-luan", "39594236148f94e9"),
        ("https://baomau.example/tin?b=2&a=1&gclid=z&q=a%20b+c&x", "3b3f7a9a04ca4711"),
        # and so do ids of URLs carrying names only the stored url drops (the id's list is frozen)
        ("https://vnmau.example/a?_gl=1*abc&yclid=9&id=3", "82a2a4e17aa13539"),
        ("https://vnmau.example/b?gbraid=x&utm_source=rss", "d6042b9706d39f5f"),
    ],
)
def test_ids_are_stable(url: str, ident: str) -> None:
    assert article_id(url, "s", "h") == ident
    assert make_article({**BASE, "url": url}).id == ident
    assert "utm_" not in make_article({**BASE, "url": url}).url


def test_id_without_url_comes_from_source_and_content() -> None:
    rec = {**BASE, "url": None, "source": "tinmau"}
    assert make_article(rec).id == make_article(dict(rec)).id
    assert make_article(rec).id != make_article({**rec, "body": "Khác."}).id
    assert make_article(rec).id != make_article({**rec, "source": "khac"}).id


def test_given_id_is_kept() -> None:
    assert make_article({**BASE, "id": "vietnews-train-000123"}).id == "vietnews-train-000123"


def test_dump_round_trip_is_exact() -> None:
    a = make_article({**BASE, "images": [{"url": "https://vnmau.example/a.jpg", "caption": "Ảnh"}], "tags": ["mưa"]})
    line = a.to_json()
    b = make_article(orjson.loads(line))
    assert b == a
    assert b.to_json() == line


def test_date_only_published_is_kept_as_a_date() -> None:
    a = make_article({**BASE, "published": "2019-05-01"})
    assert a.published == date(2019, 5, 1)
    assert a.to_dict()["published"] == "2019-05-01"


def test_relative_image_urls_are_resolved_against_the_article() -> None:
    a = make_article({**BASE, "images": ["/img/x.jpg"]})
    assert a.images[0].url == "https://vnmau.example/img/x.jpg"


def test_url_helpers() -> None:
    assert canonical_url("http://Example.COM:80/a?b=1&utm_medium=x&fbclid=y#frag") == "http://example.com/a?b=1"
    assert source_from_url("https://video.vnexpress.net/x") == "vnexpress.net"
    assert source_from_url("https://www.baochinhphu.gov.vn/x") == "baochinhphu.gov.vn"
    assert source_from_url("http://dantri.com.vn/a") == "dantri.com.vn"
    assert article_id("https://a.example/x", "s", "h") == article_id("https://A.example/x#y", "other", "other")
    with pytest.raises(ValidationError):
        canonical_url("mailto:x@y")
