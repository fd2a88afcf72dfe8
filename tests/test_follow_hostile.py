"""Following against hostile or careless outlets: bad JSON Feeds, home pages naming hundreds
of feeds, URLs that would slip past the per-host politeness, ports no source names.

Each case ends as a reject or a source's error, never as a crash of the poll cycle, and the
good items beside a bad one are kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from follow_helpers import QuickFetcher, Site
from opennews.archive import Archive, ArchiveError
from opennews.follow.discover import MAX_FEEDS, decode, parse
from opennews.follow.fetch import Fetcher, FetchError, FetchPolicy, user_agent
from opennews.follow.follow import poll_cycle
from opennews.follow.items import seen_item
from opennews.follow.robots import origin_of
from opennews.follow.sources import add_source, allowed_for, list_sources
from opennews.ingest.readers.webpage import read_webpage
from opennews.ingest.records import Document, Found
from outlet import Outlet
from test_follow import Clock

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
VERSION = "https://jsonfeed.org/version/1.1"
TEXT = (
    "Sáng nay, Sở Giao thông vận tải thành phố cho biết tuyến xe buýt điện mới sẽ nối bến xe Miền Đông với khu "
    "công nghệ cao, chạy mỗi mười lăm phút một chuyến từ năm giờ sáng."
)


def jsonfeed(**given: object) -> bytes:
    return json.dumps({"version": VERSION, "title": "Báo Thử", **given}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "entry",
    [
        {"tags": 5},
        {"tags": "giao thông"},
        {"authors": 5},
        {"author": "Minh Anh"},
        {"content_html": 5},
        {"image": ["a.jpg"]},
    ],
)
def test_a_json_feed_item_with_fields_of_the_wrong_type_keeps_its_link(entry: dict[str, object]) -> None:
    body = jsonfeed(items=[{"url": "https://example.vn/a.html", "content_text": TEXT, **entry}])
    [item] = parse(body, "application/feed+json", "https://example.vn/feed.json").items
    assert item.url == "https://example.vn/a.html"
    assert all(isinstance(t, str) for t in item.fields["tags"]) and item.fields["tags"] != list("giao thông")


@pytest.mark.parametrize("items", [5, "abc", {"url": "https://example.vn/a.html"}])
def test_a_json_feed_whose_items_are_not_a_list_is_a_feed_with_nothing_in_it(items: object) -> None:
    assert parse(jsonfeed(items=items), "application/feed+json", "https://example.vn/feed.json").items == []


def test_a_bad_source_does_not_stop_the_cycle_nor_lose_the_good_items_beside_a_bad_one(
    site: Site, tmp_path: Path
) -> None:
    base = site.base_url
    page = (
        "<html lang='vi'><head><meta property='og:title' content='Xe buýt điện'></head>"
        f"<body><article><h1>Xe buýt điện</h1><p>{TEXT}</p><p>{TEXT}</p></article></body></html>"
    )
    site.put("/a.html", page)
    site.put("/b.html", page.replace("Xe buýt điện", "Mưa lớn"))
    good = [{"url": f"{base}/a.html", "title": "Xe buýt điện", "content_text": TEXT, "date_published": T0.isoformat()}]
    bad_item = {"url": f"{base}/b.html", "title": "Mưa lớn", "content_text": TEXT, "tags": 5, "authors": 7}
    site.put("/mixed.json", jsonfeed(items=[*good, bad_item]), "application/feed+json")
    site.put("/broken.json", jsonfeed(items=[]), "application/feed+json")
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        for path in ("/broken.json", "/mixed.json"):
            add_source(archive, QuickFetcher(lambda url: True), base + path, now=lambda: T0)
        site.put("/broken.json", jsonfeed(items=5), "application/feed+json")  # turns bad after it was added
        allowed = allowed_for(archive)
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=lambda: T0)
        assert report.run is not None and report.run.total("added") == 2  # both items of the mixed feed
        assert [s.error for s in report.sources] == [None, None]  # items: 5 is an empty feed, not a crash
        assert archive.runs(limit=1)[0]["status"] == "done"


def test_a_home_page_naming_hundreds_of_feeds_costs_a_bounded_number_of_requests(site: Site, tmp_path: Path) -> None:
    base = site.base_url
    links = "".join(f"<link rel='alternate' type='application/rss+xml' href='/f{n}.rss'>" for n in range(300))
    site.put("/", f"<html><head>{links}</head><body></body></html>")
    assert len(parse(site.pages["/"].body, "text/html", base + "/").links) == MAX_FEEDS
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        with pytest.raises(ArchiveError, match="none of the feeds"):
            add_source(archive, QuickFetcher(lambda url: True), base + "/", now=lambda: T0)
        assert list_sources(archive) == []
    assert len(site.paths()) == 1 + MAX_FEEDS


def test_an_unforeseen_error_on_one_source_is_that_source_s_error_not_the_cycle_s(site: Site, tmp_path: Path) -> None:
    """A parser bug met on one outlet's bytes (here a fetcher that raises what no one expected)
    fails that source's poll, with the reason in the run log and the sources table; the next
    source is still polled and the run is closed."""
    base = site.base_url
    site.put("/a.json", jsonfeed(items=[]), "application/feed+json")
    site.put("/b.json", jsonfeed(items=[]), "application/feed+json")

    class Breaks(QuickFetcher):
        def get(self, url: str, **given: str | None):  # type: ignore[no-untyped-def, override]
            if url.endswith("/a.json"):
                raise RecursionError("maximum recursion depth exceeded")
            return super().get(url, **given)

    with Archive.open(tmp_path / "a.sqlite3") as archive:
        for path in ("/a.json", "/b.json"):
            add_source(archive, QuickFetcher(lambda url: True), base + path, now=lambda: T0)
        allowed = allowed_for(archive)
        report = poll_cycle(archive, Breaks(allowed), allowed, rejects_path=tmp_path / "r", now=lambda: T0)
        assert [s.error is None for s in report.sources] == [False, True]
        assert "RecursionError" in (report.sources[0].error or "")
        a, b = list_sources(archive)
        assert a.error_streak == 1 and "RecursionError" in (a.last_error or "") and b.error_streak == 0
        assert report.run is not None and any("RecursionError" in r.reason for r in report.run.rejects)
        assert archive.runs(limit=1)[0]["status"] not in ("failed", "running")  # closed, not aborted


# -- one host, however its URLs are spelt ---------------------------------------------------------


def test_the_politeness_key_is_the_host_however_spelt() -> None:
    one = origin_of("https://example.vn/a")
    for spelt in ("https://EXAMPLE.vn:443/b", "https://example.vn./c", "https://user:pw@example.vn/d"):
        assert origin_of(spelt) == one, spelt
    assert origin_of("http://example.vn/") == origin_of("http://example.vn:80/") != origin_of("http://example.vn:81/")


def test_a_url_with_a_user_name_is_never_requested() -> None:
    policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0, timeout=5.0)
    with Outlet() as outlet, Fetcher(policy, lambda url: True) as fetcher:
        with pytest.raises(FetchError, match="user name or password"):
            fetcher.get(f"http://admin:secret@127.0.0.1:{outlet.port}/rss.xml")
        assert outlet.requests == []


def test_ports_no_source_names_are_not_allowed(site: Site, tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.execute(
            "INSERT INTO follow_sources (url, kind, every_minutes, added_at, next_due) VALUES "
            "('https://rss.example.vn/tin.rss', 'rss', 15, ?, ?), ('http://127.0.0.1:8080/feed', 'rss', 15, ?, ?)",
            (T0.isoformat(),) * 4,
        )
        allowed = allowed_for(archive)
        assert allowed("https://www.example.vn/a.html") and allowed("http://example.vn/a.html")
        assert allowed("https://example.vn:443/a.html")
        assert not allowed("https://example.vn:6379/") and not allowed("http://example.vn:22/")
        assert allowed("http://127.0.0.1:8080/a.html")
        assert not allowed("http://127.0.0.1:6379/") and not allowed("http://127.0.0.1/")
        assert not allowed("http://localhost:8080/a.html")
        assert not allowed("file:///etc/passwd") and not allowed("ftp://example.vn/a")


@pytest.mark.parametrize("port", ["99999", "abc", "-1"])
def test_a_url_with_a_bad_port_is_a_fetch_error_not_a_crash(port: str) -> None:
    policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0)
    with Fetcher(policy, lambda url: True) as fetcher, pytest.raises(FetchError, match="not a valid URL"):
        fetcher.get(f"http://127.0.0.1:{port}/rss.xml")


# -- a page that cannot be had for now ---------------------------------------------------------------


def test_a_page_that_fails_for_now_is_tried_again_even_past_the_48_hours(site: Site, tmp_path: Path) -> None:
    """A 503 (or a host in back-off) says "later", not "never": an item published days ago whose
    page failed so is fetched again at a later poll, and its page's text then replaces the feed's."""
    from test_follow import og_page, rfc822, rss

    base = site.base_url
    old = T0 - timedelta(days=5)
    site.put("/a.html", "<p>Bảo trì</p>", status=503)
    site.put("/rss.xml", rss(base, [("/a.html", "Xe buýt điện", "Tóm tắt ngắn.", rfc822(old))]), "application/rss+xml")
    clock = Clock(T0)
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/rss.xml", now=clock)
        allowed = allowed_for(archive)
        poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
        seen = seen_item(archive, base + "/a.html")
        assert seen is not None and seen.state == "failed" and seen.next_check is not None
        site.put("/a.html", og_page("Xe buýt điện", [TEXT, TEXT + " Thêm."]))
        clock.moment = T0 + timedelta(hours=2)
        site.requests.clear()
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
        assert "/a.html" in site.paths()
        assert report.run is not None and report.run.total("updated") == 1
        seen = seen_item(archive, base + "/a.html")
        assert seen is not None and seen.state == "ok" and seen.next_check is None  # old: no more re-checks


# -- a body sent a byte at a time ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """A one-case server's handler: quiet, keep-alive, no robots.txt (404: everything allowed)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.answer()

    def answer(self) -> None:
        raise NotImplementedError


@contextmanager
def serving(handler: type[_Handler]) -> Iterator[str]:
    """A real server on 127.0.0.1 answering with ``handler``, for the ``with`` block; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Trickle(_Handler):
    """A byte every 0.1 s for 6 s, each byte well within the read time-out."""

    def answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "60")
        self.end_headers()
        try:
            for _ in range(60):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_a_body_sent_a_byte_at_a_time_is_cut_at_three_times_the_time_out() -> None:
    policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0, timeout=0.5)
    with serving(_Trickle) as base, Fetcher(policy, lambda url: True) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"took over 1\.5 s") as caught:
            fetcher.get(f"{base}/trang.html")
        assert time.monotonic() - started < 3.0 and caught.value.transient


def test_an_idn_host_is_one_host_in_unicode_or_punycode(tmp_path: Path) -> None:
    """httpx sends ``báo.vn`` as ``xn--bo-mia.vn``: both spellings (and a full-width dot, which
    IDNA maps to a dot) are one site for the sources and one host for politeness and robots.txt."""
    assert origin_of("https://báo.vn/a") == origin_of("https://xn--bo-mia.vn/b") == origin_of("https://BÁO。vn/c")
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.execute(
            "INSERT INTO follow_sources (url, kind, every_minutes, added_at, next_due) "
            "VALUES ('https://báo.vn/rss', 'rss', 15, ?, ?)",
            (T0.isoformat(),) * 2,
        )
        allowed = allowed_for(archive)
        assert allowed("https://xn--bo-mia.vn/a.html") and allowed("https://tin.báo.vn/a.html")
        assert allowed("https://báo。vn/a.html") and not allowed("https://bao.vn/a.html")
        assert allowed("https://a_b.báo.vn/x")  # an underscore (no IDNA) is still a host of the site


@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1258", "windows-1252", "bogus"])
def test_utf_8_text_under_a_wrong_charset_header_is_read_as_utf_8(declared: str) -> None:
    """Servers often send a default ``charset=ISO-8859-1`` (or the old Vietnamese code page)
    over UTF-8 pages and feeds; bytes that are valid UTF-8 with letters beyond ASCII are UTF-8
    (text in a one-byte code page is next to never valid UTF-8), so they are not made mojibake."""
    page = f"<html><head><title>Xe buýt điện</title></head><body><article><p>{TEXT}</p></article></body></html>"
    assert "Xe buýt điện" in decode(page.encode(), f"text/html; charset={declared}")
    feed = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Báo</title><item>"
        "<title>Xe buýt điện</title><link>https://a.vn/x</link><description>Mưa lớn</description>"
        "</item></channel></rss>"
    )
    [item] = parse(feed.encode(), f"application/rss+xml; charset={declared}", "https://a.vn/rss").items
    assert item.fields["title"] == "Xe buýt điện"


def test_a_real_one_byte_code_page_is_still_read_as_declared() -> None:
    page = "<html><head><title>Café crème</title></head><body><p>Déjà vu</p></body></html>"
    assert "Café crème" in decode(page.encode("iso-8859-1"), "text/html; charset=iso-8859-1")
    assert "Caf\ufffd cr\ufffdme" in decode(page.encode("windows-1252"), "text/html")  # said nothing: replaced


# -- article pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "depth"), [("x", 100_000), ("x", 1000), ("author", 900)])
def test_deeply_nested_json_ld_on_a_page_is_passed_over(key: str, depth: int) -> None:
    """The page reader (shared with ``opennews ingest``) reads such a block as no JSON-LD and
    the page by its HTML; a RecursionError there ended the whole source's poll, every poll."""
    head = json.dumps({"@type": "NewsArticle", "headline": "Xe buýt điện"}, ensure_ascii=False)[:-1]
    nested = f'{head}, "{key}": ' + "[" * depth + "]" * depth + "}"
    html = (
        f"<html lang='vi'><head><title>Xe buýt điện</title><script type='application/ld+json'>{nested}</script>"
        f"</head><body><article><h1>Xe buýt điện</h1><p>{TEXT}</p><p>{TEXT}</p></article></body></html>"
    )
    [found] = read_webpage(Document("https://example.vn/a.html", html))
    assert isinstance(found, Found) and found.fields and TEXT in found.fields["body"]


def test_a_contact_in_vietnamese_goes_in_the_user_agent_percent_encoded() -> None:
    """Header values are ASCII on the wire; httpx refused every request (UnicodeEncodeError) when
    the operator's OPENNEWS_CONTACT was written with its accents."""
    agent = user_agent("https://báo.vn/liên-hệ")
    assert agent.isascii() and agent.endswith("(+https://b%C3%A1o.vn/li%C3%AAn-h%E1%BB%87)")
    policy = FetchPolicy(user_agent=agent, min_delay=0.0, timeout=5.0)
    with Outlet() as outlet, Fetcher(policy, lambda url: True) as fetcher:
        assert fetcher.get(outlet.url("/rss.xml")).status == 200
        assert {r.headers["user-agent"] for r in outlet.requests} == {agent}


class _Validators(_Handler):
    """An ETag and a Last-Modified with bytes beyond ASCII (UTF-8), answering 304 when both come back."""

    etag = 'W/"bài-1"'.encode()
    modified = "Thứ hai".encode()
    seen: ClassVar[list[tuple[bytes | None, bytes | None]]] = []

    def answer(self) -> None:
        tag, since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        got = tuple(v.encode("latin-1") if v is not None else None for v in (tag, since))
        self.seen.append(got)  # type: ignore[arg-type]
        body = b"<rss version='2.0'><channel><title>x</title></channel></rss>"
        self.send_response(304 if got == (self.etag, self.modified) else 200)
        self.send_header("ETag", self.etag.decode("latin-1"))  # the UTF-8 bytes as they are
        self.send_header("Last-Modified", self.modified.decode("latin-1"))
        self.send_header("Content-Length", "0" if got == (self.etag, self.modified) else str(len(body)))
        self.end_headers()
        if got != (self.etag, self.modified):
            self.wfile.write(body)


def test_validators_beyond_ascii_are_sent_back_as_they_came() -> None:
    policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0, timeout=5.0)
    with serving(_Validators) as base, Fetcher(policy, lambda u: True) as fetcher:
        first = fetcher.get(f"{base}/rss.xml")
        again = fetcher.get(f"{base}/rss.xml", etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and _Validators.seen[-1] == (_Validators.etag, _Validators.modified)


# -- URLs that do not parse ---------------------------------------------------------------------------

BAD_URLS = ["http://[::1", "http://[zz]/a.xml", "//["]


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_url_that_does_not_parse_is_refused_everywhere_without_a_crash(bad: str, tmp_path: Path) -> None:
    policy = FetchPolicy(user_agent=user_agent(None), min_delay=0.0)
    with Fetcher(policy, lambda url: True) as fetcher, pytest.raises(FetchError, match="not a valid URL"):
        fetcher.get(bad)
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        assert not allowed_for(archive)(bad)
    home = (
        f"<html><head><link rel='alternate' type='application/rss+xml' href='{bad}'>"
        "<link rel='alternate' type='application/rss+xml' href='/tin.rss'></head></html>"
    )
    assert parse(home.encode(), "text/html", "https://example.vn/").links == ["https://example.vn/tin.rss"]


def test_a_sitemap_index_child_that_does_not_parse_is_a_reject_beside_the_good_child(
    site: Site, tmp_path: Path
) -> None:
    base = site.base_url
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"
    children = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in ("http://[::1", f"{base}/tin.xml"))
    site.put("/index.xml", f"<sitemapindex {ns}>{children}</sitemapindex>", "application/xml")
    site.put("/tin.xml", f"<urlset {ns}><url><loc>{base}/a.html</loc></url></urlset>", "application/xml")
    site.put(
        "/a.html", f"<html><head><title>Xe buýt điện</title></head><body><article><p>{TEXT}</p></article></body></html>"
    )
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/index.xml", now=lambda: T0)
        allowed = allowed_for(archive)
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=lambda: T0)
        assert report.sources[0].error is None and report.sources[0].new == 1
        assert report.run is not None and any("http://[::1" in r.reason for r in report.run.rejects)


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_feed_item_whose_link_does_not_parse_leaves_the_others(bad: str) -> None:
    items = "".join(
        f"<item><title>Bài {n}</title><link>{link}</link><description>{TEXT}</description></item>"
        for n, link in enumerate((bad, "https://example.vn/a.html"))
    )
    rss = f"<rss version='2.0'><channel><title>Báo</title>{items}</channel></rss>"
    parsed = parse(rss.encode(), "application/rss+xml", "https://example.vn/rss")
    assert [i.url for i in parsed.items] == ["https://example.vn/a.html"]
    assert parsed.problems == [f"item link does not parse: {bad!r}"]  # a reject of the poll's run
    feed = jsonfeed(items=[{"url": bad, "content_text": TEXT}, {"url": "/b.html", "content_text": TEXT}])
    parsed = parse(feed, "application/feed+json", "https://example.vn/feed.json")
    assert [i.url for i in parsed.items] == ["https://example.vn/b.html"]
    assert parsed.problems == [f"item link does not parse: {bad!r}"]


@pytest.mark.parametrize(
    "ns",
    [
        "",
        " xmlns='http://www.google.com/schemas/sitemap/0.84'",
        " xmlns='https://www.sitemaps.org/schemas/sitemap/0.9'",
        " xmlns='urn:sitemap'",  # a namespace with 'n:' in it
    ],
)
def test_a_sitemap_without_the_usual_namespace_still_gives_its_urls(ns: str) -> None:
    """Outlets' sitemaps without a namespace, with Google's old 0.84 one or with https in it are
    read by their elements' names; they gave no item at all, and no reject to say why."""
    sitemap = (
        f"<urlset{ns}><url><loc>https://example.vn/a.html</loc><lastmod>2026-03-01</lastmod></url></urlset>"
    ).encode()
    assert [i.url for i in parse(sitemap, "application/xml", "https://example.vn/s.xml").items] == [
        "https://example.vn/a.html"
    ]
    index = f"<sitemapindex{ns}><sitemap><loc>https://example.vn/s1.xml</loc></sitemap></sitemapindex>".encode()
    assert parse(index, "application/xml", "https://example.vn/i.xml").links == ["https://example.vn/s1.xml"]


def test_an_unchanged_sitemap_index_still_has_its_children_asked(site: Site, tmp_path: Path) -> None:
    """A sitemap index is often a fixed list of child sitemaps whose own content rolls (a news
    sitemap of the last two days): its 304 says nothing of theirs, so each known child is asked
    again, conditionally (a 304 when it has not changed either)."""
    base = site.base_url
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"
    page = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{p}</p></article></body></html>"
    site.put("/a.html", page.format(t="Xe buýt điện", p=TEXT))
    site.put("/b.html", page.format(t="Mưa lớn", p=TEXT + " Mưa."))
    site.put("/index.xml", f"<sitemapindex {ns}><sitemap><loc>{base}/tin.xml</loc></sitemap></sitemapindex>")
    urls = lambda *paths: "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)  # noqa: E731
    site.put("/tin.xml", f"<urlset {ns}>{urls('/a.html')}</urlset>", "application/xml")
    clock = Clock(T0)
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/index.xml", now=clock)
        allowed = allowed_for(archive)
        poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
        site.put("/tin.xml", f"<urlset {ns}>{urls('/b.html', '/a.html')}</urlset>", "application/xml")
        clock.moment = T0 + timedelta(minutes=20)
        site.requests.clear()
        report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
        assert report.sources[0].status == "304 not modified"
        assert report.run is not None and report.run.total("added") == 1 and "/b.html" in site.paths()
        clock.moment = T0 + timedelta(minutes=40)
        site.requests.clear()
        poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
        assert site.paths() == ["/index.xml", "/tin.xml"]  # both 304: nothing else asked
        assert all(h.get("If-None-Match") for p, h in site.requests if p != "/robots.txt")


def test_a_sitemap_index_listing_itself_costs_one_request_and_no_loop(site: Site, tmp_path: Path) -> None:
    base = site.base_url
    ns = "xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'"
    site.put("/index.xml", f"<sitemapindex {ns}><sitemap><loc>{base}/index.xml</loc></sitemap></sitemapindex>")
    clock = Clock(T0)
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        add_source(archive, QuickFetcher(lambda url: True), base + "/index.xml", now=clock)
        allowed = allowed_for(archive)
        for minutes in (0, 20):
            clock.moment = T0 + timedelta(minutes=minutes)
            site.requests.clear()
            report = poll_cycle(archive, QuickFetcher(allowed), allowed, rejects_path=tmp_path / "r", now=clock)
            assert report.sources[0].error is None and site.paths() == ["/index.xml", "/index.xml"]
