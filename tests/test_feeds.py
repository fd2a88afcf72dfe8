"""Feeds served by the app (Starlette's TestClient) on the shared demo home, read by real parsers:
feedparser for RSS and Atom, xmllint with our RELAX NG schema of RFC 4287, jsonschema with
our JSON Feed 1.1 schema. Plus a regression test for each feedgen trap we work around."""

from __future__ import annotations

import shutil
import subprocess
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import feedparser
import jsonschema
import orjson
import pytest
from starlette.testclient import TestClient

from opennews.archive import Archive
from opennews.cli import main
from opennews.feeds import FeedSpec, collect, item_from_record, render
from opennews.feeds.model import Feed
from opennews.settings import Settings
from opennews.web import create_app
from tools import require
from webhome import REASON, WebHome

ATOM = "{http://www.w3.org/2005/Atom}"
TOMB = "{http://purl.org/atompub/tombstones/1.0}"
SCHEMAS = Path(str(resources.files("opennews.feeds"))) / "schemas"
XMLLINT = shutil.which("xmllint")
BASE = "http://testserver"


@pytest.fixture(scope="module")
def records(web_home: WebHome) -> dict[str, dict[str, Any]]:
    with Archive.open(web_home.path / "opennews.sqlite3", readonly=True) as archive:
        return {r["id"]: r for r in map(orjson.loads, archive.iter_json())}


@pytest.fixture(scope="module")
def json_schema() -> dict[str, Any]:
    return orjson.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_bytes())


def _some(records: dict[str, dict[str, Any]], field: str) -> str:
    return next(r[field] for r in records.values() if r.get(field))


def _urls(records: dict[str, dict[str, Any]]) -> list[str]:
    source, category = quote(_some(records, "source")), quote(_some(records, "category"))
    author = quote(_some(records, "author"))
    return [
        "/feeds/latest",
        f"/feeds/source/{source}",
        f"/feeds/category/{category}",
        f"/feeds/author/{author}",
        "/feeds/latest/archive/2024-05",
        f"/feeds/source/{source}/archive/2024-05",
    ]


def _xmllint(path: Path) -> subprocess.CompletedProcess[str]:
    assert XMLLINT
    cmd = [XMLLINT, "--noout", "--relaxng", str(SCHEMAS / "atom.rng"), str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


# -- every feed parses, validates, and says the same thing ---------------------------------


def test_every_feed_parses_cleanly(client: TestClient, records: dict[str, dict[str, Any]]) -> None:
    for path in [*_urls(records), "/feeds/search"]:
        query = "?q=H%C3%A0+N%E1%BB%99i" if path == "/feeds/search" else ""
        for fmt, version in (("rss", "rss20"), ("atom", "atom10")):
            response = client.get(f"{path}.{fmt}{query}")
            assert response.status_code == 200, path
            parsed = feedparser.parse(response.content)
            assert parsed.bozo == 0, (path, fmt, parsed.get("bozo_exception"))
            assert parsed.version == version
            assert parsed.entries, (path, fmt)
            for entry in parsed.entries:
                assert entry.id.startswith("urn:opennews:article:")
                assert entry.link.startswith(BASE + "/articles/")
                assert entry.published_parsed is not None


def test_atom_feeds_validate_against_rfc4287_schema(
    client: TestClient, records: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    require("xmllint", "xmllint (libxml2-utils) is not installed")
    for n, path in enumerate([*_urls(records), "/feeds/search"]):
        target = tmp_path / f"{n}.atom"
        target.write_bytes(client.get(f"{path}.atom?q=Vi%E1%BB%87t").content)
        result = _xmllint(target)
        assert result.returncode == 0, (path, result.stderr)
    # the schema is not a rubber stamp: a date without a zone and a relative id are refused
    good = (tmp_path / "0.atom").read_text()
    for bad in (
        good.replace("<updated>", "<updated>2024-05-01T08:00:00</updated><!--", 1).replace("</updated>", "-->", 1),
        good.replace("<id>urn:opennews:feed:", "<id>feeds/", 1),
    ):
        (tmp_path / "bad.atom").write_text(bad)
        assert _xmllint(tmp_path / "bad.atom").returncode != 0


def test_json_feeds_validate_against_jsonfeed_schema(
    client: TestClient, records: dict[str, dict[str, Any]], json_schema: dict[str, Any]
) -> None:
    for path in _urls(records):
        response = client.get(f"{path}.json")
        assert response.headers["content-type"].startswith("application/feed+json")
        doc = response.json()
        jsonschema.validate(doc, json_schema)
        assert doc["language"] == "vi" and doc["feed_url"] == f"{BASE}{path}.json"
    doc["items"][0]["date_published"] = "2024-05-01T08:00:00"  # no zone
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema)


def test_an_article_has_one_id_in_every_feed_and_full_content(
    client: TestClient, records: dict[str, dict[str, Any]]
) -> None:
    latest = feedparser.parse(client.get("/feeds/latest.atom").content).entries[0]
    article_id = latest.id.rsplit(":", 1)[1]
    record = records[article_id]
    source = quote(record["source"], safe="")
    rss = feedparser.parse(client.get(f"/feeds/source/{source}.rss").content)
    assert latest.id in {e.id for e in rss.entries}
    rss_entry = next(e for e in rss.entries if e.id == latest.id)
    assert rss_entry.guidislink is False
    json_ids = {
        i["id"] for i in client.get(f"/feeds/category/{quote(record['category'], safe='')}.json").json()["items"]
    }
    assert latest.id in json_ids
    # full text, lead, author, categories, pictures, language
    first_paragraph = record["body"].split("\n\n")[0]
    assert first_paragraph[:40] in latest.content[0].value
    assert latest.summary == record["sapo"]
    assert latest.author == record["author"]
    assert record["category"] in {t.term for t in latest.tags}
    assert {e.href for e in latest.enclosures} == {i["url"] for i in record["images"]}
    assert rss_entry.media_content[0]["url"] == record["images"][0]["url"]
    assert feedparser.parse(client.get("/feeds/latest.atom").content).feed.language == "vi"
    assert feedparser.parse(client.get("/feeds/latest.rss").content).feed.language == "vi"


def test_each_item_carries_its_licence(client: TestClient) -> None:
    atom = ElementTree.fromstring(client.get("/feeds/latest.atom").content)
    for entry in atom.iter(f"{ATOM}entry"):
        assert [link.get("href") for link in entry.iter(f"{ATOM}link") if link.get("rel") == "license"] == [
            BASE + "/about"
        ]
    rss = ElementTree.fromstring(client.get("/feeds/latest.rss").content)
    rights = [i.findtext("{http://purl.org/dc/elements/1.1/}rights") for i in rss.iter("item")]
    assert rights and all(r and "copyright of their outlets" in r for r in rights)
    items = client.get("/feeds/latest.json").json()["items"]
    assert all(i["_opennews"]["license"] == BASE + "/about" and i["_opennews"]["rights"] for i in items)


# -- hygiene ---------------------------------------------------------------------------------


def test_updated_is_the_newest_item_and_bytes_are_stable(client: TestClient, web_home: WebHome) -> None:
    rss = feedparser.parse(client.get("/feeds/source/bachdang.example.rss").content)
    newest = max(parsedate_to_datetime(e.published) for e in rss.entries)
    assert parsedate_to_datetime(rss.feed.updated) == newest  # lastBuildDate: never "now"
    # built twice in separate apps (no shared cache): the same bytes, so the same ETag
    with TestClient(create_app(Settings(web_home.path))) as other:
        again = other.get("/feeds/source/bachdang.example.atom")
    assert again.content == client.get("/feeds/source/bachdang.example.atom").content
    assert again.headers["etag"] == client.get("/feeds/source/bachdang.example.atom").headers["etag"]


def test_limit_bounds_the_live_feed(client: TestClient) -> None:
    assert len(feedparser.parse(client.get("/feeds/latest.rss").content).entries) == 50
    assert len(client.get("/feeds/latest.json?limit=7").json()["items"]) == 7
    assert client.get("/feeds/latest.rss?limit=101").status_code == 400
    assert client.get("/feeds/latest.rss?limit=abc").status_code == 400
    assert client.get("/feeds/latest.xml").status_code == 404
    assert client.get("/feeds/planet/x.rss").status_code == 404
    assert client.get("/feeds/latest/archive/2024-13.atom").status_code == 404


def test_text_is_cleaned_for_xml_and_dates_get_a_zone() -> None:
    record = {
        "id": "abc123",
        "url": "https://bao.example/a.html",
        "source": "bao.example",
        "category": "Xã hội",
        "title": "Ha\x0b Noi\x00 Hoa\u0300",  # control characters, NFD
        "sapo": "Lead",
        "body": "Đoạn một\x1f.\n\nĐoạn hai.",
        "author": "Tác giả",
        "published": "2024-05-01T08:00:00",  # no zone: Vietnam time
        "images": [{"url": "/img/1.png", "caption": "Ảnh"}],
        "ingested_at": "2024-05-01T02:00:00+00:00",
    }
    item = item_from_record(record, BASE)
    assert item.title == "Ha Noi Hoà" and item.published.utcoffset().total_seconds() == 7 * 3600
    assert item.images[0].url == "https://bao.example/img/1.png" and item.images[0].type == "image/png"
    feed = Feed("urn:x:1", "t", "s", BASE + "/", BASE + "/", BASE + "/about", [item])
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(render(feed, fmt))
        assert parsed.bozo == 0 and parsed.entries[0].title == "Ha Noi Hoà"
    assert "+07:00" in orjson.loads(render(feed, "json"))["items"][0]["date_published"]


# -- feedgen traps, one regression test each (see opennews.feeds.extension) -----------------


def test_feedgen_entry_links_keep_their_attributes(client: TestClient) -> None:
    entry = ElementTree.fromstring(client.get("/feeds/latest.atom").content).find(f"{ATOM}entry")
    assert entry is not None
    alternate = [link for link in entry.iter(f"{ATOM}link") if link.get("rel") == "alternate"]
    assert len(alternate) == 1
    assert alternate[0].get("type") == "text/html" and alternate[0].get("hreflang") == "vi"
    assert {link.get("rel") for link in entry.iter(f"{ATOM}link")} >= {"alternate", "related", "enclosure", "license"}


def test_feedgen_rss_channel_link_is_the_home_page_not_self(client: TestClient) -> None:
    channel = ElementTree.fromstring(client.get("/feeds/source/bachdang.example.rss").content).find("channel")
    assert channel is not None
    assert channel.findtext("link") == BASE + "/?source=bachdang.example&sort=newest"
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == BASE + "/feeds/source/bachdang.example.rss"


def test_feedgen_atom_content_type_is_html_not_cdata(client: TestClient) -> None:
    atom = ElementTree.fromstring(client.get("/feeds/latest.atom").content)
    assert {c.get("type") for c in atom.iter(f"{ATOM}content")} == {"html"}


def test_feedgen_items_keep_newest_first_order(client: TestClient) -> None:
    for fmt in ("rss", "atom"):
        entries = feedparser.parse(client.get(f"/feeds/latest.{fmt}").content).entries
        times = [e.published_parsed for e in entries]
        assert times == sorted(times, reverse=True)


# -- HTTP ------------------------------------------------------------------------------------


def test_http_caching_and_content_types(client: TestClient) -> None:
    types = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
    for fmt, kind in types.items():
        first = client.get(f"/feeds/latest.{fmt}")
        assert first.headers["content-type"].split(";")[0] == kind
        assert first.headers["content-encoding"] == "gzip"
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert first.headers["cache-control"] == "public, max-age=900"
        assert client.get(f"/feeds/latest.{fmt}", headers={"if-none-match": etag}).status_code == 304
        assert client.get(f"/feeds/latest.{fmt}", headers={"if-modified-since": modified}).status_code == 304
        stale = client.get(f"/feeds/latest.{fmt}", headers={"if-none-match": '"nope"', "if-modified-since": modified})
        assert stale.status_code == 200  # If-None-Match decides when both are sent
        plain = client.get(f"/feeds/latest.{fmt}", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == first.content
        head = client.head(f"/feeds/latest.{fmt}")
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
    rss = ElementTree.fromstring(client.get("/feeds/latest.rss").content)
    assert int(rss.findtext("channel/ttl") or 0) * 60 == 900  # <ttl> agrees with max-age
    served = client.get("/feeds/latest.rss")
    newest = max(parsedate_to_datetime(e.published) for e in feedparser.parse(served.content).entries)
    assert parsedate_to_datetime(served.headers["last-modified"]) >= newest


def test_feedparser_conditional_refetch_gets_304(client: TestClient) -> None:
    first = client.get("/feeds/latest.atom")
    again = client.get("/feeds/latest.atom", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


# -- history and retractions ----------------------------------------------------------------


def test_withdrawn_articles_are_tombstones_never_items(client: TestClient, web_home: WebHome) -> None:
    guid = f"urn:opennews:article:{web_home.withdrawn_id}"
    atom = ElementTree.fromstring(client.get("/feeds/latest.atom").content)
    tombs = list(atom.iter(f"{TOMB}deleted-entry"))
    assert [t.get("ref") for t in tombs] == [guid]
    assert tombs[0].get("when", "").endswith("+07:00") and tombs[0].findtext(f"{TOMB}comment") == REASON
    for fmt in ("rss", "atom"):
        entries = feedparser.parse(client.get(f"/feeds/latest.{fmt}?limit=100").content).entries
        assert len(entries) == 100 and guid not in {e.id for e in entries}
    assert guid not in client.get("/feeds/latest.rss?limit=100").text


def test_archive_pages_walk_back_through_the_whole_archive(
    client: TestClient, records: dict[str, dict[str, Any]], web_home: WebHome
) -> None:
    url = BASE + "/feeds/latest.atom"
    seen: set[str] = set()
    tombstones: set[str] = set()
    pages = 0
    while url:
        doc = ElementTree.fromstring(client.get(url.removeprefix(BASE)).content)
        seen.update(e.findtext(f"{ATOM}id") or "" for e in doc.iter(f"{ATOM}entry"))
        tombstones.update(t.get("ref") or "" for t in doc.iter(f"{TOMB}deleted-entry"))
        links = {link.get("rel"): link.get("href") for link in doc.findall(f"{ATOM}link")}
        if pages:
            assert doc.find("{http://purl.org/syndication/history/1.0}archive") is not None
            assert links["current"] == BASE + "/feeds/latest.atom"
        url = links.get("prev-archive") or ""
        pages += 1
        assert pages < 200
    assert seen == {f"urn:opennews:article:{i}" for i in records}
    assert f"urn:opennews:article:{web_home.withdrawn_id}" in tombstones


# -- discovery -----------------------------------------------------------------------------


def test_opml_lists_every_source_and_category(client: TestClient, records: dict[str, dict[str, Any]]) -> None:
    response = client.get("/feeds.opml")
    assert response.status_code == 200 and "opml" in response.headers["content-type"]
    urls = {o.get("xmlUrl") for o in ElementTree.fromstring(response.content).iter("outline") if o.get("xmlUrl")}
    for kind in ("source", "category"):
        for name in {r[kind] for r in records.values() if r.get(kind)}:
            assert f"{BASE}/feeds/{kind}/{quote(name, safe='')}.rss" in urls
    assert client.get(next(iter(urls)).removeprefix(BASE)).status_code == 200


def test_pages_autodiscover_the_feed_of_what_they_show(client: TestClient, records: dict[str, dict[str, Any]]) -> None:
    page = client.get("/?q=H%C3%A0+N%E1%BB%99i&source=bachdang.example&page=2").text
    assert 'type="application/atom+xml"' in page
    assert 'href="/feeds/search.atom?q=H%C3%A0+N%E1%BB%99i&amp;source=bachdang.example"' in page
    head = page.split("</head>")[0]
    assert head.index("/feeds/search.rss?") < head.index("/feeds/latest.rss")  # the search's own feed first
    home = client.get("/").text.split("</head>")[0]
    assert 'href="/feeds/latest.atom"' in home
    some = next(iter(records.values()))
    article = client.get(f"/articles/{some['id']}").text.split("</head>")[0]
    assert f'href="/feeds/source/{quote(some["source"], safe="")}.rss"' in article
    feeds_page = client.get("/feeds")
    assert feeds_page.status_code == 200 and "/feeds.opml" in feeds_page.text
    assert f"/feeds/source/{quote(some['source'], safe='')}.atom" in feeds_page.text
    assert client.get("/feeds?lang=en").status_code == 200


# -- static feeds ---------------------------------------------------------------------------


def test_static_feeds_match_the_served_ones(client: TestClient, web_home: WebHome, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(web_home.path, home)
    assert main(["--home", str(home), "feeds", "--base-url", BASE, "--quiet"]) == 0
    written = home / "feeds" / "latest.atom"
    assert written.read_bytes() == client.get("/feeds/latest.atom").content
    source = home / "feeds" / "source" / "bachdang.example.rss"
    assert source.read_bytes() == client.get("/feeds/source/bachdang.example.rss").content
    assert feedparser.parse(source.read_bytes()).bozo == 0
    assert (home / "feeds" / "feeds.opml").exists() and (home / "feeds" / "latest.json.gz").exists()
    stamp = written.stat().st_mtime_ns
    stale = home / "feeds" / "category" / "Gone.rss"
    stale.write_text("old")
    assert main(["--home", str(home), "feeds", "--base-url", BASE, "--quiet"]) == 0
    assert written.stat().st_mtime_ns == stamp  # unchanged bytes are not rewritten
    assert not stale.exists()


def test_collect_reads_withdrawn_and_live_articles_consistently(web_home: WebHome) -> None:
    from opennews.feeds import ArchiveReader
    from opennews.search import Searcher

    with Archive.open(web_home.path / "opennews.sqlite3", readonly=True) as archive:
        searcher = Searcher(web_home.path / "index", archive)
        try:
            feed = collect(FeedSpec(limit=100), ArchiveReader(searcher, archive), BASE)
        finally:
            searcher.close()
    assert len(feed.items) == 100 and len({i.guid for i in feed.items}) == 100
    assert feed.updated == max(i.updated for i in feed.items)


def test_a_search_feed_holds_the_word_its_query_means(client: TestClient) -> None:
    """A feed of "thuy dien" subscribes to thủy điện (the reading the archive uses most), "thụy điển"
    to Sweden: the feed keeps the articles holding the meant word side by side, while the
    search page still finds every folded look-alike."""
    from opennews.vietnamese import normalize

    def texts(q: str) -> list[str]:
        feed = orjson.loads(client.get("/feeds/search.json", params={"q": q, "limit": 100}).content)
        return [normalize(f"{i.get('title', '')} {i.get('content_html', '')}").lower() for i in feed["items"]]

    hydro, sweden = texts("thuy dien"), texts("thụy điển")
    assert hydro and all("thủy điện" in t for t in hydro)
    assert sweden and all("thụy điển" in t for t in sweden)
    page = client.get("/api/search", params={"q": "thuy dien", "per_page": 100}).json()
    assert page["total"] > len(hydro) and any("thụy điển" in normalize(h["title"]).lower() for h in page["results"])
