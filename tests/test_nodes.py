"""One PostgreSQL archive, several machines: web nodes that follow it, each with its own home.

Real processes on 127.0.0.1: two ``opennews serve`` nodes with separate homes on one
throwaway PostgreSQL database, and the changes made from other homes with the command
line (``opennews --database URL --home H ingest …``), as ingest workers on other machines
would. What a node shows is read over HTTP: ``/api/search``, a feed, and the static feed
and dump files its own follower wrote into its own home.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import httpx
import orjson
import pytest

from opennews.archive import Archive
from postgres import Cluster
from tools import within
from webhome import free_port, serving

#: The issue's promise: a change made on any machine reaches every node within this.
REACH = 15.0
SOURCE = "maytinh.example"


def record(n: int, word: str = "") -> dict[str, object]:
    return {
        "id": f"node-{n:04d}",
        "url": f"https://{SOURCE}/bai-{n}.html",
        "source": SOURCE,
        "category": "Công nghệ",
        "title": f"Bản tin số {n} về mạng máy tính {word}".strip(),
        "body": f"Nội dung bản tin số {n}: máy chủ, cơ sở dữ liệu và mạng. {word}".strip(),
        "published": f"2025-10-{1 + n % 28:02d}T08:00:00+07:00",
    }


def write_records(path: Path, records: Iterable[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def opennews(url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command from another machine's home, the database given as a flag."""
    env = {k: v for k, v in os.environ.items() if k != "OPENNEWS_DATABASE_URL"}
    cmd = [sys.executable, "-m", "opennews", "--database", url, "--home", str(home), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)


def start(command: list[str]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENNEWS_DATABASE_URL"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def ids_found(base: str, q: str) -> set[str]:
    answer = httpx.get(base + "/api/search", params={"q": q, "limit": 100}, timeout=10).json()
    return {r["id"] for r in answer["results"]}


def total(base: str) -> int:
    return int(httpx.get(base + "/api/search", params={"q": ""}, timeout=10).json()["total"])


def static_feed(home: Path) -> str:
    path = home / "feeds" / "source" / f"{SOURCE}.rss"
    return path.read_text() if path.exists() else ""


def dumped(home: Path) -> str:
    path = home / "dumps" / "articles-all.ndjson.gz"
    return gzip.decompress(path.read_bytes()).decode() if path.exists() else ""


def test_nodes_follow_one_postgresql_archive(postgres_cluster: Cluster, tmp_path: Path) -> None:
    url = postgres_cluster.new_database()
    worker = tmp_path / "worker"  # an ingest machine's home
    first = write_records(tmp_path / "first.ndjson", (record(n) for n in range(20)))
    done = opennews(url, worker, "ingest", "--quiet", str(first))
    assert done.returncode == 0, done.stderr

    homes = [tmp_path / "node-a", tmp_path / "node-b"]
    port_b = free_port()
    # node A is given the database as a flag, node B in its environment: both reach its child syncs
    with (
        serving(homes[0], database=url, log=tmp_path / "a.log") as a,
        serving(homes[1], env={"OPENNEWS_DATABASE_URL": url}, port=port_b, log=tmp_path / "b.log") as b,
    ):
        nodes = [a, b]
        # each built its index and static feeds on first start, from the shared archive, before
        # it listened, and its dumps right after (its follower's first look)
        assert [total(n) for n in nodes] == [20, 20]
        for home in homes:
            assert "node-0007" in static_feed(home)
            within(REACH, lambda home=home: "node-0007" in dumped(home), f"{home.name}'s first dumps")
            assert not (home / "opennews.sqlite3").exists()

        # an ingest on another machine reaches both nodes' search, a feed, their static feeds and dumps
        fresh = write_records(tmp_path / "fresh.ndjson", [record(100, "tanphat")])
        assert opennews(url, worker, "ingest", "--quiet", str(fresh)).returncode == 0
        for node, home in zip(nodes, homes, strict=True):
            within(REACH, lambda node=node: ids_found(node, "tanphat") == {"node-0100"}, f"{node} finds the ingest")
            feed = httpx.get(node + "/feeds/latest.json", timeout=10).json()
            assert "node-0100" in {item["id"].rsplit(":", 1)[-1] for item in feed["items"]}
            within(REACH, lambda home=home: "node-0100" in static_feed(home), f"{home.name}'s static feed")
            within(REACH, lambda home=home: "node-0100" in dumped(home), f"{home.name}'s dumps")

        # a withdrawal on another machine leaves every node within the same time
        gone = opennews(url, worker, "withdraw", "node-0003", "--reason", "Yêu cầu gỡ bài")
        assert gone.returncode == 0, gone.stderr
        for node, home in zip(nodes, homes, strict=True):
            within(REACH, lambda node=node: total(node) == 20, f"{node} drops the withdrawn article")
            assert httpx.get(node + "/api/articles/node-0003", timeout=10).status_code == 410
            within(REACH, lambda home=home: "node-0003" not in static_feed(home), f"{home.name}'s static feed")
            within(REACH, lambda home=home: '"node-0003"' not in dumped(home), f"{home.name}'s dumps")

    # node B is down while two workers ingest overlapping inputs at once; node A follows
    with serving(homes[0], database=url, log=tmp_path / "a2.log") as a:
        left = write_records(tmp_path / "left.ndjson", (record(n, "chung") for n in range(200, 240)))
        right = write_records(tmp_path / "right.ndjson", (record(n, "chung") for n in range(220, 260)))
        ingest = [sys.executable, "-m", "opennews", "--database", url, "ingest", "--quiet", "--batch-size", "5"]
        racers = [
            start([*ingest, "--home", str(h), str(data)]) for h, data in ((worker, left), (tmp_path / "w2", right))
        ]
        assert [p.wait(timeout=60) for p in racers] == [0, 0], [p.communicate()[1] for p in racers]
        union = {f"node-{n:04d}" for n in range(200, 260)}
        with Archive.open(url, readonly=True) as archive:
            assert archive.count() == 20 + 60
            added = [i for _, i, kind in archive.changes_since(0) if kind == "add" and i in union]
            assert sorted(added) == sorted(union), "each article of the overlap added once"
        within(REACH, lambda: ids_found(a, "chung") == union, "node A finds exactly the union")

    # node B comes back: its search catches up before it answers, its dumps right after, and
    # then it follows again
    with serving(homes[1], env={"OPENNEWS_DATABASE_URL": url}, port=port_b, log=tmp_path / "b2.log") as b:
        assert ids_found(b, "chung") == union
        assert total(b) == 80
        within(REACH, lambda: "node-0259" in dumped(homes[1]), "the restarted node's dumps")
        late = write_records(tmp_path / "late.ndjson", [record(300, "muonmang")])
        assert opennews(url, worker, "ingest", "--quiet", str(late)).returncode == 0
        within(REACH, lambda: ids_found(b, "muonmang") == {"node-0300"}, "the restarted node follows")


def test_a_node_given_a_read_url_reads_only_there(postgres_cluster: Cluster, tmp_path: Path) -> None:
    """``OPENNEWS_DATABASE_READ_URL`` (here the same database under another application name,
    standing in for a replica): the node's pages, search, follower and syncs read there and
    hold no connection to the primary; changes written to the primary still reach it."""
    import psycopg

    url = postgres_cluster.new_database()
    replica = url + "?application_name=opennews_replica"
    worker = tmp_path / "worker"
    data = write_records(tmp_path / "first.ndjson", (record(n) for n in range(5)))
    assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(data)).returncode == 0
    env = {"OPENNEWS_DATABASE_READ_URL": replica}
    with serving(tmp_path / "node", database=url, env=env, log=tmp_path / "node.log") as node:
        assert total(node) == 5 and httpx.get(node + "/api/articles/node-0002", timeout=10).status_code == 200
        late = write_records(tmp_path / "late.ndjson", [record(50, "bansao")])
        assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(late)).returncode == 0
        within(REACH, lambda: ids_found(node, "bansao") == {"node-0050"}, "a change reaches the node")
        with psycopg.connect(url, application_name="the_test") as conn:
            names = [
                name
                for (name,) in conn.execute(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        assert names and set(names) == {"opennews_replica"}, names


def test_a_read_url_needs_its_primary() -> None:
    from opennews.settings import Settings

    with pytest.raises(ValueError, match="OPENNEWS_DATABASE_URL"):
        Settings.from_env("h", {"OPENNEWS_DATABASE_READ_URL": "postgresql://db/x"})
    both = Settings.from_env(
        "h", {"OPENNEWS_DATABASE_URL": "postgresql://a/x", "OPENNEWS_DATABASE_READ_URL": "postgresql://b/x"}
    )
    assert (both.archive_target, both.read_target) == ("postgresql://a/x", "postgresql://b/x")
    assert Settings.from_env("h", {}).read_target == Path("h") / "opennews.sqlite3"


def test_a_node_whose_connections_the_server_ends_reconnects(postgres_cluster: Cluster, tmp_path: Path) -> None:
    """The database ends every session of the node (as a restart or a fail-over does): the node
    answers again within seconds, on new connections, and goes on following the change log."""
    import psycopg

    url = postgres_cluster.new_database()
    worker = tmp_path / "worker"
    data = write_records(tmp_path / "first.ndjson", (record(n) for n in range(5)))
    assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(data)).returncode == 0
    with serving(tmp_path / "node", database=url, log=tmp_path / "node.log") as node:
        assert total(node) == 5
        assert httpx.get(node + "/feeds/latest.json", timeout=10).status_code == 200
        with psycopg.connect(url, autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 2  # the node's page and search connections at least
        late = write_records(tmp_path / "late.ndjson", [record(60, "noilai")])
        assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(late)).returncode == 0

        def answers() -> bool:
            pages = [httpx.get(node + path, timeout=10) for path in ("/healthz", "/api/articles/node-0001")]
            feed = httpx.get(node + "/feeds/latest.json", timeout=10)
            return all(r.status_code == 200 for r in pages) and feed.status_code == 200

        within(10, answers, "the node answers again")
        within(REACH, lambda: ids_found(node, "noilai") == {"node-0060"}, "and follows the log again")
        assert total(node) == 6


def test_a_dumps_rewrite_does_not_hold_up_the_index(postgres_cluster: Cluster, tmp_path: Path) -> None:
    """The dumps have a lock of their own: while they are being written (here: their lock held),
    a new article still reaches the node's search and static feeds; the dumps follow once free."""
    from opennews.locks import FileLock

    url = postgres_cluster.new_database()
    worker, home = tmp_path / "worker", tmp_path / "node"
    data = write_records(tmp_path / "first.ndjson", (record(n) for n in range(5)))
    assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(data)).returncode == 0
    with serving(home, database=url, log=tmp_path / "node.log") as node:
        dumps_lock = FileLock(home / ".dumps.lock", "dumps (held by the test)")
        dumps_lock.acquire()
        try:
            late = write_records(tmp_path / "late.ndjson", [record(70, "khongcho")])
            assert opennews(url, worker, "ingest", "--quiet", "--no-index", "--no-dumps", str(late)).returncode == 0
            within(REACH, lambda: ids_found(node, "khongcho") == {"node-0070"}, "the index does not wait")
            within(REACH, lambda: "node-0070" in static_feed(home), "nor do the static feeds")
            assert "node-0070" not in dumped(home)
        finally:
            dumps_lock.release()
        within(REACH, lambda: "node-0070" in dumped(home), "the dumps follow once they may")
