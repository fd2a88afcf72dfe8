"""newsboat, a real feed reader, subscribes to feeds served by a real ``opennews serve``.

It must see the items, see no duplicates after a re-fetch, and none after an article is
edited (same GUID, new text). Run non-interactively: ``newsboat -x reload`` with its own
urls file, config and cache, then the cache's SQLite is read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from opennews.archive import Archive
from tools import required
from webhome import WebHome, build_web_home, serving

NEWSBOAT = shutil.which("newsboat")
_newsboat = required("newsboat", "newsboat is not installed (apt-get install newsboat)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A copy of the demo home (this test edits it) served on a free port."""
    shared: WebHome = build_web_home(tmp_path_factory)
    home = tmp_path_factory.mktemp("newsboat") / "home"
    shutil.copytree(shared.path, home)
    with serving(home, log=home.parent / "serve.log") as base:
        yield base, home


class Newsboat:
    def __init__(self, folder: Path, urls: list[str]) -> None:
        self.folder = folder
        (folder / "home").mkdir(parents=True)
        (folder / "urls").write_text("\n".join(urls) + "\n")
        (folder / "config").write_text("")
        self.cache = folder / "cache.db"

    def reload(self) -> None:
        cmd = [NEWSBOAT or "newsboat", "-u", "urls", "-C", "config", "-c", "cache.db", "-x", "reload"]
        env = {**os.environ, "HOME": str(self.folder / "home")}
        result = subprocess.run(cmd, cwd=self.folder, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

    def items(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.cache) as db:
            return list(db.execute("SELECT guid, title, feedurl FROM rss_item"))

    def content(self, guid: str) -> str:
        with sqlite3.connect(self.cache) as db:
            return str(db.execute("SELECT content FROM rss_item WHERE guid = ?", (guid,)).fetchone()[0])


def test_newsboat_sees_items_once_after_refetch_and_edit(served: tuple[str, Path], tmp_path: Path) -> None:
    base, home = served
    urls = [f"{base}/feeds/latest.rss", f"{base}/feeds/latest.atom", f"{base}/feeds/source/bachdang.example.rss"]
    reader = Newsboat(tmp_path / "nb", urls)
    reader.reload()
    first = reader.items()
    guids = [g for g, _, _ in first]
    assert len(guids) >= 50 and len(guids) == len(set(guids))
    assert all(g.startswith("urn:opennews:article:") for g in guids)

    reader.reload()  # a re-fetch (answered 304 or with identical items)
    assert sorted(reader.items()) == sorted(first)

    # edit the newest article: same URL (so the same id), new headline and text
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        newest_guid = httpx.get(f"{base}/feeds/latest.json").json()["items"][0]["id"]
        record = archive.get_record(newest_guid.rsplit(":", 1)[1])
    assert record is not None
    edited = {**record, "title": record["title"] + " (cập nhật)", "body": "Nội dung đã sửa.\n\n" + record["body"]}
    for derived in ("content_hash", "ingested_at"):
        edited.pop(derived, None)
    (tmp_path / "edit.ndjson").write_bytes(orjson.dumps(edited) + b"\n")
    cmd = [sys.executable, "-m", "opennews", "--home", str(home), "ingest", str(tmp_path / "edit.ndjson"), "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 15
    while "(cập nhật)" not in httpx.get(f"{base}/feeds/latest.rss").text:
        assert time.monotonic() < deadline, "the edit never reached the feed"
        time.sleep(0.3)

    reader.reload()
    after = reader.items()
    after_guids = [g for g, _, _ in after]
    assert len(after_guids) == len(set(after_guids)) == len(guids)  # no duplicate for the edit
    assert any(t.endswith("(cập nhật)") for g, t, _ in after if g == newest_guid)
    assert "Nội dung đã sửa." in reader.content(newest_guid)


def test_conditional_refetch_is_answered_304(served: tuple[str, Path]) -> None:
    base, _ = served
    first = httpx.get(f"{base}/feeds/latest.atom")
    again = httpx.get(f"{base}/feeds/latest.atom", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    since = httpx.get(f"{base}/feeds/latest.atom", headers={"if-modified-since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert httpx.head(f"{base}/feeds/latest.atom").headers["etag"] == first.headers["etag"]
