"""Feeds and pages for the names and headlines that are hard to print.

Feed links: every source and category has one link (``FeedSpec.url``), read back by one
parser (``opennews.feeds.names.name``) whatever the name holds; the same link in OPML,
article pages, listing pages and ``/feeds``; and the static file of a feed is where a
static server looks for that link. Bidi: feeds carry no bidi control, pages isolate the
archive text they print among other text.

On the hard-names home of ``webhome`` through Starlette's TestClient, with Python's
``http.server`` (which decodes a URL to a path as nginx does) for the static copy.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import re
import shutil
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from html import unescape
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit
from xml.etree import ElementTree

import feedparser
import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match
from starlette.testclient import TestClient

from conftest import CORPUS, needs_shared
from opennews.archive import Archive
from opennews.cli import main
from opennews.feeds import FORMATS, FeedSpec
from opennews.feeds import names as feed_names
from opennews.feeds.static import file_stems
from opennews.search.schema import category_key
from opennews.settings import Settings
from opennews.vietnamese import balance_bidi, strip_bidi
from opennews.vietnamese.bidi import FSI, PDI
from opennews.web import create_app
from webhome import HARD_CATEGORIES, HARD_SOURCES, SPOOF_AUTHOR, SPOOF_TAG, SPOOF_TITLES, NamesHome

BASE = "http://testserver"
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ISOLATES = (FSI, "\u2066", "\u2067")  # FSI, LRI, RLI: each is closed by a PDI
NAMES = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(min_size=1, max_size=40).map(lambda s: unicodedata.normalize("NFD", s)),
    st.text(alphabet="./\\~%?#+; .aĐ\u0301\u202e\u2069", min_size=1, max_size=12),
    st.sampled_from(HARD_SOURCES + HARD_CATEGORIES),
    st.sampled_from(("CON", "con", "Nul.rss", "aux ", "com1", "LPT9.tar.gz", "COM¹", "conin$", "prn.", "Console")),
)
#: What Windows takes for a device, not a file, before any extension (and trailing spaces).
DEVICES = re.compile(r"(?i)(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$) *")


@pytest.fixture(scope="module")
def names_client(names_home: NamesHome) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(names_home.path), follow=False)) as client:
        yield client


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[BaseRoute]:
    return create_app(Settings(tmp_path_factory.mktemp("routes")), follow=False).routes


@pytest.fixture(scope="module")
def records(names_home: NamesHome) -> list[dict[str, Any]]:
    with Archive.open(names_home.path / "opennews.sqlite3", readonly=True) as archive:
        return [orjson.loads(line) for line in archive.iter_json()]


def _route(routes: list[BaseRoute], path: str) -> tuple[str, dict[str, Any]]:
    """What the app's router makes of a decoded path (as uvicorn hands it over)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return getattr(route, "name", ""), child["path_params"]
    raise AssertionError(f"no route for {path!r}")


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# -- one link, one parser ----------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    name=NAMES,
    kind=st.sampled_from(("source", "category", "author")),
    fmt=st.sampled_from(sorted(FORMATS)),
    month=st.sampled_from(("", "2024-05")),
)
def test_a_feed_link_reads_back_to_its_name(
    routes: list[BaseRoute], name: str, kind: str, fmt: str, month: str
) -> None:
    url = FeedSpec(kind=kind, value=name, month=month).url(BASE, fmt)  # type: ignore[arg-type]
    path = urlsplit(url).path
    assert url.startswith(BASE + "/feeds/") and path.isascii() and "%2F" not in path.upper()
    decoded = unquote(path)
    assert not {".", ".."} & set(decoded.split("/")), "a dot segment, which clients remove"
    route, params = _route(routes, decoded)
    assert route == ("feed_archive" if month else "feed_named")
    assert (params["kind"], params["fmt"], feed_names.name(params["name"])) == (kind, fmt, name)
    assert params.get("month", "") == month


@settings(max_examples=400, deadline=None)
@given(name=NAMES)
def test_a_segment_is_a_safe_file_name_of_its_own(name: str) -> None:
    segment = feed_names.segment(name)
    assert "/" not in segment and "\\" not in segment and not segment.startswith(".")
    assert not DEVICES.fullmatch(segment.split(".")[0]), "Windows opens a device for this file name"
    assert segment.isprintable() and unicodedata.is_normalized("NFC", segment)
    # a name in another normal form is another name, and another file even where the
    # file system compares names after normalising them (macOS)
    for other in {unicodedata.normalize(form, name) for form in ("NFC", "NFD", "NFKC")} - {name}:
        assert _nfd(feed_names.segment(other)) != _nfd(segment)


def test_names_windows_takes_for_devices_get_files_of_their_own() -> None:
    """CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and with ¹²³), CONIN$ and CONOUT$, in any case,
    with any extension or trailing spaces, name a device on Windows, not a file: their first
    letter is escaped. Names that only begin like them are left as they are."""
    for name in ("CON", "con", "Prn", "aux", "NUL", "com0", "COM9", "lpt1", "LPT²", "CONIN$", "conout$"):
        for variant in (name, name + ".rss", name + " ", name + ".tar.gz", name + " .x"):
            segment = feed_names.segment(variant)
            assert segment == f"~{ord(variant[0]):02X}{variant[1:]}", variant
            assert not DEVICES.fullmatch(segment.split(".")[0]) and feed_names.name(segment) == variant
    for name in ("Console", "company", "COM10", "nul1", "LPT", "auxiliary", "con-2024", "xcon"):
        assert feed_names.segment(name) == name


@needs_shared(CORPUS)
def test_every_name_of_the_real_corpus_has_a_link_and_a_file_name(routes: list[BaseRoute]) -> None:
    """The sources and categories of the first 20,000 articles of the shared corpus."""
    seen: dict[str, set[str]] = {"source": set(), "category": set()}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in itertools.islice(lines, 20_000):
            record = orjson.loads(line)
            for kind, names in seen.items():
                if record.get(kind):
                    names.add(unicodedata.normalize("NFC", record[kind]).strip())
    assert sum("/" in name for name in seen["category"]) >= 50
    for kind, names in seen.items():
        stems = file_stems(sorted(names))
        assert set(stems) == names  # short, and no two differ only in case: each has a file
        for name in names:
            url = FeedSpec(kind=kind, value=name).url(BASE, "rss")  # type: ignore[arg-type]
            _, params = _route(routes, unquote(urlsplit(url).path))
            assert feed_names.name(params["name"]) == name
            assert "/" not in stems[name] and not stems[name].startswith(".")


def test_ordinary_names_are_their_own_segments_and_plainly_encoded_links_work(names_client: TestClient) -> None:
    for name in ("vnexpress.net", "Thế giới", "Thời sự", "Xe 360", "Sức khỏe"):
        assert feed_names.url_segment(name) == quote(name, safe="")
    # "?" and "%" only percent-encoded (as a link typed by hand or made by another tool has them) reach their feed too
    typed = "/feeds/category/" + quote("Giảm 50% hôm nay", safe="") + ".json"
    assert names_client.get(typed).json()["items"]
    assert feed_names.name("a~zz~E2") == "a~zz~E2"  # not our escapes: kept as typed
    for bad in (
        "/feeds/category/a%2Fb.rss",
        "/feeds/category/.rss",
        "/feeds/category/" + "x" * (feed_names.MAX_NAME + 1) + ".rss",
        "/feeds/latest/x/archive/2024-05.rss",
        "/feeds/planet/x.rss",
    ):
        assert names_client.get(bad).status_code == 404, bad


# -- every link the site publishes works ---------------------------------------------------------


def _feed_links(html: str) -> list[str]:
    """The source and category feed links of a page: autodiscovery and plain links."""
    links = re.findall(r'<(?:link|a) [^>]*href="(/feeds/(?:source|category)/[^"]+)"', html)
    return [unescape(link) for link in links]


def _check_feed(client: TestClient, link: str, kind: str, name: str) -> None:
    """Every format of the feed at ``link`` answers, holds articles of ``name`` only, and
    its archive page (linked with the name in its path too) answers the same way."""
    stem = link.rsplit(".", 1)[0]
    assert link == FeedSpec(kind=kind, value=name).url("", link.rsplit(".", 1)[1])  # type: ignore[arg-type]
    feed = client.get(stem + ".json").json()
    assert feed["feed_url"] == BASE + stem + ".json" and feed["items"], link
    for item in feed["items"]:
        if kind == "source":
            assert item["_opennews"]["source"] == strip_bidi(name)
        else:
            assert category_key(strip_bidi(name)) in {category_key(t) for t in item["tags"]}
    ids = {item["id"] for item in feed["items"]}
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(client.get(f"{stem}.{fmt}").content)
        assert parsed.bozo == 0 and {e.id for e in parsed.entries} == ids, (link, fmt)
    older = client.get(feed["_opennews"]["prev_archive"].removeprefix(BASE))
    assert older.status_code == 200 and {i["id"] for i in older.json()["items"]} <= ids


def test_every_published_feed_link_answers_with_its_feed(
    names_client: TestClient, records: list[dict[str, Any]]
) -> None:
    catalog = {(kind, r[kind]) for r in records for kind in ("source", "category")}
    assert {n for _, n in catalog} == set(HARD_SOURCES + HARD_CATEGORIES)
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)  # link -> the (kind, name) it was given for

    opml = ElementTree.fromstring(names_client.get("/feeds.opml").content)
    printed = {strip_bidi(name): (kind, name) for kind, name in catalog}
    outlines = [o for o in opml.iter("outline") if o.get("xmlUrl") and o.get("text") in printed]
    for outline in outlines:
        found[outline.get("xmlUrl", "").removeprefix(BASE)].add(printed[outline.get("text", "")])
    assert len(found) == len(catalog)

    for record in records:
        page = names_client.get(f"/articles/{record['id']}").text
        links = _feed_links(page)
        assert {link.split("/")[2] for link in links} == {"source", "category"}
        api = names_client.get(f"/api/articles/{record['id']}").json()["feeds"]
        for link in [*links, api["source"]]:
            kind = link.split("/")[2]
            found[link].add((kind, record[kind]))

    listed = set(_feed_links(names_client.get("/feeds").text))
    for kind, name in catalog:
        assert FeedSpec(kind=kind, value=name).url("", "rss") in listed  # type: ignore[arg-type]
        listing = names_client.get(FeedSpec(kind=kind, value=name).html_url(""))  # type: ignore[arg-type]
        assert listing.status_code == 200 and 'class="hit"' in listing.text
        for link in _feed_links(listing.text.split("</head>")[0]):
            found[link].add((kind, name))

    assert len({link.rsplit(".", 1)[0] for link in found}) == len(catalog)
    for link, given_for in found.items():
        assert len(given_for) == 1, (link, given_for)  # one link, one feed
        (kind, name) = next(iter(given_for))
        _check_feed(names_client, link, kind, name)


# -- static files ---------------------------------------------------------------------------------


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """``root`` served as files on 127.0.0.1: ``/feeds/x`` is ``root/feeds/x``, as with nginx
    ``root``; the URL is percent-decoded to find the file."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_static_feed_files_are_where_their_links_point(
    names_home: NamesHome, names_client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    shutil.copytree(names_home.path, home)
    assert main(["--home", str(home), "feeds", "--base-url", BASE]) == 0
    assert "3 feeds served by the app only" in capsys.readouterr().err  # the report goes to stderr
    feeds = home / "feeds"
    opml = ElementTree.fromstring((feeds / "feeds.opml").read_bytes())
    links = [o.get("xmlUrl", "").removeprefix(BASE) for o in opml.iter("outline") if o.get("xmlUrl")]
    left_to_app = set()
    with static_server(home) as static, httpx.Client(base_url=static) as http:
        for link in links:
            stem = link.rsplit(".", 1)[0]
            for fmt in FORMATS:
                from_app = names_client.get(f"{stem}.{fmt}")
                from_disk = http.get(f"{stem}.{fmt}")
                assert from_app.status_code == 200
                if from_disk.status_code == 404:
                    left_to_app.add(feed_names.name(unquote(stem.rsplit("/", 1)[1])))
                else:
                    assert from_disk.content == from_app.content, link
    # too long for a file name; one file on a case-insensitive disk: the app answers them
    assert left_to_app == {HARD_CATEGORIES[-1], "Thể thao", "Thể Thao"}
    # and the other way round: every file is what the app answers at the file's path
    files = [p for p in feeds.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".gz"]
    assert len(files) == 3 + 1 + 3 * (len(links) - 1 - len(left_to_app))
    for path in files:
        url = "/" + "/".join(quote(part, safe="") for part in path.relative_to(home).parts)
        assert names_client.get(url).content == path.read_bytes(), url
        assert path.resolve().is_relative_to(feeds.resolve())


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


# -- bidi: isolated in pages -----------------------------------------------------------------------

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "li", "td", "th", "dd", "dt", "figcaption", "div", "section", "article", "aside", "nav", "ol", "ul"}
_BLOCKS |= {"header", "footer", "main", "form", "label", "select", "body", "html", "head", *_HEADINGS}
_VOID = {"meta", "link", "br", "img", "input", "hr"}


class BidiAudit(HTMLParser):
    """Where a page prints bidi controls. In text, each must be inside a ``<bdi>`` whose text
    is balanced, or be part of the only thing its block holds (one of ``alone``: a headline
    in its ``<h1>``, a paragraph); in ``<title>``, ``<option>`` and attribute values, inside
    a balanced FSI…PDI. ``problems`` says where a control could reorder other text."""

    def __init__(self, alone: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.alone = {" ".join(a.split()) for a in alone}
        self.stack: list[list[Any]] = []  # [tag, texts, exposed]
        self.problems: list[str] = []

    def _plain(self, text: str, where: str) -> None:
        depth = 0
        for ch in text:
            if ch in ISOLATES:
                depth += 1
            elif ch == PDI:
                depth -= 1
            elif BIDI.match(ch) and depth <= 0:
                self.problems.append(f"{where}: {text!r} is not isolated")
                return
        if balance_bidi(text) != text:
            self.problems.append(f"{where}: {text!r} is not balanced")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name not in ("href", "value") and BIDI.search(value):
                self._plain(value, f"<{tag} {name}>")
        if tag not in _VOID:
            self.stack.append([tag, [], False])

    def handle_endtag(self, tag: str) -> None:
        if tag not in {frame[0] for frame in self.stack}:
            return
        while self.stack:
            name, texts, exposed = self.stack.pop()
            text = "".join(texts)
            if name == "bdi" and balance_bidi(text) != text:
                self.problems.append(f"<bdi>{text!r}</bdi> is not balanced")
            if exposed and " ".join(text.split()) not in self.alone:
                self.problems.append(f"<{name}>{text!r}: a control outside <bdi>")
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        for frame in self.stack:
            frame[1].append(data)
        if not BIDI.search(data) or not self.stack or any(f[0] == "bdi" for f in self.stack):
            return
        if self.stack[-1][0] in ("title", "option"):
            self._plain(data, f"<{self.stack[-1][0]}>")
            return
        block = next((f for f in reversed(self.stack) if f[0] in _BLOCKS), self.stack[0])
        block[2] = True


def _audit(html: str, alone: set[str]) -> list[str]:
    audit = BidiAudit(alone)
    audit.feed(html)
    audit.close()
    return audit.problems


def test_the_audit_finds_what_it_looks_for() -> None:
    spoof = SPOOF_TITLES[0]
    row = '<li><a href="/a">{}</a> <span class="meta">tin.example · <time>01/05/2024</time></span></li>'
    assert _audit(row.format(spoof), set())
    assert not _audit(row.format(f"<bdi>{balance_bidi(spoof)}</bdi>"), set())
    assert _audit(row.format(f"<bdi>{SPOOF_TITLES[1]}</bdi>"), set())  # the stray PDI
    assert not _audit(f"<h1>{spoof}</h1>", {spoof}) and _audit(f"<h1>{spoof}</h1>", set())
    assert _audit(f"<title>{spoof} · opennews</title>", set())
    assert not _audit(f"<title>{FSI}{balance_bidi(spoof)}{PDI} · opennews</title>", set())


def test_pages_isolate_what_the_archive_says(names_client: TestClient, records: list[dict[str, Any]]) -> None:
    alone: set[str] = set()
    for r in records:
        alone |= {r["title"], r["sapo"], *r["body"].split("\n\n")}
    spoofing = [r for r in records if BIDI.search(r["title"] + r["category"])]
    assert len(spoofing) >= 3
    category = "Bão\u202e lũ"
    pages = [f"/articles/{r['id']}" for r in records]
    pages += [
        "/?q=gi%C3%A1+v%C3%A0ng",
        "/?q=gi%C3%A1+v%C3%A0ng&limit=50&lang=en",
        "/?" + FeedSpec(kind="category", value=category).html_url("").split("?", 1)[1],
        "/?q=%E2%80%AEv%C3%A0ng",  # a query with an override is echoed isolated too
        # filters no facet lists (nothing matches them) are still shown, isolated, in their <select>
        "/?" + urlencode({"source": "Tin \u202enhanh", "category": category + " \u2067x"}),
        "/feeds",
        "/about",
    ]
    checked = 0
    for path in pages:
        page = names_client.get(path)
        assert page.status_code == 200, path
        assert _audit(page.text, alone) == [], path
        checked += len(BIDI.findall(page.text))
    assert checked > 50  # the pages did print the controls, isolated
    related = names_client.get(f"/articles/{spoofing[-1]['id']}").text
    assert "<bdi>" in related and f"{FSI}" in related.split("</head>")[0]
    # ordinary text is printed as it was: no <bdi>, nothing invisible in a copied title
    plain = next(r for r in records if not BIDI.search(r["title"] + r["source"] + r["category"] + r["author"]))
    head = names_client.get(f"/articles/{plain['id']}").text.split("</head>")[0]
    assert f"<title>{plain['title']} · opennews</title>" in unescape(head)
