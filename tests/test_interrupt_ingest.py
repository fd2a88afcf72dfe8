"""Stopping an ingest from outside: Ctrl-C stops it at once, kill -9 takes its workers with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import orjson
import pytest

from opennews.archive import Archive
from test_crash import count  # articles committed so far, read without a lock the ingest needs
from tools import default_signals

# Big enough that the run is still going after a few batches, small enough that
# the run that finishes the job takes a few seconds.
N = 12_000
BATCH = 250


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "big.ndjson"
    with open(path, "wb") as out:
        for i in range(N):
            rec = {
                "id": f"stop-{i:06d}",
                "title": f"Bản tin số {i} về thời tiết Hà Nội",
                "body": "Trời nắng nóng, nhiệt độ cao nhất 38 độ. " * 3,
                "source": "tinmau.example",
            }
            out.write(orjson.dumps(rec) + b"\n")
    return path


def ingest_command(home: Path, data: Path) -> list[str]:
    return [
        sys.executable,
        *("-m", "opennews", "--home", str(home), "ingest", "--no-index", "--no-dumps"),
        *("--batch-size", str(BATCH), str(data)),
    ]


def processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every live process; zombies are dead already."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = (Path("/proc") / entry / "stat").read_text()
        except OSError:
            continue
        state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if state not in ("Z", "X"):
            yield int(entry), int(ppid), int(pgrp)


def alive(pids: set[int], *, within: float) -> set[int]:
    """Those of ``pids`` still running after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = {pid for pid, _, _ in processes() if pid in pids}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def start_and_wait_for_batches(home: Path, data: Path) -> subprocess.Popen[bytes]:
    """Start an ingest in its own process group, as a shell does; return once 3 batches are in."""
    db = home / "opennews.sqlite3"
    proc = subprocess.Popen(
        ingest_command(home, data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    deadline = time.monotonic() + 60
    while count(db) < 3 * BATCH and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert proc.poll() is None, "ingest finished before it could be stopped; make the input bigger"
    return proc


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_ctrl_c_stops_the_ingest_and_its_workers_at_once(tmp_path: Path, big_input: Path) -> None:
    home = tmp_path / "home"
    proc = start_and_wait_for_batches(home, big_input)
    try:
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        started = time.monotonic()
        _, err = proc.communicate(timeout=2)
        assert time.monotonic() - started < 2
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert b"interrupted; every committed batch is safe" in err and b"Traceback" not in err
    assert alive({pid for pid, _, pgrp in processes() if pgrp == proc.pid}, within=1.0) == set()

    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert archive.check() == []
        kept = archive.count()
        assert 0 < kept < N
        assert kept % BATCH == 0, "only whole batches are committed"
        [run] = archive.runs()
        assert run["status"] == "interrupted" and run["finished_at"]
        assert run["added"] == kept
        assert archive._conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == kept

    done = subprocess.run(ingest_command(home, big_input), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"added {N - kept:,}" in done.stdout and f"unchanged {kept:,}" in done.stdout
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert archive.count() == N
        assert [r["status"] for r in archive.runs()] == ["done", "interrupted"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="validation runs in worker processes only with 2+ CPUs")
def test_kill_9_of_the_ingest_takes_its_workers_with_it(tmp_path: Path, big_input: Path) -> None:
    proc = start_and_wait_for_batches(tmp_path / "home", big_input)
    try:
        workers = {pid for pid, ppid, _ in processes() if ppid == proc.pid}
        assert workers, "the ingest should validate in worker processes"
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, not its group
        proc.wait()
        assert alive(workers, within=2.0) == set()
    finally:
        with suppress(ProcessLookupError):  # whatever is left, so a failure does not leak processes
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_end_the_run_as_interrupted(tmp_path: Path, big_input: Path, signum: int) -> None:
    """Their default action ends the process on the spot, which left the run "running"."""
    home = tmp_path / "home"
    proc = start_and_wait_for_batches(home, big_input)
    try:
        workers = {pid for pid, ppid, _ in processes() if ppid == proc.pid}
        os.kill(proc.pid, signum)  # the main process only, as kill(1) or a service manager does
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + signum, err.decode()
    assert b"interrupted; every committed batch is safe" in err and b"Traceback" not in err
    assert alive(workers, within=1.0) == set()
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        [run] = archive.runs()
        assert run["status"] == "interrupted" and run["finished_at"]
        assert run["added"] == archive.count() and archive.count() % BATCH == 0
