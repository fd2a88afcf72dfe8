"""Following a simulated outlet end to end, as an operator does: ``opennews sources add``,
``opennews follow --once`` (in-process, through the CLI), the polite fetcher against the
outlet simulator (tests/outlet.py, a real server on 127.0.0.1), the archive, the run log
and ``opennews sources`` — and a running server that makes what was followed searchable."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from opennews.archive import Archive
from opennews.cli import main
from outlet import ARTICLES, LATER, Outlet
from webhome import WebHome, serving

DELAY = 0.05
CONTACT = "https://example.org/lien-he"


@pytest.fixture(autouse=True)
def polite_but_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENNEWS_FETCH_DELAY", str(DELAY))
    monkeypatch.setenv("OPENNEWS_CONTACT", CONTACT)


@pytest.fixture()
def outlet() -> Iterator[Outlet]:
    with Outlet() as running:
        yield running


def cli(home: Path, *args: str) -> int:
    return main(["--home", str(home), *args])


def records(home: Path) -> list[dict[str, Any]]:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return [orjson.loads(line) for line in archive.iter_json()]


def sources(home: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert cli(home, "sources", "--json") == 0
    return orjson.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_following_a_feed_takes_each_page_s_full_text_politely(
    outlet: Outlet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert cli(home, "sources", "add", outlet.url("/rss.xml"), "--name", "Tin Nhanh") == 0
    # The follow run's requests only: politeness is per fetcher, and adding the source was a
    # command of its own (a moment before, in this process; minutes before, typically).
    outlet.clear()
    assert cli(home, "follow", "--once") == 0

    public = [a for a in outlet.listed() if a.folder == "bai"]
    hidden = [a for a in outlet.listed() if a.folder == "rieng"]
    assert public and hidden
    kept = {r["title"]: r for r in records(home)}
    for article in public:  # every paragraph came from the page, not the feed's one-line description
        body = kept[article.title]["body"]
        assert all(p in body for p in article.paragraphs) and kept[article.title]["author"] == article.author
    asked = outlet.requests
    assert asked[0].path == "/robots.txt"
    assert not [r for r in asked if r.path.startswith("/rieng/")]  # robots.txt says no
    assert hidden[0].title in kept  # known from the feed alone
    assert all("opennews/" in r.headers["user-agent"] and CONTACT in r.headers["user-agent"] for r in asked)
    times = [r.time for r in asked]
    assert min(b - a for a, b in pairwise(times)) >= DELAY * 0.8  # one host: one at a time, apart

    outlet.clear()
    assert cli(home, "follow", "--once") == 0
    again = outlet.requests
    feed = [r for r in again if r.path == "/rss.xml"]
    assert len(feed) == 1 and feed[0].headers.get("if-none-match")  # a conditional GET, answered 304
    assert not [r for r in again if r.path.startswith("/bai/")]  # nothing seen is fetched again
    assert len(records(home)) == len(kept)
    [source] = sources(home, capsys)
    assert source["kind"] == "rss" and source["error_streak"] == 0 and source["articles"] == len(kept)
    assert "304" in source["last_status"]
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        runs = [r for r in archive.runs() if r["command"] == "follow"]
    assert [r["status"] for r in runs] == ["done", "done"] and runs[-1]["added"] == len(kept)


def test_every_kind_of_source_and_each_article_once(
    outlet: Outlet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A home page (its announced feeds), a news sitemap and a sitemap index: the same
    articles reached by several roads are archived once."""
    home = tmp_path / "home"
    for path in ("/", "/sitemap-news.xml", "/sitemap.xml"):
        assert cli(home, "sources", "add", outlet.url(path)) == 0, path
    kinds = {s["kind"] for s in sources(home, capsys)}
    assert {"homepage", "sitemap", "sitemap-index"} <= kinds and kinds & {"rss", "atom", "jsonfeed"}
    assert cli(home, "follow", "--once") == 0
    titles = [r["title"] for r in records(home)]
    assert len(titles) == len(set(titles))
    assert {a.title for a in outlet.listed() if a.folder == "bai"} <= set(titles)

    outlet.add(LATER)
    assert cli(home, "follow", "--once") == 0
    assert [r["title"] for r in records(home)].count(LATER.title) == 1


def test_a_feed_in_trouble_is_backed_off_and_cron_leaves_it_alone(
    outlet: Outlet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert cli(home, "sources", "add", outlet.url("/rss.xml")) == 0
    outlet.fail("/rss.xml", 429, retry_after=600)
    before = datetime.now(UTC)
    assert cli(home, "follow", "--once") == 1  # nothing could be polled
    [source] = sources(home, capsys)
    assert source["error_streak"] == 1 and "429" in source["last_error"]
    assert datetime.fromisoformat(source["next_due"]) >= before + timedelta(seconds=600)

    outlet.clear()
    capsys.readouterr()
    assert cli(home, "follow", "--once") == 0
    assert "backing off" in capsys.readouterr().out and outlet.paths() == []  # not even robots.txt

    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        [run] = [r for r in archive.runs() if r["command"] == "follow"]
    assert run["inputs"][0]["rejected"] == 1  # the failed poll is in the run log


def test_a_removed_page_is_flagged_never_withdrawn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article published an hour ago is checked again; its page now answers 410: the
    operator is told (``sources --gone``), the archive keeps it."""
    fresh = [a for a in ARTICLES if a.folder == "bai"][:1]
    hour_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=70)
    with Outlet([replace(a, published=hour_ago) for a in fresh]) as outlet:
        home = tmp_path / "home"
        assert cli(home, "sources", "add", outlet.url("/rss.xml")) == 0
        assert cli(home, "follow", "--once") == 0
        [kept] = records(home)
        outlet.remove(fresh[0].slug, 410)
        _check_now(home)
        outlet.clear()
        assert cli(home, "follow", "--once") == 0
        assert fresh[0].path in outlet.paths()
    capsys.readouterr()
    assert cli(home, "sources", "--gone", "--json") == 0
    gone = orjson.loads(capsys.readouterr().out)
    assert [g["url"] for g in gone] == [outlet.url(fresh[0].path)]
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert archive.withdrawal(kept["id"]) is None and archive.get_record(kept["id"]) is not None


def _check_now(home: Path) -> None:
    """Bring every item's next re-check to now (the schedule itself is tested with a clock)."""
    with Archive.open(home / "opennews.sqlite3") as archive:
        due = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
        archive.execute("UPDATE follow_items SET next_check = ?", (due,))


def test_an_edit_found_on_a_recheck_is_a_new_version(tmp_path: Path) -> None:
    fresh = replace(ARTICLES[0], published=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=70))
    with Outlet([fresh]) as outlet:
        home = tmp_path / "home"
        assert cli(home, "sources", "add", outlet.url("/rss.xml")) == 0
        assert cli(home, "follow", "--once") == 0
        [first] = records(home)
        outlet.edit(fresh.slug, paragraphs=[*fresh.paragraphs, "Cập nhật: giá lúa tiếp tục tăng thêm 100 đồng."])
        _check_now(home)
        assert cli(home, "follow", "--once") == 0
    [now] = records(home)
    assert now["id"] == first["id"] and "Cập nhật: giá lúa" in now["body"]
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert [v["version"] for v in archive.history(first["id"])] == [1, 2]


def test_what_is_followed_while_serving_is_searchable_within_10_seconds(
    outlet: Outlet, web_home: WebHome, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(web_home.path, home)
    assert cli(home, "sources", "add", outlet.url("/atom.xml")) == 0
    with serving(home) as base:
        query = {"q": LATER.title}
        before = httpx.get(f"{base}/api/search", params=query, timeout=10).json()["results"]
        assert all(hit["title"] != LATER.title for hit in before)
        outlet.add(LATER)
        started = time.monotonic()
        assert cli(home, "follow", "--once") == 0
        while True:
            found = httpx.get(f"{base}/api/search", params=query, timeout=10).json()
            if found["results"] and found["results"][0]["title"] == LATER.title:
                break
            assert time.monotonic() - started < 10, "not searchable within 10 s"
            time.sleep(0.2)


def test_a_follower_told_to_sync_no_copies_leaves_them_to_the_nodes(outlet: Outlet, tmp_path: Path) -> None:
    """A follower beside web nodes that share the archive: it archives, and its home gets no index, feeds nor dumps."""
    home = tmp_path / "home"
    assert cli(home, "sources", "add", outlet.url("/rss.xml")) == 0
    assert cli(home, "follow", "--once", "--quiet", "--no-index", "--no-dumps") == 0
    assert len(records(home)) == len(outlet.listed())
    assert not (home / "index").exists() and not (home / "feeds").exists() and not (home / "dumps").exists()
    assert cli(home, "sync", "--quiet") == 0  # what it left is brought up to date on demand
    assert (home / "index" / "CURRENT").exists() and (home / "dumps" / "manifest.json").exists()
