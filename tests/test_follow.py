"""Following sources: telling their kind, the seen/re-check schedule, feed and page merged,
pages gone, and poll cycles against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from follow_helpers import QuickFetcher, Site
from opennews.archive import Archive, ArchiveError
from opennews.cli import main
from opennews.follow.discover import NotASource, feed_links, parse
from opennews.follow.fetch import Fetched, FetchError
from opennews.follow.follow import FollowOptions, poll_cycle
from opennews.follow.items import RECHECKS, gone_items, merge, next_check, seen_item
from opennews.follow.sources import add_source, allowed_for, backoff, list_sources, remove_source, site_of
from opennews.home import Home
from opennews.search import SearchRequest
from tools import default_signals

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

BODY_1 = [
    "Sáng nay, Sở Giao thông vận tải thành phố cho biết tuyến xe buýt điện mới sẽ nối bến xe Miền Đông với khu "
    "công nghệ cao, chạy mỗi mười lăm phút một chuyến từ năm giờ sáng.",
    "Theo kế hoạch, giá vé lượt là bảy nghìn đồng; học sinh, sinh viên và người cao tuổi được giảm một nửa khi "
    "dùng thẻ điện tử của thành phố.",
    "Đại diện doanh nghiệp vận hành nói toàn bộ hai mươi xe đã được kiểm định và tài xế được tập huấn trong ba tuần.",
]
BODY_2 = [
    "Mưa lớn kéo dài từ đêm qua khiến nhiều tuyến đường ở trung tâm thành phố ngập sâu, giao thông ùn tắc "
    "trong giờ cao điểm sáng.",
    "Trung tâm dự báo khí tượng thủy văn cho biết mưa còn kéo dài đến cuối tuần, lượng mưa phổ biến từ năm mươi "
    "đến một trăm milimét.",
]


def jsonld_page(url: str, title: str, body: list[str], published: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": published,
        "author": {"@type": "Person", "name": "Minh Anh"},
        "articleBody": "\n\n".join(body),
        "url": url,
    }
    return (
        f"<!doctype html><html lang='vi'><head><title>{title}</title>"
        f"<script type='application/ld+json'>{json.dumps(data, ensure_ascii=False)}</script></head>"
        f"<body><nav><a href='/'>Trang chủ</a></nav><h1>{title}</h1>"
        + "".join(f"<p>{p}</p>" for p in body)
        + "</body></html>"
    )


def og_page(title: str, body: list[str]) -> str:
    """No JSON-LD: Open Graph meta and an <article>, without a date or author."""
    return (
        f"<!doctype html><html lang='vi'><head><meta property='og:title' content='{title}'>"
        f"<title>{title} - Báo Thử</title></head><body><ul class='menu'><li>Thời sự</li><li>Kinh tế</li></ul>"
        f"<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in body) + "</article>"
        "<footer>Bản quyền thuộc về Báo Thử</footer></body></html>"
    )


def rss(base: str, items: list[tuple[str, str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<description>{summary}</description><pubDate>{date}</pubDate><category>Giao thông</category>"
        f"<author>toasoan@example.vn (Tòa soạn)</author></item>"
        for path, t, summary, date in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Báo Thử</title>"
        f"<link>{base}/</link><description>Tin mới</description>{entries}</channel></rss>"
    )


def rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


# -- telling what a source is ----------------------------------------------------------


def test_rss_and_atom_items_with_their_fields() -> None:
    feed = rss("https://rss.example.vn", [("/a.html", "Xe buýt điện", "Tuyến mới nối hai bến.", rfc822(T0))])
    parsed = parse(feed.encode(), "application/rss+xml", "https://rss.example.vn/tin-moi.rss")
    assert parsed.kind == "rss"
    [item] = parsed.items
    assert item.url == "https://rss.example.vn/a.html"
    assert item.fields["title"] == "Xe buýt điện" and item.fields["category"] == "Giao thông"
    atom = (
        "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Báo Thử</title><id>x</id>"
        "<updated>2026-03-02T08:00:00Z</updated><entry><title>Mưa lớn</title><id>urn:1</id>"
        "<link href='/b.html'/><updated>2026-03-02T08:00:00Z</updated><summary>Ngập sâu.</summary></entry></feed>"
    )
    parsed = parse(atom.encode(), "application/atom+xml", "https://example.vn/atom.xml")
    assert parsed.kind == "atom" and parsed.items[0].url == "https://example.vn/b.html"
    assert parsed.items[0].fields["body"] == "Ngập sâu."


def test_json_feed_items() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Báo Thử",
        "items": [
            {"id": "1", "url": "https://example.vn/c.html", "title": "Giá vàng", "summary": "Tăng nhẹ.",
             "content_html": "<p>Giá vàng sáng nay tăng nhẹ.</p>", "date_published": "2026-03-02T08:00:00+07:00",
             "authors": [{"name": "Lan Hương"}], "tags": ["Kinh tế"]},
            {"id": "2", "title": "no link, skipped"},
        ],
    }  # fmt: skip
    parsed = parse(json.dumps(feed).encode(), "application/feed+json", "https://example.vn/feed.json")
    assert parsed.kind == "jsonfeed"
    [item] = parsed.items
    assert item.fields["body"] == "Giá vàng sáng nay tăng nhẹ." and item.fields["author"] == "Lan Hương"
    assert item.fields["sapo"] == "Tăng nhẹ." and item.fields["category"] == "Kinh tế"
    with pytest.raises(NotASource, match="not a JSON Feed"):
        parse(b'{"items": []}', "application/json", "https://example.vn/x.json")


NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://example.vn/cu.html</loc><news:news><news:publication><news:name>Báo Thử</news:name>
  <news:language>vi</news:language></news:publication><news:publication_date>2026-03-01T07:00:00+07:00</news:publication_date>
  <news:title>Tin cũ hơn</news:title></news:news></url>
 <url><loc>https://example.vn/moi.html</loc><news:news><news:publication><news:name>Báo Thử</news:name>
  <news:language>vi</news:language></news:publication><news:publication_date>2026-03-02T07:00:00+07:00</news:publication_date>
  <news:title>Tin mới nhất</news:title><news:keywords>giao thông, xe buýt</news:keywords></news:news></url>
</urlset>"""


def test_news_sitemap_newest_first_and_index_children() -> None:
    parsed = parse(NEWS_SITEMAP.encode(), "application/xml", "https://example.vn/news.xml")
    assert parsed.kind == "sitemap"
    assert [i.url for i in parsed.items] == ["https://example.vn/moi.html", "https://example.vn/cu.html"]
    assert parsed.items[0].fields["title"] == "Tin mới nhất"
    assert parsed.items[0].fields["tags"] == ["giao thông", "xe buýt"]
    index = (
        "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        + "".join(
            f"<sitemap><loc>https://example.vn/sitemap-{d}.xml</loc><lastmod>2026-03-0{d}</lastmod></sitemap>"
            for d in (1, 4, 2, 3, 5)
        )
        + "</sitemapindex>"
    )
    parsed = parse(index.encode(), "application/xml", "https://example.vn/sitemap.xml")
    assert parsed.kind == "sitemap-index"
    assert parsed.links == [f"https://example.vn/sitemap-{d}.xml" for d in (5, 4, 3)]  # newest, bounded


def test_a_sitemap_s_paths_are_read_against_its_address() -> None:
    """The protocol asks for absolute URLs; a sitemap giving paths still names its own site."""
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"
    urlset = f"<urlset {ns}><url><loc>/bai/moi.html</loc></url><url><loc>http://[::1</loc></url></urlset>"
    parsed = parse(urlset.encode(), "application/xml", "https://example.vn/tin/news.xml")
    assert [i.url for i in parsed.items] == ["https://example.vn/bai/moi.html", "http://[::1"]
    index = f"<sitemapindex {ns}><sitemap><loc>tin-2.xml</loc></sitemap></sitemapindex>"
    assert parse(index.encode(), "application/xml", "https://example.vn/tin/index.xml").links == [
        "https://example.vn/tin/tin-2.xml"
    ]


def test_sitemap_entities_are_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://example.vn/&lol3;</loc></url>'
        "</urlset>"
    )
    parsed = parse(bomb.encode(), "application/xml", "https://example.vn/s.xml")
    assert all(len(i.url) < 100 for i in parsed.items)


def test_home_page_autodiscovery_and_what_is_not_a_source() -> None:
    home = (
        "<!DOCTYPE html><html><head><base href='https://example.vn/vi/'>"
        "<link rel='alternate' type='application/rss+xml' href='tin-moi.rss' title='Tin mới'>"
        "<link rel='alternate' type='application/atom+xml' href='/atom.xml'>"
        "<link rel='alternate' hreflang='en' href='/en/'><link rel='stylesheet' href='/a.css'>"
        "</head><body></body></html>"
    )
    assert feed_links(home, "https://www.example.vn/") == [
        "https://example.vn/vi/tin-moi.rss",
        "https://example.vn/atom.xml",
    ]
    assert parse(home.encode(), "text/html", "https://www.example.vn/").kind == "homepage"
    with pytest.raises(NotASource, match="without a <link"):
        parse(b"<html><body>Trang chu</body></html>", "text/html", "https://example.vn/")
    with pytest.raises(NotASource, match="not a feed"):
        parse(b"plain text", "text/plain", "https://example.vn/robots.txt")
    with pytest.raises(NotASource, match="malformed XML"):
        parse(b"<urlset><url><loc>x</url>", "application/xml", "https://example.vn/broken.xml")


def test_sites_join_hosts_of_one_outlet() -> None:
    assert site_of("https://rss.example.vn/x") == site_of("https://www.example.vn/") == "example.vn"
    assert site_of("https://vnexpress.net/") != site_of("https://example.vn/")
    assert site_of("http://127.0.0.1:8080/a") == "127.0.0.1"


# -- the schedule, merging ---------------------------------------------------------------


def test_recheck_schedule_grows_and_ends_after_48_hours() -> None:
    published = T0.isoformat()
    assert next_check(published, T0, T0) == T0 + RECHECKS[0]
    assert next_check(published, T0, T0 + timedelta(hours=1, seconds=1)) == T0 + timedelta(hours=4)
    assert next_check(published, T0, T0 + timedelta(hours=13)) == T0 + timedelta(hours=24)
    assert next_check(published, T0, T0 + timedelta(hours=48)) is None
    old = (T0 - timedelta(days=3)).isoformat()
    assert next_check(old, T0, T0) is None  # an old article found today is not checked again
    future = (T0 + timedelta(days=1)).isoformat()
    assert next_check(future, T0, T0) == T0 + timedelta(hours=1)  # a date ahead counts from first seen
    assert next_check(None, T0, T0 + timedelta(hours=2)) == T0 + timedelta(hours=4)


def test_backoff_doubles_and_honours_retry_after() -> None:
    assert backoff(15, 1, None) == timedelta(minutes=15)
    assert backoff(15, 3, None) == timedelta(minutes=60)
    assert backoff(15, 30, None) == timedelta(days=1)
    assert backoff(15, 1, 7200) == timedelta(hours=2)


def test_merge_page_wins_feed_fills() -> None:
    feed = {"title": "Tiêu đề feed", "body": "Tóm tắt ngắn.", "published": "2026-03-02T08:00:00+07:00",
            "category": "Giao thông", "tags": ["xe buýt"], "author": "Tòa soạn"}  # fmt: skip
    page = {"title": "Tiêu đề trang", "body": "Toàn văn bài.", "author": None, "sapo": None, "url": "https://x.vn/p"}
    record = merge(feed, page, "https://example.vn/a.html")
    assert record["title"] == "Tiêu đề trang" and record["body"] == "Toàn văn bài."
    assert record["sapo"] == "Tóm tắt ngắn." and record["author"] == "Tòa soạn" and record["category"] == "Giao thông"
    assert record["url"] == "https://example.vn/a.html"  # one id whichever text we had
    assert merge(feed, None, "https://example.vn/a.html")["body"] == "Tóm tắt ngắn."
    long_feed = {**feed, "body": "x " * 1000}
    assert merge(long_feed, page, "https://example.vn/a.html")["sapo"] is None  # full text is no lead


# -- polling a real server ------------------------------------------------------------------


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_poll_cycle_follows_a_feed_into_the_archive(archive_target: str | Path, site: Site, tmp_path: Path) -> None:
    base = site.base_url
    site.put("/a.html", jsonld_page(base + "/a.html", "Xe buýt điện nối hai bến", BODY_1, T0.isoformat()))
    site.put("/b.html", og_page("Mưa lớn gây ngập", BODY_2))
    site.put("/gone.html", "", status=410)
    items = [
        ("/a.html", "Xe buýt điện nối hai bến", "Tuyến mới nối hai bến xe.", rfc822(T0)),
        ("/b.html", "Mưa lớn gây ngập", "Nhiều tuyến đường ngập sâu.", rfc822(T0)),
        ("/gone.html", "Bài đã gỡ", "Tóm tắt của bài đã gỡ.", rfc822(T0)),
    ]
    feed = site.put("/rss.xml", rss(base, items), "application/rss+xml")
    feed_text = rss(base, items).replace("</channel>", "<item><title>Ngoài</title><link>https://other.example.com/x"
                                         "</link><description>x</description></item></channel>")  # fmt: skip
    site.put("/rss.xml", feed_text, "application/rss+xml")
    clock = Clock(T0)
    with Archive.open(archive_target) as archive:
        allowed = allowed_for(archive)
        fetcher = QuickFetcher(lambda url: allowed(url) or url == feed)
        [source] = add_source(archive, fetcher, feed, name="Báo Thử", every=10, now=clock)
        assert source.kind == "rss" and source.every_minutes == 10
        fetcher = QuickFetcher(allowed)
        report = poll_cycle(archive, fetcher, allowed, rejects_path=tmp_path / "rejects.ndjson", now=clock)
        assert report.run is not None and report.run.total("added") == 3
        assert "https://other.example.com/x" not in fetcher.asked  # never requested
        reasons = [r.reason for r in report.run.rejects]
        assert any("no source names" in r for r in reasons)
        a = _record(archive, base + "/a.html")
        assert a["body"].split("\n\n")[0] == BODY_1[0] and a["author"] == "Minh Anh"
        b = _record(archive, base + "/b.html")
        # The page's text (the reader takes its first paragraph as the lead); the feed fills the section.
        assert (b["sapo"], b["body"]) == (BODY_2[0], BODY_2[1]) and b["category"] == "Giao thông"
        gone = _record(archive, base + "/gone.html")
        assert gone["body"] == "Tóm tắt của bài đã gỡ."  # the feed's own text when the page cannot be had
        assert [g.url for g in gone_items(archive)] == [base + "/gone.html"]
        assert archive.runs(limit=1)[0]["command"] == "follow"
        assert archive.runs(limit=1)[0]["inputs"][0]["input"] == feed

        # Ten minutes later: the feed answers 304, nothing is fetched again.
        clock.moment = T0 + timedelta(minutes=10)
        site.requests.clear()
        report = poll_cycle(archive, fetcher, allowed, rejects_path=tmp_path / "rejects.ndjson", now=clock)
        assert report.sources[0].status == "304 not modified"
        assert site.paths() == ["/rss.xml"]

        # An hour after publication the fresh items are checked again; the edit is a new version.
        site.put(
            "/a.html",
            jsonld_page(
                base + "/a.html", "Xe buýt điện nối hai bến", [*BODY_1, "Cập nhật: thêm tuyến."], T0.isoformat()
            ),
        )
        clock.moment = T0 + timedelta(hours=1, minutes=1)
        site.requests.clear()
        report = poll_cycle(archive, fetcher, allowed, rejects_path=tmp_path / "rejects.ndjson", now=clock)
        assert report.run is not None and report.run.total("updated") == 1 and report.run.total("added") == 0
        assert sorted(site.paths()) == ["/a.html", "/b.html", "/gone.html", "/rss.xml"]
        assert "Cập nhật: thêm tuyến." in _record(archive, base + "/a.html")["body"]
        assert _record(archive, base + "/gone.html")["body"] == "Tóm tắt của bài đã gỡ."  # never withdrawn
        seen = seen_item(archive, base + "/a.html")
        assert seen is not None and seen.checks == 2 and seen.next_check == (T0 + timedelta(hours=4)).isoformat()

        # Following stopped for a day: the missed checks are not made up; the 48-hour one is made.
        for hours, fetched in ((30, []), (48.2, ["/a.html", "/b.html", "/gone.html"]), (48.5, [])):
            clock.moment = T0 + timedelta(hours=hours)
            site.requests.clear()
            poll_cycle(archive, fetcher, allowed, rejects_path=tmp_path / "rejects.ndjson", now=clock)
            assert sorted(site.paths()) == sorted(["/rss.xml", *fetched]), hours
        assert seen_item(archive, base + "/a.html").next_check is None
        [source] = list_sources(archive)
        assert source.articles == 4 and source.error_streak == 0


def _record(archive: Archive, url: str) -> dict:
    for article_id in [r[0] for r in archive.execute("SELECT article_id FROM follow_items WHERE url = ?", (url,))]:
        row = archive.execute("SELECT record FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row:
            return json.loads(row[0])
    raise AssertionError(f"no article for {url}")


def test_failed_poll_backs_off_and_is_a_reject(archive_target: str | Path, site: Site, tmp_path: Path) -> None:
    feed = site.put("/rss.xml", rss(site.base_url, []), "application/rss+xml")
    clock = Clock(T0)
    with Archive.open(archive_target) as archive:
        allowed = allowed_for(archive)
        add_source(archive, QuickFetcher(lambda url: True), feed, every=15, now=clock)
        site.put("/rss.xml", "", status=503)
        for n, wait in ((1, 15), (2, 30)):
            report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r.ndjson", now=clock)
            assert report.polled == 0 and report.sources[0].error == "HTTP 503"
            [source] = list_sources(archive)
            assert source.error_streak == n
            assert source.next_due == (clock.moment + timedelta(minutes=wait)).isoformat()
            clock.moment += timedelta(minutes=wait)
        assert "could not be polled: HTTP 503" in (tmp_path / "r.ndjson").read_text()


def test_home_page_sources_follow_the_feeds_it_names(archive_target: str | Path, site: Site, tmp_path: Path) -> None:
    base = site.base_url
    site.put("/rss.xml", rss(base, []), "application/rss+xml")
    site.put("/", f"<html><head><link rel='alternate' type='application/rss+xml' href='{base}/rss.xml'></head></html>")
    site.put("/plain", "just text", "text/plain")
    with Archive.open(archive_target) as archive:
        fetcher = QuickFetcher(lambda url: True)
        added = add_source(archive, fetcher, base + "/", now=Clock(T0))
        assert [(s.kind, s.via) for s in added] == [("homepage", None), ("rss", base + "/")]
        with pytest.raises(ArchiveError, match="cannot be followed"):
            add_source(archive, fetcher, base + "/plain")
        assert allowed_for(archive)(base + "/any") and not allowed_for(archive)("https://other.vn/")
        assert not allowed_for(archive)("http://127.0.0.1:1/any")  # another port is another service
        assert remove_source(archive, base + "/") == 2
        assert list_sources(archive) == []


# -- the command line --------------------------------------------------------------------------


def test_sources_command_lists_and_removes(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = site.base_url
    site.put("/rss.xml", rss(base, [("/gone.html", "Bài đã gỡ", "Tóm tắt.", rfc822(T0))]), "application/rss+xml")
    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/rss.xml", now=Clock(T0))
        allowed = allowed_for(archive)
        poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r.ndjson", now=Clock(T0))
    assert main(["sources", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["URL", "KIND", "LAST", "POLL", "STATUS", "ARTICLES", "ERRORS", "GONE", "NEXT", "DUE"]
    assert out[1].split()[:2] == [base + "/rss.xml", "rss"] and "200 ok" in out[1]
    assert out[1].split()[-3:-2] == ["1"]  # one gone
    assert main(["sources", "--json", "--home", str(tmp_path)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["articles"] == 1 and row["gone"] == 1 and row["next_due"] == (T0 + timedelta(minutes=15)).isoformat()
    assert main(["sources", "--gone", "--home", str(tmp_path)]) == 0
    assert f"{base}/gone.html  gone since" in capsys.readouterr().out
    assert main(["sources", "remove", base + "/nothing.xml", "--home", str(tmp_path)]) == 1
    assert main(["sources", "remove", base + "/rss.xml", "--home", str(tmp_path)]) == 0
    assert main(["sources", "--home", str(tmp_path)]) == 0
    assert "no sources yet" in capsys.readouterr().out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_follow_ends_within_seconds_on_a_signal(tmp_path: Path, signum: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opennews", "follow", "--home", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=default_signals,
    )
    deadline = time.monotonic() + 15
    while not (tmp_path / "opennews.sqlite3").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        code = proc.wait(timeout=5)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 3
    assert code == 0, proc.stderr.read() if proc.stderr else ""


def test_follow_once_without_sources_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["follow", "--once", "--home", str(tmp_path)]) == 1
    assert "no sources to poll" in capsys.readouterr().err


def test_items_over_the_per_poll_cap_wait_for_the_next_poll(
    archive_target: str | Path, site: Site, tmp_path: Path
) -> None:
    base = site.base_url
    items = []
    for n in range(3):
        site.put(f"/{n}.html", og_page(f"Bài số {n}", BODY_2))
        items.append((f"/{n}.html", f"Bài số {n}", "Tóm tắt.", rfc822(T0)))
    site.put("/rss.xml", rss(base, items), "application/rss+xml")
    clock = Clock(T0)
    with Archive.open(archive_target) as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/rss.xml", now=clock)
        allowed = allowed_for(archive)
        options = FollowOptions(max_new=2)
        first = poll_cycle(
            archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock, options=options
        )
        assert first.run is not None and first.run.total("added") == 2 and first.sources[0].deferred == 1
        clock.moment += timedelta(minutes=15)
        site.requests.clear()
        again = poll_cycle(
            archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock, options=options
        )
        assert "If-None-Match" not in site.requests[0][1]  # the whole list again, not a 304
        assert again.run is not None and again.run.total("added") == 1
        assert list_sources(archive)[0].etag is not None  # complete now: the next poll is conditional


def test_sitemap_index_leads_to_its_newest_news_sitemap(archive_target: str | Path, site: Site, tmp_path: Path) -> None:
    base = site.base_url
    site.put("/bai.html", jsonld_page(base + "/bai.html", "Xe buýt điện nối hai bến", BODY_1, T0.isoformat()))
    site.put("/old.html", jsonld_page(base + "/old.html", "Tin cũ", BODY_2, T0.isoformat()))
    news = NEWS_SITEMAP.replace("https://example.vn/moi.html", base + "/bai.html")
    site.put("/news-2.xml", news.replace("https://example.vn/cu.html", base + "/missing.html"), "application/xml")
    site.put("/news-1.xml", news.replace("https://example.vn/moi.html", base + "/old.html"), "application/xml")
    index = (
        "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        + "".join(
            f"<sitemap><loc>{base}/news-{n}.xml</loc><lastmod>2026-03-0{n}</lastmod></sitemap>" for n in (1, 2, 3, 4)
        )
        + "</sitemapindex>"
    )
    site.put("/sitemap.xml", index, "application/xml")
    with Archive.open(archive_target) as archive:
        [source] = add_source(archive, QuickFetcher(lambda url: True), base + "/sitemap.xml", now=Clock(T0))
        assert source.kind == "sitemap-index"
        allowed = allowed_for(archive)
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=Clock(T0))
    assert report.run is not None
    assert report.run.total("added") == 1  # bai.html, read from its page
    assert "/news-1.xml" not in site.paths() and "/old.html" not in site.paths()  # the oldest child is left
    reasons = " | ".join(r.reason for r in report.run.rejects)
    assert "news-4.xml could not be read: HTTP 404" in reasons and "news-3.xml" in reasons  # newest three only
    assert "the page could not be had (HTTP 404) and the source gives no text" in reasons  # missing.html
    # The next poll asks the index and its children conditionally: all 304, nothing fetched again.
    with Archive.open(archive_target) as archive:
        site.requests.clear()
        allowed = allowed_for(archive)
        later = Clock(T0 + timedelta(minutes=20))
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=later)
    assert report.sources[0].status == "304 not modified"
    assert site.paths() == ["/sitemap.xml", "/news-2.xml"]  # the child it found is asked too, and is a 304
    assert site.requests[1][1].get("If-None-Match")
    site.put("/sitemap.xml", index + "\n", "application/xml")  # the index changes, its children do not
    with Archive.open(archive_target) as archive:
        site.requests.clear()
        later = Clock(T0 + timedelta(minutes=40))
        report = poll_cycle(
            archive, QuickFetcher(allowed_for(archive)), lambda u: True, rejects_path=tmp_path / "r", now=later
        )
    assert report.sources[0].status == "200 ok" and "/bai.html" not in site.paths()
    [(_, headers)] = [r for r in site.requests if r[0] == "/news-2.xml"]
    assert headers.get("If-None-Match")


class Refusing:
    """A fetcher whose host asked to be left alone for an hour (429 with Retry-After)."""

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        raise FetchError("HTTP 429", status=429, retry_after=3600, transient=True)


def test_retry_after_pushes_the_next_poll_back(archive_target: str | Path, site: Site, tmp_path: Path) -> None:
    site.put("/rss.xml", rss(site.base_url, []), "application/rss+xml")
    with Archive.open(archive_target) as archive:
        add_source(archive, QuickFetcher(lambda url: True), site.base_url + "/rss.xml", every=5, now=Clock(T0))
        report = poll_cycle(archive, Refusing(), lambda url: True, rejects_path=tmp_path / "r", now=Clock(T0))
        [source] = list_sources(archive)
    assert report.sources[0].status == "HTTP 429" and source.error_streak == 1
    assert source.next_due == (T0 + timedelta(hours=1)).isoformat()


def test_home_follow_once_syncs_the_copies(site: Site, tmp_path: Path) -> None:
    base = site.base_url
    site.put("/a.html", jsonld_page(base + "/a.html", "Xe buýt điện nối hai bến", BODY_1, T0.isoformat()))
    site.put("/rss.xml", rss(base, [("/a.html", "Xe buýt điện", "Tóm tắt.", rfc822(T0))]), "application/rss+xml")
    home = Home.at(tmp_path)
    with home.archive() as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/rss.xml")
    [report] = home.follow(QuickFetcher, stop=threading.Event(), once=True, parts=["index"])
    assert report.run is not None and report.run.total("added") == 1
    positions = home.positions()
    assert positions["index"] == positions["archive"]
    with home.searcher() as searcher:
        assert searcher.search(SearchRequest(q="xe buýt điện")).total == 1


class Wrapped(QuickFetcher):
    """The plain fetcher, but one URL is over the size cap, and the first page fetched sets ``stop``."""

    def __init__(self, allowed: Callable[[str], bool], too_big: str, stop: threading.Event | None = None) -> None:
        super().__init__(allowed)
        self.too_big, self.stop = too_big, stop

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        if url == self.too_big:
            raise FetchError("over the 8 MiB cap")
        got = super().get(url, etag=etag, last_modified=last_modified)
        if self.stop is not None and url.endswith(".html"):
            self.stop.set()
        return got


def test_a_page_that_cannot_be_had_keeps_the_feed_text_and_a_stop_ends_the_cycle(
    archive_target: str | Path, site: Site, tmp_path: Path
) -> None:
    base = site.base_url
    site.put("/big.html", og_page("Trang quá lớn", BODY_2))
    site.put("/a.html", og_page("Mưa lớn gây ngập", BODY_2))
    site.put("/b.html", og_page("Bài thứ hai", BODY_1))
    items = [
        ("/big.html", "Trang quá lớn", "Tóm tắt của trang quá lớn.", rfc822(T0)),
        ("/a.html", "Mưa lớn gây ngập", "Tóm tắt.", rfc822(T0)),
        ("/b.html", "Bài thứ hai", "Tóm tắt hai.", rfc822(T0)),
    ]
    site.put("/rss.xml", rss(base, items), "application/rss+xml")
    stop = threading.Event()
    with Archive.open(archive_target) as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/rss.xml", now=Clock(T0))
        allowed = allowed_for(archive)
        fetcher = Wrapped(allowed, base + "/big.html", stop)
        report = poll_cycle(archive, fetcher, allowed, rejects_path=tmp_path / "r", now=Clock(T0), stop=stop)
        assert report.run is not None and report.run.total("added") == 2  # big.html (feed text) and a.html
        assert "/b.html" not in site.paths()  # stopped after a.html
        assert _record(archive, base + "/big.html")["body"] == "Tóm tắt của trang quá lớn."
        big = seen_item(archive, base + "/big.html")
        assert big is not None and (big.state, big.last_error) == ("failed", "over the 8 MiB cap")
        assert gone_items(archive) == []
        assert archive.runs(limit=1)[0]["status"] == "done"
        assert list_sources(archive)[0].etag is None  # b.html waits: the next poll reads the whole feed
