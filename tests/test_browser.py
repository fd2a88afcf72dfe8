"""A real browser against a real server: headless Chromium drives ``opennews serve`` on 127.0.0.1.

The pages need no JavaScript, so a reader's path is followed by URLs taken from the
rendered DOM (``--dump-dom``) and photographed at phone and desktop widths
(``--screenshot``). One browser profile is kept across steps, so the language
cookie must survive from one page to the next as it would for a person. Where a test
must know how the browser laid text out (bidi), it asks the page over the DevTools
protocol (:class:`DevTools`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import socket
import struct
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from opennews.vietnamese import fold, has_marks
from tools import required
from webhome import COMPANION_TITLE, SPOOF_TITLES, NamesHome, WebHome, build_web_home, serving

CHROMIUM = Path("/usr/bin/chromium")
_chromium = required(CHROMIUM, "Debian chromium is not installed (/usr/bin/chromium)")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> WebHome:
    return build_web_home(tmp_path_factory)


@pytest.fixture(scope="session")
def server(web_home: WebHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(web_home.path, workers=2, access_log=True, log=log) as base:
        yield base


class Browser:
    """Headless Chromium with one profile (cookies persist between steps)."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)

    def dom(self, url: str) -> str:
        return self._run("--dump-dom", url).stdout

    def screenshot(self, url: str, path: Path, width: int, height: int) -> tuple[int, int]:
        self._run(f"--screenshot={path}", f"--window-size={width},{height}", url)
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    return Browser(tmp_path_factory.mktemp("chromium-profile"))


def _first_hit(dom: str) -> tuple[str, str]:
    m = re.search(r'<li class="hit">\s*<article>\s*<h3><a href="([^"]+)">(.*?)</a></h3>', dom, re.S)
    assert m, "no result in the page"
    return unescape(m.group(1)), m.group(2)


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_reader_journey(server: str, browser: Browser, tmp_path: Path) -> None:
    # A headline with marks, typed without them.
    latest = httpx.get(server + "/api/search", params={"limit": 50}).json()["results"]
    wanted = next(r for r in latest if has_marks(r["title"]) and len(r["title"].split()) >= 5)
    dom = browser.dom(server + "/?q=" + fold(wanted["title"]).replace(" ", "+"))
    assert '<html lang="vi">' in dom
    href, title_html = _first_hit(dom)
    assert _text(title_html) == wanted["title"] and "<mark>" in title_html

    # Apply a filter from the facet list: every result is then from that source.
    facet = re.search(r'<section class="facet">\s*<h2>Nguồn tin</h2>\s*<ul>\s*<li><a href="([^"]+)">([^<]+)</a>', dom)
    assert facet
    filtered = browser.dom(server + unescape(facet.group(1)))
    sources = re.findall(r'<span class="source">([^<]+)</span>', filtered)
    assert sources and set(sources) == {facet.group(2)}
    assert 'aria-current="true"' in filtered

    # Open the article.
    article = browser.dom(server + href)
    assert f"<h1>{wanted['title']}</h1>" in unescape(article)
    assert re.search(r"(Thứ (hai|ba|tư|năm|sáu|bảy)|Chủ nhật), \d\d/\d\d/\d{4}", article)
    assert "Tin liên quan" in article

    # Switch to English; the choice sticks for the next page opened without ?lang.
    switch = re.search(r'<a class="lang-switch" href="([^"]+)" hreflang="en"', article)
    assert switch
    english = browser.dom(server + unescape(switch.group(1)))
    assert '<html lang="en">' in english and "Related articles" in english
    later = browser.dom(server + "/about")
    assert '<html lang="en">' in later and "About the archive" in later


@pytest.mark.parametrize(("name", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 900)])
def test_screenshots(
    server: str, browser: Browser, tmp_path_factory: pytest.TempPathFactory, name: str, width: int, height: int
) -> None:
    shots = tmp_path_factory.mktemp("screenshots")
    for page, url in (("search", "/?q=thuy+dien&lang=vi"), ("about", "/about?lang=vi")):
        path = shots / f"{page}-{name}.png"
        assert browser.screenshot(server + url, path, width, height) == (width, height)
        assert path.stat().st_size > 20_000, "a page with text, not a blank screen"


def test_concurrent_requests_on_two_workers(server: str) -> None:
    """The shared Searcher and archive connection under concurrent load: same answers, no errors."""
    queries = ["thuy dien", "ha noi", "bão", "giao thông", "kinh te", "thể thao", "tai nan", "gia vang"]
    expected = {q: httpx.get(server + "/api/search", params={"q": q}).json()["total"] for q in queries}

    def ask(i: int) -> tuple[str, int, int]:
        q = queries[i % len(queries)]
        r = httpx.get(server + ("/api/search" if i % 2 else "/"), params={"q": q}, timeout=30)
        total = r.json()["total"] if i % 2 else -1
        return q, r.status_code, total

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(64)))
    assert all(status == 200 for _, status, _ in answers)
    assert all(total == expected[q] for q, _, total in answers if total >= 0)


def test_a_burst_of_connections_is_split_evenly_between_the_workers(web_home: WebHome) -> None:
    """Connections opened together (a proxy's or an aggregator's pool) must not all land on
    the worker that wakes first, nor split 5:3 by a hash: while they stay open, each of the
    two workers holds half of them. A server of its own, so that no other test's connections
    are held while it counts."""
    with serving(web_home.path, workers=2) as server:
        host, port = urlsplit(server).hostname, urlsplit(server).port
        # Both workers serving first: while one still starts up, the other rightly takes everything.
        deadline, seen = time.monotonic() + 30, set()
        while len(seen) < 2 and time.monotonic() < deadline:
            seen.add(httpx.get(server + "/healthz", headers={"Connection": "close"}).json()["worker"])
        assert len(seen) == 2, "the second worker never answered"
        time.sleep(0.5)  # the server has seen those connections close
        conns = [socket.create_connection((host, port), timeout=30) for _ in range(8)]  # all queued at once
        held: Counter[int] = Counter()
        try:
            for conn in conns:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")  # kept alive
            for conn in conns:
                reply = b""
                while b"\r\n\r\n" not in reply:
                    reply += conn.recv(65536)
                head, _, body = reply.partition(b"\r\n\r\n")
                length = next(int(h[15:]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))
                while len(body) < length:
                    body += conn.recv(65536)
                held[orjson.loads(body)["worker"]] += 1
        finally:
            for conn in conns:
                conn.close()
    assert sorted(held.values()) == [4, 4]


def test_keep_alive_responses_are_not_held_back(server: str) -> None:
    """With several workers, each response must leave at once (TCP_NODELAY), not after the
    client's delayed ACK, which would add ~40 ms to every request on a kept-alive connection."""
    with httpx.Client() as client:
        client.get(server + "/healthz")
        times = []
        for _ in range(9):
            t0 = time.perf_counter()
            assert client.get(server + "/healthz").status_code == 200
            times.append(time.perf_counter() - t0)
    assert sorted(times)[4] < 0.025, f"median {sorted(times)[4] * 1000:.1f} ms"


# -- bidi: what the browser lays out -------------------------------------------------------------


class DevTools:
    """Headless Chromium driven over its DevTools pipe (``--remote-debugging-pipe``: JSON
    messages ending in NUL, read from file descriptor 3 and written to 4), to ask a loaded
    page where it put its characters. No WebSocket client needed."""

    def __init__(self, profile: Path) -> None:
        theirs_read, self._out = os.pipe()
        self._in, theirs_write = os.pipe()
        # above 9, so that moving them to 3 and 4 in the child never closes one of them
        child_read, child_write = (
            fcntl.fcntl(theirs_read, fcntl.F_DUPFD, 10),
            fcntl.fcntl(theirs_write, fcntl.F_DUPFD, 10),
        )
        os.close(theirs_read)
        os.close(theirs_write)
        script = f'exec "$0" "$@" 3<&{child_read} 4>&{child_write} {child_read}<&- {child_write}>&-'
        cmd = ["bash", "-c", script, str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        self.proc = subprocess.Popen(
            [*cmd, "about:blank"],
            pass_fds=(child_read, child_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_read)
        os.close(child_write)
        self._buffer = b""
        self._id = 0
        self.session = ""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.setBypassCSP", enabled=True)  # our pages forbid scripts; the probe is ours
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=1000, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params: object) -> dict[str, object]:
        self._id += 1
        message: dict[str, object] = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._out, orjson.dumps(message) + b"\0")
        deadline = time.monotonic() + 30
        while True:
            while b"\0" not in self._buffer:
                if not select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise TimeoutError(f"no answer to {method}")
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            answer = orjson.loads(raw)
            if answer.get("id") == self._id:  # anything else is an event
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]  # type: ignore[no-any-return]

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")  # type: ignore[attr-defined]

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while self.evaluate("document.readyState + ' ' + location.href") != f"complete {url}":
            assert time.monotonic() < deadline, f"{url} did not load"
            time.sleep(0.05)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._in)
        os.close(self._out)


#: For every date and count on the page (printed after a headline, a source or a category):
#: where each of its characters starts, and where the element before it ends on its last line.
PROBE = """
[...document.querySelectorAll("time, .count")].map(el => {
  const node = el.firstChild, xs = [];
  for (let i = 0; node && node.nodeType === 3 && i < node.length; i++) {
    const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
    const box = r.getBoundingClientRect(); if (box.width > 0) xs.push(box.left);
  }
  const box = el.getBoundingClientRect(), rects = el.previousElementSibling?.getClientRects() || [];
  const before = rects.length ? rects[rects.length - 1] : null;  // its last line
  const sameLine = before && before.top < box.bottom && box.top < before.bottom;
  return {text: el.textContent, xs, left: box.left, after: sameLine ? before.right : null};
})
"""


@pytest.fixture(scope="module")
def names_server(names_home: NamesHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(names_home.path, log=tmp_path_factory.mktemp("serve-names") / "serve.log") as base:
        yield base


@pytest.fixture(scope="module")
def devtools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    browser = DevTools(tmp_path_factory.mktemp("devtools-profile"))
    try:
        yield browser
    finally:
        browser.close()


def test_a_headline_with_an_override_does_not_reorder_what_follows_it(names_server: str, devtools: DevTools) -> None:
    """Headlines and categories holding U+202E (one behind a stray U+2069, which closes a
    ``<bdi>`` early), printed before a source, a date or a count: those must still read
    left to right, after them."""
    results = httpx.get(names_server + "/api/search", params={"q": "giá vàng", "limit": 50}).json()["results"]
    spoofing = [r for r in results if r["title"] in SPOOF_TITLES]
    assert len(spoofing) == 2
    # an article whose related list shows the spoofing headlines, each before its source and date
    article = next(r for r in results if r["title"] == COMPANION_TITLE)
    related = httpx.get(names_server + article["api_url"]).json()["related"]
    assert {r["title"] for r in related} >= set(SPOOF_TITLES)
    pages = [
        "/?q=gi%C3%A1+v%C3%A0ng&limit=50",  # results, a category with an override, facet counts
        "/?category=L%C5%A9+%E2%81%A9%E2%80%AEqu%C3%A9t&sort=newest",  # a category's listing
        article["page_url"],
    ]
    for page in pages:
        devtools.open(names_server + page)
        assert devtools.evaluate("document.body.textContent.includes('\u202e')"), page
        placed = devtools.evaluate(PROBE)
        assert isinstance(placed, list) and len(placed) >= 3, page
        for p in placed:
            assert p["xs"] == sorted(p["xs"]) and len(set(p["xs"])) == len(p["xs"]), (page, p)
            assert p["after"] is None or p["left"] >= p["after"] - 1, (page, p)
