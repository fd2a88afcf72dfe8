"""Feeds and pages for the names and headlines that are hard to print.

Bidi: feeds carry no bidi control.

On the hard-names home of ``webhome`` through Starlette's TestClient.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import feedparser
import pytest
from starlette.testclient import TestClient

from opennews.feeds import FORMATS, FeedSpec
from opennews.settings import Settings
from opennews.vietnamese import strip_bidi
from opennews.web import create_app
from webhome import SPOOF_AUTHOR, SPOOF_TAG, SPOOF_TITLES, NamesHome

BASE = "http://testserver"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def names_client(names_home: NamesHome) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(names_home.path), follow=False)) as client:
        yield client


# -- bidi: stripped from feeds --------------------------------------------------------------------


def test_feeds_carry_no_bidi_controls(names_client: TestClient) -> None:
    category = "Bão\u202e lũ"
    paths = [
        "/feeds/latest",
        FeedSpec(kind="category", value=category).path,
        FeedSpec(kind="author", value=SPOOF_AUTHOR).path,
    ]
    for path in paths:
        for fmt in FORMATS:
            body = names_client.get(f"{path}.{fmt}").content.decode()
            assert not BIDI.search(body), (path, fmt, BIDI.findall(body))
    search = names_client.get(FeedSpec(kind="search", q="giá vàng").url("", "atom")).content.decode()
    assert not BIDI.search(search) and feedparser.parse(search).entries
    assert not BIDI.search(names_client.get("/feeds.opml").content.decode())

    spoofed = {strip_bidi(t) for t in SPOOF_TITLES}
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(names_client.get(f"/feeds/latest.{fmt}").content)
        entries = [e for e in parsed.entries if e.title in spoofed]
        assert len(entries) == 2, fmt
        for entry in entries:
            assert entry.author == strip_bidi(SPOOF_AUTHOR)
            assert strip_bidi(SPOOF_TAG) in {t.term for t in entry.tags}
    items = names_client.get("/feeds/latest.json").json()["items"]
    assert {i["title"] for i in items} >= spoofed
    titled = feedparser.parse(names_client.get(FeedSpec(kind="category", value=category).url("", "rss")).content)
    assert titled.feed.title == "opennews · Chuyên mục: Bão lũ"
