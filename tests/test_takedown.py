"""A takedown reaches every copy while a server runs, whichever process made it.

End to end: a real ``opennews serve`` on a home of its own, a real ``opennews withdraw``
(another process), then every copy is checked the way its users would read it: search
with totals and facets, related articles, live and static feeds, dumps, sitemap, export.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import orjson
import pytest

from opennews.archive import Archive
from opennews.home import Home
from opennews.search.indexer import current_generation
from tools import within
from webhome import serving

#: A takedown must show everywhere within this many seconds of ``withdraw`` returning.
DEADLINE = 5.0


def opennews(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opennews", "--home", str(home), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("takedown") / "home"
    home.mkdir()
    Home.at(home).demo(240, seed=11)
    with serving(home, log=home.parent / "serve.log") as base:
        yield home, base


def _victim(base: str) -> dict[str, object]:
    """An article with related articles, a source and a category, findable by its title."""
    for hit in httpx.get(f"{base}/api/search", params={"q": "ha noi", "limit": 50}).json()["results"]:
        data = httpx.get(f"{base}/api/articles/{hit['id']}").json()
        if data["related"] and data["article"].get("category"):
            return data["article"]
    raise AssertionError("no article with related articles in the demo home")


def _files_text(folder: Path) -> str:
    out = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith(".") and path.suffix not in (".parquet",):
            data = path.read_bytes()
            out.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", "replace"))
    return "\n".join(out)


def test_withdraw_purge_and_restore_reach_every_copy(served: tuple[Path, str]) -> None:
    home, base = served
    client = httpx.Client(base_url=base, timeout=10)
    article = _victim(base)
    aid, title = str(article["id"]), str(article["title"])
    article_related = [r["id"] for r in client.get(f"/api/articles/{aid}").json()["related"]]
    source, category = str(article["source"]), str(article["category"])
    query = {"q": title, "limit": 100}
    everything = {"q": "", "limit": 1}
    assert aid in [r["id"] for r in client.get("/api/search", params=query).json()["results"]]
    before = client.get("/api/search", params=everything).json()
    # warm every cache the server keeps: answers, facets, feeds, sitemap, stats
    for path in ("/feeds/latest.atom", f"/feeds/source/{source}.rss", "/sitemaps/articles-1.xml", "/api/stats"):
        assert client.get(path).status_code == 200
    assert aid in client.get("/sitemaps/articles-1.xml").text

    done = opennews(home, "withdraw", aid, "--reason", "Lệnh của tòa án", "--purge")
    assert done.returncode == 0, done.stderr
    returned = time.monotonic()

    def search_forgets() -> bool:
        """search results, totals and facets leave the article out"""
        after = client.get("/api/search", params=everything).json()
        found = client.get("/api/search", params=query).json()
        sources = sum(f["count"] for f in after["facets"]["source"])
        categories = {f["value"]: f["count"] for f in after["facets"]["category"]}
        was = {f["value"]: f["count"] for f in before["facets"]["category"]}
        return (
            aid not in [r["id"] for r in found["results"]]
            and after["total"] == before["total"] - 1
            and sources == after["total"]
            and categories.get(category, 0) == was[category] - 1
        )

    within(DEADLINE, search_forgets)
    assert client.get(f"/api/articles/{aid}").status_code == 410
    assert client.get(f"/articles/{aid}").status_code == 410
    atom = feedparser.parse(client.get("/feeds/latest.atom").content)
    assert aid not in " ".join(e.id for e in atom.entries)
    assert f"urn:opennews:article:{aid}" in client.get("/feeds/latest.atom").text  # the RFC 6721 tombstone
    assert aid not in client.get(f"/feeds/source/{source}.rss").text
    assert aid not in client.get("/sitemaps/articles-1.xml").text
    assert aid not in client.get("/api/export").text
    assert client.get("/api/stats").json()["withdrawn"] == 1
    for other in article_related:
        related = client.get(f"/api/articles/{other}").json()["related"]
        assert aid not in [r["id"] for r in related]
    dump = gzip.decompress(client.get("/dumps/articles-all.ndjson.gz").content).decode()
    assert dump and aid not in dump and title not in dump
    assert aid in gzip.decompress(client.get("/dumps/withdrawals.ndjson.gz").content).decode()
    assert time.monotonic() - returned < DEADLINE
    # purged: no derived file keeps it (static feeds, dumps; a tombstone names the id, never the text),
    # and no index segment holds it
    for path in (home / "feeds").rglob("*.rss"):
        assert all(aid not in e.get("id", "") for e in feedparser.parse(path.read_bytes()).entries), path
    for path in (home / "dumps").glob("articles-*.ndjson.gz"):
        assert aid not in {orjson.loads(line)["id"] for line in gzip.decompress(path.read_bytes()).splitlines()}
    assert aid not in _files_text(home / "dumps").replace(f'"id":"{aid}","tombstone":true', "")
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(current_generation(home / "index")))
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            assert all(leaf.stored_fields(n)["id"] != aid for n in range(leaf.doc_count_all()))
    assert opennews(home, "verify").returncode == 0

    # a purged article cannot be restored; once its tombstone is lifted it may be ingested again
    assert "opennews lift" in opennews(home, "restore", aid).stderr
    assert opennews(home, "lift", aid).returncode == 0
    record = dict(article)
    fresh = home.parent / "again.ndjson"
    fresh.write_bytes(orjson.dumps(record) + b"\n")
    assert opennews(home, "ingest", "--quiet", str(fresh)).returncode == 0
    within(DEADLINE, lambda: aid in [r["id"] for r in client.get("/api/search", params=query).json()["results"]])


def test_withdraw_and_restore_without_purge(served: tuple[Path, str]) -> None:
    home, base = served
    client = httpx.Client(base_url=base, timeout=10)
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        aid = archive.listing(7, 1)[0][0]
        record = archive.get_record(aid)
    assert record is not None
    source = record["source"]
    static = home / "feeds" / "source" / f"{source}.rss"
    total = client.get("/api/search", params={"q": ""}).json()["total"]
    assert opennews(home, "withdraw", aid, "--reason", "gỡ tạm").returncode == 0
    # the command that made the change brought the static files up to date before returning
    assert aid not in static.read_text() and aid not in (home / "feeds" / "latest.rss").read_text()
    within(DEADLINE, lambda: client.get("/api/search", params={"q": ""}).json()["total"] == total - 1)
    assert opennews(home, "restore", aid).returncode == 0
    within(DEADLINE, lambda: client.get("/api/search", params={"q": ""}).json()["total"] == total)
    assert client.get(f"/api/articles/{aid}").status_code == 200
    assert aid not in gzip.decompress((home / "dumps" / "withdrawals.ndjson.gz").read_bytes()).decode()
    assert aid in gzip.decompress((home / "dumps" / "articles-all.ndjson.gz").read_bytes()).decode()


def test_the_server_syncs_what_another_process_left_behind(served: tuple[Path, str]) -> None:
    """An ingest told not to touch the index, feeds or dumps: the running server brings them up to date."""
    home, base = served
    client = httpx.Client(base_url=base, timeout=10)
    record = {
        "id": "follow-0001",
        "title": "Cầu Thủ Thiêm 4 thông xe sau ba năm thi công",
        "body": "Cây cầu nối quận 7 với thành phố Thủ Đức chính thức thông xe.",
        "source": "theodoi.example",
        "category": "Giao thông",
        "published": "2025-11-30T08:00:00+07:00",
    }
    data = home.parent / "follow.ndjson"
    data.write_bytes(orjson.dumps(record) + b"\n")
    done = opennews(home, "ingest", "--no-index", "--no-dumps", str(data))
    assert done.returncode == 0, done.stderr
    within(
        15,
        lambda: (
            "follow-0001" in [r["id"] for r in client.get("/api/search", params={"q": "thu thiem 4"}).json()["results"]]
        ),
    )
    within(15, lambda: (home / "feeds" / "source" / "theodoi.example.rss").exists())
    within(
        15, lambda: "follow-0001" in gzip.decompress((home / "dumps" / "articles-all.ndjson.gz").read_bytes()).decode()
    )

    def caught_up() -> bool:
        """every copy reflects the archive"""
        positions = Home.at(home).positions()
        return positions["index"] == positions["feeds"] == positions["dumps"] == positions["archive"]

    within(15, caught_up)


def test_a_server_listens_once_its_index_and_feeds_follow_and_leaves_the_dumps_to_its_follower(tmp_path: Path) -> None:
    """The dumps of a large archive take minutes to rewrite: a server started on a home whose
    dumps are behind answers from the index at once, says so, and its follower (when on)
    brings the dumps up after it listens."""
    home = tmp_path / "home"
    home.mkdir()
    Home.at(home).demo(60, seed=5)
    record = {
        "id": "late-0001",
        "title": "Phà Cát Lái chạy thêm chuyến dịp cuối tuần",
        "body": "Bến phà Cát Lái tăng chuyến để giảm ùn tắc.",
        "source": "muon.example",
        "published": "2025-12-01T08:00:00+07:00",
    }
    data = tmp_path / "late.ndjson"
    data.write_bytes(orjson.dumps(record) + b"\n")
    done = opennews(home, "ingest", "--no-index", "--no-dumps", str(data))
    assert done.returncode == 0, done.stderr
    before = Home.at(home).positions()
    assert before["dumps"] is not None and before["dumps"] < before["archive"]  # type: ignore[operator]
    log = tmp_path / "serve.log"
    with serving(home, log=log, env={"OPENNEWS_FOLLOW": "0"}) as base:
        found = httpx.get(f"{base}/api/search", params={"q": "pha cat lai"}, timeout=10).json()["results"]
        assert [r["id"] for r in found] == ["late-0001"]
        positions = Home.at(home).positions()
        assert positions["index"] == positions["feeds"] == positions["archive"]
        assert positions["dumps"] == before["dumps"]  # nobody follows: left as they were
    assert f"Dumps: at change {before['dumps']} of {before['archive']}; 'opennews sync dumps'" in log.read_text()
    with serving(home, log=log) as base:
        within(15, lambda: Home.at(home).positions()["dumps"] == before["archive"])
    assert "the server brings them up to date now" in log.read_text()
