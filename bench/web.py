"""Web benchmark: ``opennews serve`` under concurrent load, against a bare Starlette floor, in one run.

    python bench/web.py                          # a fresh demo home (--articles N, default 2000)
    python bench/web.py --home DIR               # an existing home (archive + index)
    python bench/web.py --home DIR --corpus ../shared/corpus/vi-news.ndjson.gz   # ingest first if empty

The whole shared corpus: ``--corpus`` ingests it into ``--home`` with ``--no-index`` and then
runs ``opennews index --rebuild`` (about 10 minutes in all), once; later runs reuse the home.

Servers: ``opennews serve --workers W`` on the home, and a bare Starlette app (one route
returning a fixed JSON body) under the same uvicorn with the same workers: the framework's
floor. Load comes from a separate process with C keep-alive connections, 127.0.0.1 only: wrk
(Debian package ``wrk``) when installed, else an asyncio + httpx loop (``--loadgen`` chooses); it
shares the CPUs with the server, so its own CPU time is printed too. Each endpoint gets
``--duration`` seconds after a short warm-up:

  * ``/api/search?q=...`` and ``/?q=...`` (the HTML page), cycling through the development
    queries of ../shared/eval/dev-queries.jsonl and pieces of random headlines (a separate half
    for each endpoint, with sorts and second pages on some), none asked twice in a run;
  * ``/bare`` on the bare app.

Prints requests/s, errors, latency p50/p95/p99 and the server's CPU time per request for each
endpoint, the server's RSS (all its processes) and whether the targets hold (search p95 <= 100
ms, zero errors).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import (  # noqa: E402
    free_port,
    hammer,
    serve_floor,
    tree_cpu_seconds,
    tree_memory_mb,
    wait_for,
    wrk_load,
    wrk_path,
)

SHARED = HERE.parent.parent / "shared"
DEV_QUERIES = SHARED / "eval" / "dev-queries.jsonl"
FALLBACK_QUERIES = ["thuy dien", "hà nội", "tai nan giao thong", "giá vàng", "bão số 3", "vieetj nam", "kinh te"]
P95_TARGET_MS = 100.0

# -- the bare floor ------------------------------------------------------------------


def bare_app():  # type: ignore[no-untyped-def]
    """A Starlette app with one route returning a fixed JSON body: what serving costs with no work."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = orjson.dumps({"total": 1, "results": [{"id": "0" * 16, "title": "Thủy điện xả lũ"}], "suggestion": None})

    async def bare(request):  # type: ignore[no-untyped-def]
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/bare", bare)])


def serve_bare(port: int, workers: int) -> None:
    serve_floor(f"{Path(__file__).stem}:bare_app", port, workers)


# -- the load generator (runs in its own process) ------------------------------------


async def _load(urls: list[str], connections: int, duration: float, warmup: float) -> dict[str, object]:
    samples = await hammer(urls, connections, duration, warmup)
    statuses: dict[int, int] = {}
    for status, _ in samples:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(ms for status, ms in samples if status == 200)
    errors = len(samples) - len(latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")

    return {
        "requests": len(samples),
        "errors": errors,
        "rps": len(samples) / duration,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "statuses": statuses,
    }


def run_load(url_file: Path, connections: int, duration: float, warmup: float) -> None:
    urls = url_file.read_text().splitlines()
    result = asyncio.run(_load(urls, connections, duration, warmup))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


def measure(
    urls: list[str], connections: int, duration: float, warmup: float, workdir: Path, loadgen: str
) -> dict[str, object]:
    """One endpoint under load from a separate process; also what that process took of the CPUs
    ("load_cpu": CPU seconds per second of load, warm-up included), since it shares them with the server."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if loadgen == "wrk":
        result: dict[str, object] = wrk_load(urls, connections, duration, warmup, {"Accept-Encoding": "gzip"})
    else:
        url_file = workdir / "urls.txt"
        url_file.write_text("\n".join(urls))
        cmd = [sys.executable, __file__, "--load", str(url_file), "--connections", str(connections)]
        cmd += ["--duration", str(duration), "--warmup", str(warmup)]
        result = orjson.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["load_cpu"] = cpu / (time.perf_counter() - started)
    return result


# -- orchestration -----------------------------------------------------------------


def dev_queries(limit: int) -> list[str]:
    if not DEV_QUERIES.exists():
        return FALLBACK_QUERIES
    queries = []
    for line in DEV_QUERIES.read_text().splitlines():
        q = orjson.loads(line).get("q", "").strip()
        if q and len(q) <= 500:
            queries.append(q)
    return queries[:limit] or FALLBACK_QUERIES


def headline_queries(home: Path, count: int, seed: int = 7) -> list[str]:
    """Queries as people type them: 2–6 neighbouring words of a random headline, about
    half of them (at random) without marks. Each is new to the server, so none is answered from memory."""
    import random

    from opennews.archive import Archive
    from opennews.vietnamese import fold

    rng = random.Random(seed)
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        ids = sorted(i for i, _ in archive.id_hashes())
        records = archive.get_records(rng.sample(ids, min(len(ids), count * 2)))
    out: list[str] = []
    seen: set[str] = set()
    for rec in records.values():
        words = [w for w in rec["title"].split() if any(c.isalpha() for c in w)]
        if len(words) < 2:
            continue
        size = rng.randint(2, min(6, len(words)))
        start = rng.randrange(len(words) - size + 1)
        q = " ".join(words[start : start + size])
        q = fold(q) if rng.random() < 0.5 else q  # not by position: each endpoint gets its half of each
        if q.lower() not in seen:
            seen.add(q.lower())
            out.append(q)
    return out[:count]


def search_urls(base: str, path: str, queries: list[str]) -> list[str]:
    urls = []
    for i, q in enumerate(queries):
        params: dict[str, str] = {"q": q}
        if i % 5 == 3:
            params["sort"] = "newest"
        if i % 7 == 5:
            params["page"] = "2"
        urls.append(f"{base}{path}?{urlencode(params)}")
    return urls


def searcher_alone(home: Path, queries: list[str]) -> dict[str, float]:
    """The same search requests as the pages make, in this process, one at a time: the searcher's share."""
    from opennews.archive import Archive
    from opennews.search import Searcher, SearchRequest

    times: list[float] = []
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive, Searcher(home / "index", archive) as s:
        for i, q in enumerate(queries):
            sort = "newest" if i % 5 == 3 else "relevance"
            t0 = time.perf_counter()
            s.search(SearchRequest(q=q, sort=sort, page=2 if i % 7 == 5 else 1))  # type: ignore[arg-type]
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {p: times[min(len(times) - 1, int(p / 100 * len(times)))] for p in (50, 95, 99)}


def opennews(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "opennews", *args], check=True)


def prepare_home(args: argparse.Namespace, workdir: Path) -> Path:
    if args.home is None:
        home = workdir / "home"
        print(f"Building a demo home with {args.articles:,} articles…", file=sys.stderr)
        opennews("--home", str(home), "demo", "--articles", str(args.articles))
        return home
    home = Path(args.home)
    if args.corpus and not (home / "opennews.sqlite3").exists():
        print(f"Ingesting {len(args.corpus)} corpus file(s) into {home} (then a full index rebuild)…", file=sys.stderr)
        opennews("--home", str(home), "ingest", "--no-index", "--quiet", *args.corpus)
        opennews("--home", str(home), "index", "--rebuild")
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="an opennews home with archive and index (default: a fresh demo home)")
    parser.add_argument("--articles", type=int, default=2000, help="demo articles when no --home (default 2000)")
    parser.add_argument("--corpus", nargs="*", help="files to ingest into an empty --home first (NDJSON, .gz)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--queries", type=int, default=5000, help="how many headline queries to add to the dev queries")
    parser.add_argument("--query-file", type=Path, help="cycle through these queries (one a line) instead")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="load generator: wrk (Debian package wrk; the default when installed) or Python httpx",
    )
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # internal: be the load generator
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)  # internal: serve the floor
    args = parser.parse_args()
    if args.load:
        run_load(args.load, args.connections, args.duration, args.warmup)
        return 0
    if args.bare_server:
        serve_bare(args.bare_server, args.workers)
        return 0

    loadgen = args.loadgen if args.loadgen != "auto" else ("wrk" if wrk_path() else "httpx")
    if loadgen == "wrk" and not wrk_path():
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="opennews-bench-web-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        home = prepare_home(args, workdir)
        port, bare_port = free_port(), free_port()
        serve = ["serve", "--port", str(port), "--workers", str(args.workers), "--no-access-log"]
        server = subprocess.Popen(
            [sys.executable, "-m", "opennews", "--home", str(home), *serve, "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(server)
        bare = subprocess.Popen(
            [sys.executable, __file__, "--bare-server", str(bare_port), "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(bare)
        base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        wait_for(base + "/healthz", server)
        wait_for(bare_base + "/bare", bare)
        import httpx

        health = httpx.get(base + "/healthz").json()
        kind = "your queries" if args.query_file else "new queries"
        if args.query_file:
            queries = [q.strip() for q in args.query_file.read_text().splitlines() if q.strip()][: args.queries]
        else:
            queries = dev_queries(10_000) + headline_queries(home, args.queries)
        # Each endpoint gets its own half, so the second is not answered from the first's memory.
        api_queries, page_queries = queries[0::2], queries[1::2]
        (rss_idle,) = tree_memory_mb(server.pid, "VmRSS")
        rows = []
        for label, urls in (
            (f"/api/search ({kind})", search_urls(base, "/api/search", api_queries)),
            (f"/ HTML search ({kind})", search_urls(base, "/", page_queries)),
            ("bare Starlette JSON", [bare_base + "/bare"]),
        ):
            print(f"Measuring {label} for {args.duration:.0f} s…", file=sys.stderr)
            target = bare if label.startswith("bare") else server
            cpu_before = tree_cpu_seconds(target.pid)
            result = measure(urls, args.connections, args.duration, args.warmup, workdir, loadgen)
            # The server's CPU time per request (the warm-up's share of it taken off by time).
            cpu = (tree_cpu_seconds(target.pid) - cpu_before) * args.duration / (args.duration + args.warmup)
            result["cpu_ms"] = cpu * 1000 / max(1, int(result["requests"]))
            rows.append((label, result))
        rss_now, rss_peak, private, mapped = tree_memory_mb(server.pid, "VmRSS", "VmHWM", "RssAnon", "RssFile")
        alone = searcher_alone(home, queries)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.home is None:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(
        f"opennews serve: {health['articles']:,} articles, {args.workers} workers, {args.connections} connections, "
        f"{args.duration:.0f} s per endpoint, {len(queries)} queries, {os.cpu_count()} CPUs shared with the load "
        f"generator ({'wrk, C' if loadgen == 'wrk' else 'httpx, Python asyncio'})"
    )
    print()
    floor = rows[-1][1]
    header = f"{'endpoint':<31}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header + f"{'p50 / floor':>13}{'CPU ms/req':>12}{'load CPU':>10}")
    print("-" * (len(header) + 35))
    for label, r in rows:
        ratio = float(r["p50"]) / float(floor["p50"]) if floor["p50"] else float("nan")  # type: ignore[arg-type]
        print(
            f"{label:<31}{r['requests']:>10,}{r['errors']:>8,}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
            f"{r['p99']:>9.1f}{ratio:>12.1f}x{float(r['cpu_ms']):>12.2f}{float(r['load_cpu']):>10.0%}"  # type: ignore[arg-type]
        )
    print(
        f"{'searcher alone, 1 thread':<31}{len(queries):>10,}{0:>8}{1000 / alone[50]:>9.0f}{alone[50]:>9.1f}"
        f"{alone[95]:>9.1f}{alone[99]:>9.1f}"
    )
    print(
        "(CPU ms/req: the server's CPU time, all processes, per request; "
        "load CPU: the load generator's CPU time per second of wall time, of one CPU)"
    )
    print()
    print(
        f"server RSS (all {args.workers} workers + master): {rss_idle:.0f} MiB idle, {rss_now:.0f} MiB after load, "
        f"{rss_peak:.0f} MiB peak; after load {private:.0f} MiB private and {mapped:.0f} MiB of mapped index and "
        f"code pages from the shared page cache (counted once per process)"
    )
    print(
        f"distinct queries per search endpoint: {len(api_queries):,} and {len(page_queries):,} "
        f"(requests past that, warm-up included, repeat a query and may be answered from memory)"
    )
    worst = max(float(r["p95"]) for _, r in rows[:2])  # type: ignore[arg-type]
    errors = sum(int(r["errors"]) for _, r in rows)  # type: ignore[call-overload]
    print(
        f"targets: search p95 <= {P95_TARGET_MS:.0f} ms: {'yes' if worst <= P95_TARGET_MS else 'NO'} "
        f"(worst {worst:.1f} ms); zero errors: {'yes' if errors == 0 else f'NO ({errors})'}"
    )
    return 0 if worst <= P95_TARGET_MS and errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
