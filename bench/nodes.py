"""One archive, many machines: ingest into SQLite and PostgreSQL, a change reaching web nodes, search under load.

    python bench/nodes.py                       # 1,000 articles of the shared corpus, a throwaway cluster
    python bench/nodes.py --limit 10000 --repeats 20 --duration 20

A throwaway PostgreSQL cluster is started for the run (initdb into a temporary folder, as
the tests do, but with fsync and synchronous commits on, as a production server has them:
the comparison is with SQLite's ``synchronous = FULL``), or ``--database URL`` names an
empty database to use. Then, in one run:

* **ingest**: the first ``--limit`` articles of ../shared/corpus/vi-news.ndjson.gz through
  the Archive API (the archive only: no index, feeds nor dumps), into a SQLite file and
  into PostgreSQL, same input, same batches; articles/s of each;
* **idle cost** of a node's follower: the round trip of its one question (the change log's
  last sequence) on a kept connection, and the node's CPU (all its processes) over
  ``--idle`` seconds with nothing happening;
* **reach**: one article ingested into PostgreSQL from this process (as an ingest worker
  on another machine would), then both nodes' ``/api/search`` polled every 20 ms until
  it is found there; ``--repeats`` times, each once both nodes' homes are up to date (a
  change that arrives while a sync is still writing dumps waits for it: that is the sync's
  cost, timed next), p50/p95/max of the seconds from the commit to each node, and to the
  last of them; then **back to back**: each change as soon as the one before was found,
  its dumps still being written (they have a lock and a child sync of their own, so the
  index need not wait for them);
* **one change's sync**: what a node's follower runs for one new article, ``opennews
  sync`` of its home, by part (index, static feeds, dumps) and in all;
* **search under load**: ``--connections`` keep-alive connections of distinct queries
  (pieces of headlines) on one node, then shared between two nodes, each node with one
  worker and its own home and index: requests/s and p50/p95; then the one node again, as
  warm as the two were, so that the order of the loads is not what differs. A node with one
  worker is one Python process and uses about one core: on this 2-core machine the second
  node uses the second core (as one node with ``--workers 2`` may; not measured here), shared with the load
  generator and PostgreSQL, so the figure says what a second process adds on the same
  machine, not what a second machine would (that scales with the machines, the database
  being asked only for the stored articles of a page).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "vi-news.ndjson.gz"
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "tests"))

from loadgen import free_port, hammer, tree_cpu_seconds, wait_for  # noqa: E402
from opennews.archive import Archive  # noqa: E402
from opennews.ingest import IngestOptions, ingest  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def write_input(path: Path, limit: int) -> int:
    n = 0
    with gzip.open(CORPUS, "rb") as src, path.open("wb") as out:
        for line in src:
            if n >= limit:
                break
            out.write(line if line.endswith(b"\n") else line + b"\n")
            n += 1
    return n


def timed_ingest(target: str | Path, data: Path, rejects: Path) -> tuple[float, int]:
    """Seconds to ingest ``data`` into the archive at ``target``, and the articles it then holds."""
    with Archive.open(target) as archive:
        started = time.perf_counter()
        ingest(archive, [str(data)], rejects_path=rejects, options=IngestOptions())
        seconds = time.perf_counter() - started
        return seconds, archive.count()


def start_node(home: Path, url: str, log: Path, started: list[subprocess.Popen[bytes]]) -> str:
    """Start a node (added to ``started`` at once, to be stopped whatever happens) and wait for it."""
    port = free_port()
    cmd = [sys.executable, "-m", "opennews", "--database", url, "--home", str(home), "serve", "--port", str(port)]
    out = log.open("wb")
    proc = subprocess.Popen([*cmd, "--no-access-log", "--log-level", "warning"], stdout=out, stderr=subprocess.STDOUT)
    started.append(proc)
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/healthz", proc, timeout=600)
    return base


def queries_from(url: str, count: int, seed: int = 7) -> list[str]:
    """2–5 neighbouring words of headlines, about half without marks, several per headline,
    ``count`` distinct ones at most: a load that asks more than that repeats some, and a
    repeated query is answered from the node's memory (the table says how many there were)."""
    from opennews.vietnamese import fold

    rng = random.Random(seed)
    with Archive.open(url, readonly=True) as archive:
        ids = sorted(i for i, _ in archive.id_hashes())
        records = list(archive.get_records(ids).values())
    out: dict[str, None] = {}
    for _ in range(8):
        for rec in records:
            words = [w for w in rec["title"].split() if any(c.isalpha() for c in w)]
            if len(words) >= 2:
                size = rng.randint(2, min(5, len(words)))
                start = rng.randrange(len(words) - size + 1)
                q = " ".join(words[start : start + size])
                out[fold(q) if rng.random() < 0.5 else q] = None
        if len(out) >= count:
            break
    return list(out)[:count]


def settled(url: str, homes: list[Path], timeout: float = 120.0) -> None:
    """Wait until every node's home reflects the archive (its last sync, dumps included, done)."""
    from opennews.home import Home
    from opennews.settings import Settings

    deadline = time.monotonic() + timeout
    while any(Home(Settings(home, url)).behind() for home in homes):
        if time.monotonic() > deadline:
            raise SystemExit("the nodes' homes did not catch up")
        time.sleep(0.1)
    time.sleep(0.6)  # the follower's child has exited and its next look found nothing to do


def reach(
    url: str, nodes: list[str], homes: list[Path], repeats: int, workdir: Path, *, settle: bool = True
) -> list[list[float]]:
    """Per repeat: seconds from the commit of one article to its being found on each node,
    each change made once the nodes' homes are up to date (see :func:`settled`), or, without
    ``settle``, as soon as the one before was found (its dumps still being written)."""
    out: list[list[float]] = []
    tag = "s" if settle else "b"
    with httpx.Client(timeout=10) as client:
        for n in range(repeats):
            if settle:
                settled(url, homes)
            word = f"dauvet{tag}{n}x{random.randrange(10**6)}"
            data = workdir / f"reach-{n}.ndjson"
            rec = {
                "id": f"reach-{n}-{word}",
                "source": "dauvet.example",
                "title": f"Bài đo số {n} {word}",
                "body": f"Nội dung bài đo {word}.",
                "published": "2025-12-01T08:00:00+07:00",
            }
            data.write_bytes(orjson.dumps(rec) + b"\n")
            with Archive.open(url) as archive:
                ingest(archive, [str(data)], rejects_path=workdir / "rejects.ndjson", options=IngestOptions())
            committed = time.perf_counter()
            times: list[float | None] = [None] * len(nodes)
            while any(t is None for t in times):
                for i, base in enumerate(nodes):
                    if times[i] is None:
                        found = client.get(base + "/api/search", params={"q": word}).json()["total"]
                        if found:
                            times[i] = time.perf_counter() - committed
                if time.perf_counter() - committed > 60:
                    raise SystemExit(f"a change did not reach every node in 60 s: {times}")
                time.sleep(0.02)
            out.append([t for t in times if t is not None])
    return out


def one_change_sync(url: str, home: Path, workdir: Path) -> str:
    """What the follower's child does for one new article: ``opennews sync`` of a home one change
    behind (its node stopped), timed by part as the sync reports them, and in all (interpreter
    start included)."""
    data = workdir / "one.ndjson"
    rec = {"id": "one-change", "source": "dauvet.example", "title": "Bài đo một thay đổi", "body": "Nội dung."}
    data.write_bytes(orjson.dumps(rec) + b"\n")
    with Archive.open(url) as archive:
        ingest(archive, [str(data)], rejects_path=workdir / "rejects.ndjson", options=IngestOptions())
    cmd = [sys.executable, "-m", "opennews", "--database", url, "--home", str(home), "sync", "--json"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=True)
    seconds = time.perf_counter() - started
    parts = ", ".join(f"{p['name']} {p['seconds']:.2f}" for p in orjson.loads(done.stdout)["parts"])
    return f"{parts}; {seconds:.2f} s in all"


def idle_cost(url: str, node: subprocess.Popen[bytes], seconds: float) -> tuple[float, float]:
    """(ms per look at the log's position on a kept connection, node CPU % while idle)."""
    with Archive.open(url, readonly=True) as archive:
        archive.last_seq()
        started = time.perf_counter()
        for _ in range(1000):
            archive.last_seq()
        per_look = (time.perf_counter() - started) / 1000 * 1000
    cpu0 = tree_cpu_seconds(node.pid)
    time.sleep(seconds)
    return per_look, (tree_cpu_seconds(node.pid) - cpu0) / seconds * 100


def load(urls: list[str], connections: int, duration: float) -> tuple[float, float, float, int]:
    samples = asyncio.run(hammer(urls, connections, duration, warmup=2.0))
    ok = [ms for status, ms in samples if status == 200]
    return len(samples) / duration, pct(ok, 50), pct(ok, 95), len(samples) - len(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="articles of the corpus (default 1000)")
    parser.add_argument("--database", metavar="URL", help="an empty PostgreSQL database (default: a throwaway cluster)")
    parser.add_argument("--repeats", type=int, default=8, help="changes timed reaching the nodes (default 8)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds the idle node is watched (default 10)")
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"no corpus at {CORPUS}")
    work = Path(tempfile.mkdtemp(prefix="opennews-nodes-"))
    cluster = top = None
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        url = args.database
        if url is None:
            import postgres

            cluster, reason, top = postgres.start(durable=True)
            if cluster is None:
                raise SystemExit(f"PostgreSQL: {reason}")
            url = cluster.new_database()
        data = work / "input.ndjson"
        count = write_input(data, args.limit)
        print(f"input: {count:,} articles of {CORPUS.name}; PostgreSQL: durable commits", file=sys.stderr)
        rows: list[tuple[str, str]] = []
        sqlite_s, sqlite_n = timed_ingest(work / "opennews.sqlite3", data, work / "rejects.ndjson")
        pg_s, pg_n = timed_ingest(url, data, work / "rejects.ndjson")
        rows += [
            ("ingest into SQLite (archive only)", f"{sqlite_n / sqlite_s:,.0f} articles/s ({sqlite_s:.2f} s)"),
            ("ingest into PostgreSQL (archive only)", f"{pg_n / pg_s:,.0f} articles/s ({pg_s:.2f} s)"),
        ]
        print("starting node 1 (builds its index from the shared archive) …", file=sys.stderr)
        started = time.perf_counter()
        base1 = start_node(work / "node-1", url, work / "node-1.log", nodes)
        node1 = nodes[0]
        rows.append(("node's first start: index, feeds, dumps", f"{time.perf_counter() - started:.1f} s"))
        per_look, idle_cpu = idle_cost(url, node1, args.idle)
        rows.append(("follower's look at the log (kept connection)", f"{per_look:.3f} ms round trip"))
        rows.append(("idle node CPU (all its processes)", f"{idle_cpu:.2f} % of a core"))
        queries = queries_from(url, 9000)
        third = len(queries) // 3  # each load its own queries: none answered from a cache
        one = [f"{base1}/api/search?{urlencode({'q': q})}" for q in queries[:third]]
        rps, p50, p95, errors = load(one, args.connections, args.duration)
        rows.append(("search, one node", f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, {errors} errors"))
        print("starting node 2 …", file=sys.stderr)
        base2 = start_node(work / "node-2", url, work / "node-2.log", nodes)
        two = [
            f"{(base1, base2)[i % 2]}/api/search?{urlencode({'q': q})}"
            for i, q in enumerate(queries[third : 2 * third])
        ]
        rps, p50, p95, errors = load(two, args.connections, args.duration)
        rows.append(
            (
                "search, two nodes (same 2 cores)",
                f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, {errors} errors",
            )
        )
        # one node again, now as warm as the two were: whether the order of the loads made the difference
        again = [f"{base1}/api/search?{urlencode({'q': q})}" for q in queries[2 * third :]]
        rps, p50, p95, errors = load(again, args.connections, args.duration)
        rows.append(
            ("search, one node again (warm)", f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, {errors} errors")
        )
        print(f"timing {args.repeats} changes reaching both nodes …", file=sys.stderr)
        times = reach(url, [base1, base2], [work / "node-1", work / "node-2"], args.repeats, work)
        each = [t for ts in times for t in ts]
        last = [max(ts) for ts in times]
        rows.append(
            ("change reaching a node", f"p50 {pct(each, 50):.2f} s, p95 {pct(each, 95):.2f} s, max {max(each):.2f} s")
        )
        rows.append(
            (
                "change reaching both nodes",
                f"p50 {pct(last, 50):.2f} s, p95 {pct(last, 95):.2f} s (mean {statistics.mean(last):.2f})",
            )
        )
        settled(url, [work / "node-1", work / "node-2"])
        times = reach(url, [base1, base2], [work / "node-1", work / "node-2"], args.repeats, work, settle=False)
        each = [t for ts in times for t in ts]
        rows.append(
            (
                "change reaching a node, back to back",
                f"p50 {pct(each, 50):.2f} s, p95 {pct(each, 95):.2f} s, max {max(each):.2f} s",
            )
        )
        node1.terminate()
        node1.wait(timeout=30)
        rows.append(("one change's sync of a home, by part", one_change_sync(url, work / "node-1", work)))
        width = max(len(k) for k, _ in rows)
        print(f"\n{'measure'.ljust(width)}  result\n{'-' * width}  {'-' * 50}")
        for key, value in rows:
            print(f"{key.ljust(width)}  {value}")
        print(
            f"\n{os.cpu_count()} cores; {count:,} articles; "
            f"{args.connections} connections, {args.duration:g} s per load, {third:,} distinct queries per load"
        )
    finally:
        for proc in nodes:
            proc.terminate()
            proc.wait(timeout=30)
        if cluster is not None:
            import postgres

            postgres.stop(cluster, top)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
