"""Polite fetching, against the outlet simulator (a real HTTP server on 127.0.0.1).

Every politeness claim is checked in what the server received (its request log): the
delay between two requests, the 304s, that nothing robots.txt disallows or that no
source names was asked for, that nothing is sent during a back-off. Time-outs, delays and
back-offs are small here through the policy, or run on a clock the test moves.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from opennews import __version__
from opennews.follow.fetch import Fetcher, FetchError, FetchPolicy, parse_retry_after, user_agent
from opennews.settings import FetchSettings
from outlet import FIRST, LATER, Outlet

CONTACT = "https://example.vn/lien-he"


class Clock:
    """A clock the test moves; ``sleep`` moves it and remembers how long it was asked to."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, list[float]()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def policy(**given: float) -> FetchPolicy:
    values = {"min_delay": 0.0, "timeout": 5.0, "backoff_base": 10.0, "backoff_cap": 25.0, **given}
    return FetchPolicy(user_agent=user_agent(CONTACT), **values)  # type: ignore[arg-type]


@pytest.fixture
def outlet() -> Iterator[Outlet]:
    with Outlet(slow_seconds=2.0, retry_after=30) as running:
        yield running


def fetcher_for(outlet: Outlet, clock: Clock | None = None, **given: float) -> Fetcher:
    """A fetcher whose sources name only the outlet's 127.0.0.1 address (not ``localhost``)."""
    if clock is None:
        return Fetcher(policy(**given), lambda url: url.startswith(outlet.base_url + "/"))
    return Fetcher(policy(**given), lambda url: url.startswith(outlet.base_url + "/"), clock=clock, sleep=clock.sleep)


def article_path(outlet: Outlet) -> str:
    return outlet.article(FIRST).path


def test_conditional_get_answers_304_and_an_edit_makes_a_new_body(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        feed = fetcher.get(outlet.url("/rss.xml"))
        assert feed.status == 200 and not feed.not_modified and feed.etag and feed.last_modified
        assert "Giá lúa ở Đồng bằng sông Cửu Long" in feed.body.decode()  # gzipped on the wire, decoded here
        assert feed.content_type.startswith("application/rss+xml")

        again = fetcher.get(outlet.url("/rss.xml"), etag=feed.etag, last_modified=feed.last_modified)
        assert again.not_modified and again.status == 304 and again.body == b""
        assert again.etag == feed.etag and again.last_modified == feed.last_modified
        by_date = fetcher.get(outlet.url("/rss.xml"), last_modified=feed.last_modified)
        assert by_date.not_modified

        page = fetcher.get(outlet.url(article_path(outlet)))
        outlet.edit(FIRST, paragraphs=["Giá lúa đã được điều chỉnh lại sau buổi họp chiều nay."])
        edited = fetcher.get(outlet.url(article_path(outlet)), etag=page.etag, last_modified=page.last_modified)
        assert not edited.not_modified and edited.etag != page.etag
        assert "điều chỉnh lại" in edited.body.decode() and "điều chỉnh lại" not in page.body.decode()

    sent = [r for r in outlet.requests if r.path == "/rss.xml"]
    assert [r.headers.get("if-none-match") for r in sent] == [None, feed.etag, None]
    assert sent[2].headers["if-modified-since"] == feed.last_modified
    assert all(r.headers["accept-encoding"] == "gzip" for r in outlet.requests)
    assert len({r.client for r in outlet.requests}) == 1  # one kept-alive connection for all of them


def test_an_article_added_between_polls_changes_the_feed(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        before = fetcher.get(outlet.url("/sitemap-news.xml"))
        assert fetcher.get(outlet.url("/sitemap-news.xml"), etag=before.etag).not_modified
        outlet.add(LATER)
        after = fetcher.get(outlet.url("/sitemap-news.xml"), etag=before.etag)
    assert not after.not_modified and LATER.title in after.body.decode() and LATER.title not in before.body.decode()
    assert "<news:news>" in after.body.decode()


def test_user_agent_names_opennews_and_the_contact(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        fetcher.get(outlet.url("/"))
    agents = {r.headers["user-agent"] for r in outlet.requests}
    assert agents == {f"opennews/{__version__} (+{CONTACT})"}


def test_policy_from_the_environment() -> None:
    chosen = FetchPolicy.from_env({"OPENNEWS_CONTACT": "mailto:tin@example.vn", "OPENNEWS_FETCH_DELAY": "0.5"})
    assert chosen.user_agent == f"opennews/{__version__} (+mailto:tin@example.vn)" and chosen.min_delay == 0.5
    flags = FetchPolicy.from_env({"OPENNEWS_FETCH_DELAY": "0.5"}, contact=CONTACT, min_delay=3, timeout=7)
    assert flags.min_delay == 3 and flags.timeout == 7 and CONTACT in flags.user_agent
    default = FetchPolicy.from_env({})
    assert default.user_agent == f"opennews/{__version__}" and default.min_delay == 2.0
    for bad in ({"OPENNEWS_FETCH_DELAY": "soon"}, {"OPENNEWS_FETCH_DELAY": "-1"}, {"OPENNEWS_CONTACT": "a b"}):
        with pytest.raises(ValueError, match="OPENNEWS_"):
            FetchSettings.from_env(bad)


def test_min_delay_between_requests_to_one_host_on_the_real_clock(outlet: Outlet) -> None:
    with fetcher_for(outlet, min_delay=0.15) as fetcher:
        for path in ("/rss.xml", "/atom.xml", "/feed.json"):
            fetcher.get(outlet.url(path))
    times = [r.time for r in outlet.requests]
    assert [r.path for r in outlet.requests] == ["/robots.txt", "/rss.xml", "/atom.xml", "/feed.json"]
    assert min(b - a for a, b in pairwise(times)) >= 0.15


def test_min_delay_waits_with_the_given_sleep() -> None:
    clock = Clock()
    with Outlet() as outlet, fetcher_for(outlet, clock, min_delay=2.0) as fetcher:
        fetcher.get(outlet.url("/rss.xml"))
        clock.now += 0.5  # half a second passes before the next request
        fetcher.get(outlet.url("/atom.xml"))
    # robots.txt, then the feed 2 s later, then the Atom feed 1.5 s after the 0.5 s that passed
    assert clock.slept == [2.0, 1.5]
    assert [r.path for r in outlet.requests] == ["/robots.txt", "/rss.xml", "/atom.xml"]


def test_one_request_at_a_time_per_host() -> None:
    with Outlet(slow_seconds=0.2) as outlet, fetcher_for(outlet) as fetcher:
        fetcher.get(outlet.url("/robots.txt"))  # rules read before the threads start
        threads = [threading.Thread(target=fetcher.get, args=(outlet.url("/cham"),)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    times = [r.time for r in outlet.requests if r.path == "/cham"]
    assert len(times) == 3
    assert min(b - a for a, b in pairwise(times)) >= 0.19  # each waited for the one before


def test_retry_after_backs_off_and_nothing_is_sent_meanwhile(outlet: Outlet) -> None:
    clock = Clock()
    with fetcher_for(outlet, clock) as fetcher:
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url("/qua-tai"))
        assert caught.value.status == 429 and caught.value.transient and not caught.value.gone
        assert caught.value.retry_after == 30  # longer than our own back-off (5 to 10 s): the server's wins
        assert str(caught.value) == "HTTP 429 (Retry-After 30 s)"

        clock.now += 20
        with pytest.raises(FetchError) as waiting:
            fetcher.get(outlet.url("/rss.xml"))
        assert waiting.value.transient and waiting.value.retry_after == pytest.approx(10)
        assert "backed off for 10 s more" in waiting.value.reason
        assert fetcher.backing_off(outlet.url("/")) == pytest.approx(10)
        assert outlet.paths() == ["/robots.txt", "/qua-tai"]

        clock.now += 10
        assert fetcher.get(outlet.url("/rss.xml")).status == 200
    assert outlet.paths() == ["/robots.txt", "/qua-tai", "/rss.xml"]


def test_retry_after_as_an_http_date() -> None:
    with Outlet(retry_after=40) as outlet, fetcher_for(outlet, Clock()) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(outlet.url("/qua-tai-ngay"))
    assert 38 <= caught.value.retry_after <= 40  # the date has whole seconds


def test_parse_retry_after() -> None:
    now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 02 Dec 2026 07:01:30 GMT", now) == 90
    assert parse_retry_after("Wed, 02 Dec 2026 06:00:00 GMT", now) == 0  # a date past: now
    assert parse_retry_after(None) is None and parse_retry_after("sau nhé") is None
    assert parse_retry_after((now + timedelta(seconds=5)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 5


def test_5xx_is_transient_and_the_back_off_grows_with_jitter_up_to_the_cap(outlet: Outlet) -> None:
    clock = Clock()
    waits = []
    with fetcher_for(outlet, clock) as fetcher:
        for _ in range(4):
            with pytest.raises(FetchError) as caught:
                fetcher.get(outlet.url("/loi"))
            assert caught.value.transient and caught.value.status == 500 and str(caught.value) == "HTTP 500"
            waits.append(caught.value.retry_after)
            clock.now += caught.value.retry_after
        # 10 s, 20 s, then the 25 s cap, each half fixed and half random
        assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 12.5 <= waits[2] <= 25 and 12.5 <= waits[3] <= 25
        fetcher.get(outlet.url("/rss.xml"))  # an answer ends the streak
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url("/loi"))
        assert 5 <= caught.value.retry_after <= 10
    assert outlet.paths().count("/loi") == 5


def test_503_with_a_shorter_retry_after_keeps_our_back_off() -> None:
    with Outlet(retry_after=1) as outlet, fetcher_for(outlet, Clock()) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(outlet.url("/bao-tri"))
    assert caught.value.status == 503 and 5 <= caught.value.retry_after <= 10


def test_404_and_410_are_gone_not_transient(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        for path, status in (("/khong-co.html", 404), ("/da-xoa", 410)):
            with pytest.raises(FetchError) as caught:
                fetcher.get(outlet.url(path))
            assert caught.value.gone and not caught.value.transient and caught.value.status == status
            assert str(caught.value) == f"HTTP {status}" and caught.value.url == outlet.url(path)
        outlet.remove(FIRST, 404)
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url(article_path(outlet)))
        assert caught.value.gone
        assert fetcher.get(outlet.url("/rss.xml")).status == 200  # no back-off after a 404
        assert FIRST not in fetcher.get(outlet.url("/feed.json")).body.decode()


def test_redirects_followed_and_loops_stopped(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        page = fetcher.get(outlet.url("/chuyen-huong-2"))
        assert page.url == outlet.url(article_path(outlet)) and "Vĩnh Hòa" in page.body.decode()
        with pytest.raises(FetchError, match=r"redirect loop \(302 back to .*/vong-lap-a\)"):
            fetcher.get(outlet.url("/vong-lap-a"))
    assert outlet.paths() == [
        "/robots.txt",
        "/chuyen-huong-2",
        "/chuyen-huong",
        article_path(outlet),
        "/vong-lap-a",
        "/vong-lap-b",
    ]
    with fetcher_for(outlet, max_redirects=1) as fetcher, pytest.raises(FetchError, match="too many redirects"):
        fetcher.get(outlet.url("/chuyen-huong-2"))


def test_a_host_no_source_names_is_never_asked(outlet: Outlet) -> None:
    with fetcher_for(outlet) as fetcher:
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url("/ra-ngoai"))  # to localhost: the same server under a name no source gives
        assert str(caught.value) == "redirect to a host no source names" and not caught.value.transient
        with pytest.raises(FetchError, match=r"^a host no source names$"):
            fetcher.get(f"http://localhost:{outlet.port}/rss.xml")
        with pytest.raises(FetchError, match="not an http"):
            fetcher.get("file:///etc/passwd")
    assert outlet.paths() == ["/robots.txt", "/ra-ngoai"]
    assert {r.headers["host"] for r in outlet.requests} == {f"127.0.0.1:{outlet.port}"}


def test_robots_disallowed_pages_are_never_requested(outlet: Outlet) -> None:
    clock = Clock()
    with fetcher_for(outlet, clock, robots_ttl=600) as fetcher:
        for path in ("/rieng/ban-tin-noi-bo-toa-soan.html", "/vao-rieng"):
            with pytest.raises(FetchError, match=r"^disallowed by robots\.txt$"):
                fetcher.get(outlet.url(path))
        fetcher.get(outlet.url("/rss.xml"))
        clock.now += 601  # the rules expire: read again before the next page
        fetcher.get(outlet.url("/atom.xml"))
    assert outlet.paths() == ["/robots.txt", "/vao-rieng", "/rss.xml", "/robots.txt", "/atom.xml"]
    assert not any(p.startswith("/rieng/") for p in outlet.paths())


def test_robots_rules_for_opennews_by_name() -> None:
    rules = "User-agent: *\nDisallow: /\n\nUser-agent: opennews\nDisallow: /bai/\nCrawl-delay: 3\n"
    clock = Clock()
    with Outlet(robots=rules) as outlet, fetcher_for(outlet, clock, min_delay=1) as fetcher:
        assert fetcher.get(outlet.url("/rss.xml")).status == 200  # "*" disallows all, but we have our group
        with pytest.raises(FetchError, match=r"^disallowed by robots\.txt$"):
            fetcher.get(outlet.url(article_path(outlet)))
        fetcher.get(outlet.url("/atom.xml"))
    assert clock.slept == [3.0, 3.0]  # its Crawl-delay, longer than ours


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, True), (500, False), (503, False)])
def test_robots_txt_4xx_allows_all_and_5xx_leaves_the_host_alone(status: int, allowed: bool) -> None:
    with Outlet(robots="User-agent: *\nDisallow: /\n", robots_status=status) as outlet:
        with fetcher_for(outlet) as fetcher:
            if allowed:
                assert fetcher.get(outlet.url("/rss.xml")).status == 200
            else:
                with pytest.raises(FetchError, match=rf"robots.txt not readable \(HTTP {status}\)") as caught:
                    fetcher.get(outlet.url("/rss.xml"))
                assert caught.value.transient and caught.value.retry_after
                with pytest.raises(FetchError, match="backed off for"):  # not asked again meanwhile
                    fetcher.get(outlet.url("/atom.xml"))
        assert outlet.paths() == ["/robots.txt", "/rss.xml"] if allowed else ["/robots.txt"]


def test_oversized_pages_are_refused_with_the_cap_named(outlet: Outlet) -> None:
    with Fetcher(FetchPolicy(user_agent(CONTACT), min_delay=0), lambda url: True) as fetcher:  # the 8 MiB default
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url("/qua-lon.html"))
        assert str(caught.value) == "over the 8 MiB cap (Content-Length 9.0 MiB)" and not caught.value.transient
    with fetcher_for(outlet, max_bytes=1 << 20) as fetcher:
        with pytest.raises(FetchError, match=r"^over the 1 MiB cap$"):
            fetcher.get(outlet.url("/qua-lon-khong-do-dai.html"))  # chunked: counted as it streams
        assert fetcher.get(outlet.url("/rss.xml")).status == 200  # the host is fine afterwards


def test_a_gzip_bomb_is_refused_in_bounded_memory(outlet: Outlet) -> None:
    with Fetcher(FetchPolicy(user_agent(CONTACT), min_delay=0), lambda url: True) as fetcher:
        fetcher.get(outlet.url("/robots.txt"))
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as caught:
                fetcher.get(outlet.url("/bom.html"))  # 32 KiB on the wire, 32 MiB of zeros decoded
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert str(caught.value) == "over the 8 MiB cap once decoded" and not caught.value.transient
    assert peak < 20 << 20  # the cap and a copy of it, not the 32 MiB


def test_a_slow_response_times_out(outlet: Outlet) -> None:
    with fetcher_for(outlet, timeout=0.3) as fetcher:
        with pytest.raises(FetchError) as caught:
            fetcher.get(outlet.url("/cham"))
        assert str(caught.value) == "timed out after 0.3 s" and caught.value.transient
        assert caught.value.retry_after and caught.value.retry_after >= 5  # the host is given a rest
    assert outlet.paths() == ["/robots.txt", "/cham"]


def test_an_unreachable_host_is_transient() -> None:
    with Outlet() as outlet:
        base = outlet.base_url
    with Fetcher(policy(), lambda url: True) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(base + "/rss.xml")
    assert caught.value.transient and "robots.txt not readable (no answer" in str(caught.value)


def test_malformed_xml_is_fetched_as_it_is(outlet: Outlet) -> None:
    """Reading it is the follower's business: the fetcher hands over the bytes."""
    with fetcher_for(outlet) as fetcher:
        assert fetcher.get(outlet.url("/hong.xml")).body.startswith(b"<?xml")
