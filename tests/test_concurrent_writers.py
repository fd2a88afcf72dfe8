"""Several processes writing one PostgreSQL archive at once: the union of what they wrote,
each article added once and versioned once per change, and a change log that a reader
following it during the writes sees whole (no sequence number committed behind its back)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from opennews.archive import Archive
from postgres import Cluster

WRITER = r"""
import os, sys, time
from opennews.archive import Archive
from opennews.article import make_article

url, tag, first, last, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def art(i):
    # the overlap (30..59) is written by both, each with its own text there: one adds it, the other updates it
    body = f"Bài {i}, bản {tag}." if 30 <= i < 60 else f"Bài {i}."
    return make_article({"url": f"https://tinmau.example/a/{i}.html", "title": f"Tiêu đề {i}", "body": body,
                         "ingested_at": "2024-05-01T00:00:00+00:00"})
arts = [art(i) for i in range(first, last)]
with Archive.open(url) as archive:
    run = archive.start_run(f"writer {tag}")
    while not os.path.exists(go):
        time.sleep(0.005)
    for n in range(0, len(arts), 3):
        batch = arts[n : n + 3]
        archive.upsert_batch(batch, run_id=run, fingerprints=[a.id.encode() + tag.encode() for a in batch])
    archive.finish_run(run)
"""


def test_two_writers_leave_the_union_and_a_followable_log(postgres_cluster: Cluster, tmp_path: Path) -> None:
    url = postgres_cluster.new_database()
    Archive.open(url).close()  # the schema made once, before the race
    go = tmp_path / "go"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, tag, str(first), str(last), str(go)])
        for tag, first, last in (("A", 0, 60), ("B", 30, 90))
    ]
    seen: list[tuple[int, str, str]] = []
    done = threading.Event()

    def follow() -> None:  # a reader moving its cursor while the writers commit
        with Archive.open(url, readonly=True) as reader:
            cursor = 0
            while True:
                last_round = done.is_set()
                for change in reader.changes_since(cursor):
                    seen.append(change)
                    cursor = change[0]
                if last_round:
                    return
                time.sleep(0.002)

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)  # both connected and waiting
    go.touch()
    codes = [w.wait(timeout=60) for w in writers]
    done.set()
    follower.join(timeout=30)
    assert codes == [0, 0]

    with Archive.open(url, readonly=True) as archive:
        assert archive.count() == 90
        log = archive.changes_since(0)
        kinds: dict[str, list[str]] = {}
        for _, article_id, kind in log:
            kinds.setdefault(article_id, []).append(kind)
        assert len(kinds) == 90
        overlap = {archive.get_record(i)["url"].rsplit("/", 1)[1] for i, k in kinds.items() if k == ["add", "update"]}
        assert overlap == {f"{i}.html" for i in range(30, 60)}
        assert all(k in (["add"], ["add", "update"]) for k in kinds.values())
        for article_id, k in kinds.items():
            assert [v["version"] for v in archive.history(article_id)] == [1, 2][: len(k)]
        assert sum(r["added"] + r["updated"] + r["unchanged"] for r in archive.runs()) == 120
    assert seen == log, "the follower saw every change, in the log's order"
    assert [s for s, _, _ in log] == sorted({s for s, _, _ in log})


OPENER = r"""
import os, sys, time
from opennews.archive import Archive
url, go = sys.argv[1], sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.002)
with Archive.open(url) as archive:
    print(archive.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
"""


def test_processes_opening_a_new_database_at_once_make_its_schema_once(
    postgres_cluster: Cluster, tmp_path: Path
) -> None:
    """The schema's steps run under the write lock, and a process that waited for it finds
    them done: no "relation already exists" for the ones that lost the race."""
    from opennews.schema import SCHEMA_VERSION

    url = postgres_cluster.new_database()
    go = tmp_path / "go"
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, url, str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=60) for p in openers]
    assert [p.returncode for p in openers] == [0, 0, 0, 0]
    assert [out.strip() for out, _ in outs] == [str(SCHEMA_VERSION)] * 4


def test_two_ingests_of_overlapping_files_leave_exactly_the_union(postgres_cluster: Cluster, tmp_path: Path) -> None:
    """``opennews ingest`` from two homes into one PostgreSQL archive at once, the files
    sharing a third of their articles: every article once, at version 1, one "add" each."""
    import orjson

    url = postgres_cluster.new_database()
    Archive.open(url).close()

    def record(i: int) -> bytes:
        fields = {"url": f"https://tinmau.example/b/{i}.html", "title": f"Tin {i}", "body": f"Nội dung tin {i}."}
        return orjson.dumps(fields) + b"\n"

    files = []
    for name, numbers in (("a", range(0, 300)), ("b", range(200, 500))):
        path = tmp_path / f"{name}.ndjson"
        path.write_bytes(b"".join(record(i) for i in numbers))
        files.append((tmp_path / f"home-{name}", path))
    ingests = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opennews",
                "--home",
                str(home),
                "--database",
                url,
                "ingest",
                "--quiet",
                "--no-index",
                "--no-dumps",
                "--batch-size",
                "20",
                str(path),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for home, path in files
    ]
    results = [p.communicate(timeout=120) for p in ingests]
    assert [p.returncode for p in ingests] == [0, 0], [err for _, err in results]
    with Archive.open(url, readonly=True) as archive:
        assert archive.count() == 500
        log = archive.changes_since(0)
        assert len(log) == 500 and {k for _, _, k in log} == {"add"} and len({i for _, i, _ in log}) == 500
        assert archive.stats()["versions"] == 0
        runs = archive.runs()
        assert len(runs) == 2 and all(r["status"] == "done" for r in runs)
        assert sum(r["added"] for r in runs) == 500 and sum(r["unchanged"] for r in runs) == 100
