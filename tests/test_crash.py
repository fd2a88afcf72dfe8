"""kill -9 in the middle of an ingest: every committed batch is whole, nothing is half-written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson

from opennews.archive import Archive
from opennews.article import content_hash

N = 30_000
BATCH = 250


def write_input(path: Path) -> None:
    with open(path, "wb") as out:
        for i in range(N):
            rec = {
                "id": f"crash-{i:06d}",
                "title": f"Bản tin số {i} về thời tiết Hà Nội",
                "sapo": "Trời nắng nóng, nhiệt độ cao nhất 38 độ.",
                "body": "Đoạn văn thử nghiệm. " * 40,
                "source": "tinmau.example",
            }
            out.write(orjson.dumps(rec) + b"\n")


def count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_kill_9_mid_ingest_leaves_a_consistent_archive(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "big.ndjson"
    write_input(data)
    db = home / "opennews.sqlite3"
    cmd = [
        sys.executable,
        "-m",
        "opennews",
        "--home",
        str(home),
        "ingest",
        "--quiet",
        "--no-index",
        "--batch-size",
        str(BATCH),
        str(data),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while count(db) < 3 * BATCH and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "ingest finished before it could be killed; make the input bigger"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    with Archive.open(db) as archive:
        assert archive.check() == []
        kept = archive.count()
        assert 0 < kept < N
        assert kept % BATCH == 0, "only whole batches are committed"
        for raw in archive.iter_json():
            rec = orjson.loads(raw)
            assert rec["content_hash"] == content_hash(rec)
        [run] = archive.runs()
        # the log commits with its batch; a run whose process is gone reads "died", not "running"
        assert run["status"] == "died" and run["added"] == kept
        logged = archive._conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
        assert logged == kept

    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"added {N - kept:,}" in done.stdout and f"unchanged {kept:,}" in done.stdout
    with Archive.open(db, readonly=True) as archive:
        assert archive.count() == N
