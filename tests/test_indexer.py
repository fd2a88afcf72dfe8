"""The index follows the archive: incremental updates, rebuilds, verify, crashes, concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from opennews.archive import Archive
from opennews.article import make_article
from opennews.demo import generate
from opennews.search import Indexer, Searcher, SearchRequest
from opennews.search.indexer import current_generation
from opennews.search.schema import SCHEMA_VERSION

Cli = Callable[..., tuple[int, str, str]]


def article(i: int, body: str = "Nội dung.") -> object:
    return make_article({"id": f"a-{i}", "title": f"Bản tin Cần Thơ số {i}", "body": body, "source": "x.example"})


def test_incremental_update_follows_adds_changes_and_withdrawals(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        indexer = Indexer(tmp_path / "index", archive)
        archive.upsert_batch([article(i) for i in range(5)])
        assert indexer.update().mode == "rebuild"  # no index yet
        with Searcher(tmp_path / "index", archive) as searcher:
            assert searcher.search(SearchRequest(q="can tho")).total == 5
            archive.upsert_batch([article(5), article(1, "Nội dung có sông Hậu.")])
            archive.withdraw("a-2", "gỡ theo yêu cầu")
            report = indexer.update()
            assert (report.mode, report.indexed, report.deleted) == ("update", 2, 1)
            assert indexer.verify().ok
            # the open searcher sees the commit without being reopened
            assert searcher.search(SearchRequest(q="can tho")).total == 5
            assert [h.id for h in searcher.search(SearchRequest(q="song hau")).hits] == ["a-1"]
            assert "a-2" not in [h.id for h in searcher.search(SearchRequest(q="can tho")).hits]
        assert indexer.update().indexed == 0  # nothing new


def test_verify_names_what_differs(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.upsert_batch([article(i) for i in range(3)])
        indexer = Indexer(tmp_path / "index", archive)
        assert not indexer.verify().ok and indexer.verify().missing == ["a-0", "a-1", "a-2"]
        indexer.rebuild()
        assert indexer.verify().ok
        archive.upsert_batch([article(3), article(0, "Đã sửa.")])
        archive.withdraw("a-1", "x")
        report = indexer.verify()
        assert (report.missing, report.extra, report.stale) == (["a-3"], ["a-1"], ["a-0"])
        indexer.update()
        assert indexer.verify().ok


def test_rebuild_swaps_under_an_open_searcher(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.upsert_batch([article(i) for i in range(4)])
        indexer = Indexer(tmp_path / "index", archive)
        indexer.rebuild()
        with Searcher(tmp_path / "index", archive) as searcher:
            assert searcher.search(SearchRequest(q="can tho")).total == 4
            archive.upsert_batch([article(9)])
            indexer.rebuild()
            assert searcher.search(SearchRequest(q="can tho")).total == 5
        generations = sorted(p.name for p in (tmp_path / "index").glob("gen-*"))
        assert generations == [current_generation(tmp_path / "index").name]  # the old one is gone


def test_an_index_of_another_schema_version_is_refused_then_rebuilt(tmp_path: Path) -> None:
    """Stored documents change form between schema versions: reading an older index would
    fail mid-query, so the searcher refuses it by name and the next update rebuilds it."""
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        archive.upsert_batch([article(i) for i in range(3)])
        indexer = Indexer(tmp_path / "index", archive)
        indexer.rebuild()
        state_file = current_generation(tmp_path / "index") / "state.json"
        state = orjson.loads(state_file.read_bytes())
        state_file.write_bytes(orjson.dumps({**state, "schema": SCHEMA_VERSION - 1}))
        with pytest.raises(FileNotFoundError, match=r"another version.*opennews index --rebuild"):
            Searcher(tmp_path / "index", archive)
        assert indexer.update().mode == "rebuild"
        with Searcher(tmp_path / "index", archive) as searcher:
            assert searcher.search(SearchRequest(q="can tho")).total == 3


def _demo_archive(home: Path, n: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    from opennews.archive import to_row

    with Archive.open(home / "opennews.sqlite3") as archive:
        archive.upsert_batch([to_row(make_article(r)) for r in generate(n, seed=5)])


def test_kill_9_during_rebuild_keeps_the_old_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _demo_archive(home, 300)
    cmd = [sys.executable, "-m", "opennews", "--home", str(home), "index", "--rebuild", "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True)
    with Archive.open(home / "opennews.sqlite3") as archive:
        archive.upsert_batch([make_article(r) for r in generate(1500, seed=6)])
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = current_generation(home / "index")
    deadline = time.monotonic() + 60

    def building() -> bool:
        return any(p != live and any(p.iterdir()) for p in (home / "index").glob("gen-*"))

    while not building() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "rebuild finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        with Searcher(home / "index", archive) as searcher:  # the old index still answers
            assert searcher.doc_count == 300
        report = Indexer(home / "index", archive).verify()
        assert report.index_count == 300 and len(report.missing) == 1500
    subprocess.run([sys.executable, "-m", "opennews", "--home", str(home), "index", "--quiet"], check=True)
    verify = subprocess.run(
        [sys.executable, "-m", "opennews", "--home", str(home), "verify"], capture_output=True, text=True
    )
    assert verify.returncode == 0 and "agree" in verify.stdout


def test_searching_keeps_working_while_the_indexer_writes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _demo_archive(home, 200)
    with Archive.open(home / "opennews.sqlite3") as archive:
        Indexer(home / "index", archive).rebuild()
    errors: list[BaseException] = []
    counts: list[int] = []
    stop = threading.Event()

    def search_loop() -> None:
        archive = Archive.open(home / "opennews.sqlite3", readonly=True)
        try:
            with Searcher(home / "index", archive) as searcher:
                while not stop.is_set():
                    counts.append(searcher.search(SearchRequest(q="", facets=False)).total)
        except BaseException as exc:
            errors.append(exc)
        finally:
            archive.close()

    thread = threading.Thread(target=search_loop)
    thread.start()
    try:
        with Archive.open(home / "opennews.sqlite3") as archive:
            indexer = Indexer(home / "index", archive)
            for round_ in range(3):
                archive.upsert_batch([make_article(r) for r in generate(100, seed=100 + round_)])
                indexer.update()
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert counts and counts == sorted(counts) and counts[-1] == 500


def test_cli_ingest_updates_index_and_search_answers(cli: Cli, home: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.ndjson"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate(120, seed=8)))
    code, _, _ = cli("ingest", "--quiet", str(data))
    assert code == 0
    code, out, _ = cli("verify")
    assert code == 0 and "agree" in out
    code, out, _ = cli("search", "--json", "thanh pho", "--limit", "3")
    response = orjson.loads(out)
    assert response["total"] > 0 and len(response["results"]) == 3
    assert {"id", "title", "url", "source", "published", "snippet", "score"} <= set(response["results"][0])
    code, out, _ = cli("search", "ha noi")
    assert code == 0 and "result" in out


def test_cli_batch_search_writes_one_json_line_per_query(home: Path, tmp_path: Path) -> None:
    _demo_archive(home, 150)
    subprocess.run([sys.executable, "-m", "opennews", "--home", str(home), "index", "--quiet"], check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "opennews", "--home", str(home), "search", "--batch", "--limit", "5"],
        input='ha noi\n\nvieetj nam\n"unbalanced\n',
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["ha noi", "vieetj nam", '"unbalanced']
    assert all({"query", "total", "results", "suggestion"} <= set(r) for r in rows)
    assert rows[0]["total"] > 0 and len(rows[0]["results"]) <= 5
    assert {"id", "title", "score"} <= set(rows[0]["results"][0])
    assert rows[1]["suggestion"] == "việt nam"


def test_segments_are_plain_files_so_searchers_share_the_page_cache(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        archive.upsert_batch([make_article(r) for r in generate(60, seed=3)])
        Indexer(tmp_path / "index", archive).rebuild()
    names = [p.name for p in current_generation(tmp_path / "index").iterdir()]
    assert any(n.endswith(".pst") for n in names) and not any(n.endswith(".seg") for n in names)


def test_postings_sorted_through_disk_runs_index_the_same(tmp_path: Path) -> None:
    """A small memory limit makes the term pool spill sorted runs to disk and merge them term
    by term: the index must hold exactly what one kept in memory holds."""
    from opennews.search.termpool import TermPool

    _demo_archive(tmp_path, 300)
    saved: list[int] = []
    original = TermPool.save

    def counted(pool: TermPool) -> None:
        saved.append(len(pool._terms))
        original(pool)

    with Archive.open(tmp_path / "opennews.sqlite3") as archive:
        Indexer(tmp_path / "memory", archive, procs=1).rebuild()
        TermPool.save = counted  # type: ignore[method-assign]
        try:
            Indexer(tmp_path / "runs", archive, procs=1, limitmb=1).rebuild()
        finally:
            TermPool.save = original  # type: ignore[method-assign]
        assert len([n for n in saved if n]) > 3, "the pool never wrote a run"
        with Searcher(tmp_path / "memory", archive) as a, Searcher(tmp_path / "runs", archive) as b:
            ra, rb = a._searcher.reader(), b._searcher.reader()
            terms = list(ra.all_terms())
            assert terms == list(rb.all_terms()) and len(terms) > 1000
            for field, text in terms[:: max(1, len(terms) // 500)]:
                assert list(ra.postings(field, text).all_ids()) == list(rb.postings(field, text).all_ids())
            for q in ("thuy dien", "hà nội", "giá vàng"):
                assert [h.id for h in a.search(SearchRequest(q=q)).hits] == [
                    h.id for h in b.search(SearchRequest(q=q)).hits
                ]
