"""One writer for the index, always: rebuilds racing updates, kill -9 and Ctrl-C at any moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from opennews.archive import Archive, to_row
from opennews.article import make_article
from opennews.demo import generate
from opennews.home import Home
from opennews.locks import FileLock
from opennews.search import Indexer, Searcher, SearchRequest
from opennews.search.indexer import current_generation
from tools import default_signals


def opennews(home: Path, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "opennews", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_signals,
        **kwargs,  # type: ignore[arg-type]
    )


def ndjson(path: Path, n: int, seed: int) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate(n, seed=seed)))
    return path


def archive_only(home: Path, n: int, seed: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    with Archive.open(home / "opennews.sqlite3") as archive:
        archive.upsert_batch([to_row(make_article(r)) for r in generate(n, seed=seed)])


def verified(home: Path) -> None:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        report = Indexer(home / "index", archive).verify()
        assert report.ok, (len(report.missing), len(report.extra), len(report.stale))
        with Searcher(home / "index", archive) as searcher:
            assert searcher.search(SearchRequest(q="")).total == archive.count()


def test_a_rebuild_racing_an_ingest_both_finish_and_agree(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive_only(home, 2100, seed=1)
    Home.at(home).sync(("index",))
    rebuild = opennews(home, "index", "--rebuild")
    time.sleep(1.0)
    ingest = opennews(home, "ingest", "--no-dumps", "--no-feeds", str(ndjson(tmp_path / "more.ndjson", 200, 2)))
    _, err_i = ingest.communicate(timeout=300)
    _, err_r = rebuild.communicate(timeout=300)
    assert ingest.returncode == 0, err_i
    assert rebuild.returncode == 0, err_r
    verified(home)
    assert [p.name for p in (home / "index").glob("gen-*")] == [current_generation(home / "index").name]


def test_a_second_writer_waits_and_says_for_whom(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive_only(home, 50, seed=3)
    Home.at(home).sync(("index",))
    lock = FileLock(home / "index" / ".writer.lock", "index writer")
    lock.acquire()
    try:
        with Archive.open(home / "opennews.sqlite3") as archive:
            archive.upsert_batch([to_row(make_article(r)) for r in generate(5, seed=4)])
        update = opennews(home, "index")
        time.sleep(1.5)
        assert update.poll() is None  # waiting, not failing
    finally:
        lock.release()
    _, err = update.communicate(timeout=60)
    assert update.returncode == 0
    assert "waiting for the index writer held by pid" in err
    verified(home)


def _kill_at_random(home: Path, args: list[str], seed: int) -> None:
    proc = opennews(home, *args)
    time.sleep(random.Random(seed).uniform(0.3, 2.5))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_9_of_updates_and_rebuilds_at_random_points_never_breaks_the_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive_only(home, 300, seed=5)
    Home.at(home).sync(("index",))
    for round_ in range(2):
        with Archive.open(home / "opennews.sqlite3") as archive:
            archive.upsert_batch([to_row(make_article(r)) for r in generate(500, seed=10 + round_)])
        _kill_at_random(home, ["index", "--quiet"] if round_ % 2 == 0 else ["index", "--rebuild", "--quiet"], round_)
        with (
            Archive.open(home / "opennews.sqlite3", readonly=True) as archive,
            Searcher(home / "index", archive) as searcher,
        ):  # it opens and answers
            assert searcher.search(SearchRequest(q="ha noi")).total >= 0
    done = opennews(home, "index")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    verified(home)
    leftovers = [p.name for p in current_generation(home / "index").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [] and len(list((home / "index").glob("gen-*"))) == 1


def test_ctrl_c_stops_indexing_within_2_s_workers_included(tmp_path: Path) -> None:
    home = tmp_path / "home"
    archive_only(home, 2100, seed=7)
    proc = opennews(home, "index", "--rebuild")
    deadline = time.monotonic() + 60
    while not any(p.iterdir() for p in (home / "index").glob("gen-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "the rebuild finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    started = time.monotonic()
    proc.communicate(timeout=30)
    assert time.monotonic() - started < 2.0
    assert proc.returncode == 130
    time.sleep(0.3)
    try:
        os.killpg(proc.pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "a worker outlived the interrupted rebuild"
    done = opennews(home, "index")
    done.communicate(timeout=300)
    assert done.returncode == 0
    verified(home)
