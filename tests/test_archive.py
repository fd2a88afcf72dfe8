"""The archive: idempotent upserts, versions, withdrawals, the run log, the change cursor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opennews import processes
from opennews.archive import Archive, ArchiveError
from opennews.article import make_article


def art(body: str = "Nội dung.", **kw: object):
    return make_article({"url": "https://tinmau.example/a/1.html", "title": "Tiêu đề", "body": body, **kw})


@pytest.fixture
def archive(archive_target: str | Path):
    """An empty archive on each backend (see ``archive_target`` in conftest)."""
    with Archive.open(archive_target) as a:
        yield a


def test_wal_mode(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.sqlite3") as archive:
        assert archive._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_same_content_is_unchanged_and_changed_content_is_a_new_version(archive: Archive) -> None:
    assert archive.upsert_batch([art()]).statuses == ["added"]
    assert archive.upsert_batch([art()]).statuses == ["unchanged"]
    assert archive.upsert_batch([art("Nội dung đã sửa.")]).statuses == ["updated"]
    assert archive.count() == 1
    history = archive.history(art().id)
    assert [v["version"] for v in history] == [1, 2]
    assert history[-1]["current"] and not history[0]["current"]
    assert archive.version_record(art().id, 1)["body"] == "Nội dung."
    assert archive.get(art().id).body == "Nội dung đã sửa."


def test_duplicates_inside_one_batch(archive: Archive) -> None:
    result = archive.upsert_batch([art(), art(), art("Bản hai.")])
    assert result.statuses == ["added", "unchanged", "updated"]
    assert [v["version"] for v in archive.history(art().id)] == [1, 2]


def test_withdraw_keeps_a_tombstone_and_blocks_reingest(archive: Archive) -> None:
    a = art()
    archive.upsert_batch([a])
    archive.withdraw(a.id, "Quyết định của tòa án")
    assert archive.get(a.id) is None and archive.count() == 0
    tomb = archive.withdrawal(a.id)
    assert tomb["reason"] == "Quyết định của tòa án" and tomb["withdrawn_at"]
    assert archive.upsert_batch([a]).statuses == ["withdrawn"]
    assert archive.count() == 0
    assert [k for _, _, k in archive.changes_since(0)] == ["add", "withdraw"]
    with pytest.raises(ArchiveError, match="already withdrawn"):
        archive.withdraw(a.id, "again")
    archive.restore(a.id)
    assert archive.get(a.id) == a
    assert archive.check() == []


def test_purge_deletes_every_copy(archive: Archive) -> None:
    archive.upsert_batch([art()])
    archive.upsert_batch([art("Sửa.")])
    archive.withdraw(art().id, "gỡ bỏ theo yêu cầu", purge=True)
    assert archive.history(art().id) == []
    assert archive.withdrawal(art().id)["purged"] is True
    with pytest.raises(ArchiveError, match="purged"):
        archive.restore(art().id)


def test_withdraw_needs_a_known_id_and_a_reason(archive: Archive) -> None:
    with pytest.raises(ArchiveError, match="no article"):
        archive.withdraw("nope", "x")
    archive.upsert_batch([art()])
    with pytest.raises(ArchiveError, match="reason"):
        archive.withdraw(art().id, "  ")


def test_run_log_counts(archive: Archive) -> None:
    run = archive.start_run("ingest x")
    archive.upsert_batch([art()], run_id=run, rejected=2)
    archive.record_input(run, "x.ndjson", format="ndjson", added=1, rejected=2)
    archive.finish_run(run)
    [logged] = archive.runs()
    assert logged["status"] == "done" and logged["added"] == 1 and logged["rejected"] == 2
    assert logged["inputs"][0]["input"] == "x.ndjson"


def test_a_run_whose_process_is_gone_reads_died(archive: Archive, archive_target: str | Path) -> None:
    """A run started by a process killed outright reads "died", and is logged so by the
    next run; a run of a live process, or of another machine, still reads "running"."""
    code = (
        "import os, sys; from opennews.archive import Archive; "
        "a = Archive.open(sys.argv[1]); a.start_run('ingest killed'); a.close(); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", code, str(archive_target)], check=False)
    archive.start_run("ingest alive")
    other = archive.start_run("ingest elsewhere")
    archive.execute("UPDATE runs SET owner = 'another-host - 1 1' WHERE run_id = ?", (other,))
    status = {r["command"]: r["status"] for r in archive.runs()}
    assert status == {"ingest killed": "died", "ingest alive": "running", "ingest elsewhere": "running"}
    stored = dict(archive.execute("SELECT command, status FROM runs").fetchall())
    assert stored["ingest killed"] == "died", "start_run records what it found"
    assert processes.alive(processes.own_mark())
    pid, ticks = processes.own_mark().split(" ")[2:]
    assert not processes.alive(processes.own_mark().replace(f" {pid} {ticks}", f" {pid} {int(ticks) + 1}"))


def test_failed_batch_rolls_back_whole(archive: Archive) -> None:
    good = art()
    archive.upsert_batch([good])

    class Boom:  # not an Article: fails midway through the batch
        id = "boom"

    with pytest.raises(AttributeError):
        archive.upsert_batch([art("Thay đổi."), Boom()])  # type: ignore[list-item]
    assert archive.get(good.id) == good
    assert archive.history(good.id)[-1]["version"] == 1


def test_readonly_open_of_a_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archive"):
        Archive.open(tmp_path / "none.sqlite3", readonly=True)


def test_postgresql_connections_are_pooled_and_come_back_clean(postgres_cluster) -> None:
    """A process's opens of one PostgreSQL archive share a pool: the second open on borrows a
    connection given back by an earlier close, which gets it without an open transaction
    (nor the write lock of one left unfinished)."""
    url = postgres_cluster.new_database()
    Archive.open(url).close()  # the first open connects directly, then the pool exists
    with Archive.open(url) as a:
        pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        a._db.begin(write=True)  # left open: close must not hand it on like this
        a.execute("INSERT INTO meta (key, value) VALUES ('half', 'done')")
    with Archive.open(url) as b:
        assert b.execute("SELECT pg_backend_pid()").fetchone()[0] == pid
        assert not b._db.in_transaction
        assert b.execute("SELECT value FROM meta WHERE key = 'half'").fetchone() is None
        assert b.upsert_batch([art()]).statuses == ["added"]  # the write lock is free
    with Archive.open(url, readonly=True) as reader, pytest.raises(Exception, match="read-only"):
        reader.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
