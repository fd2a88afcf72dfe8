"""Feed serving benchmark: a cached feed and a 304 revalidation, beside a bare endpoint and a static file.

    python bench/feeds.py                     # a fresh demo home (--articles N, default 1000)
    python bench/feeds.py --home DIR          # an existing home (archive + index)

In one run, under the same uvicorn settings (``--workers``, default 1) and ``--connections``
(default 8) keep-alive connections from a separate load process (asyncio + httpx):

  * ``GET /feeds/latest.atom`` on ``opennews serve`` (cached after the first request);
  * the same with ``If-None-Match`` set to its ETag (every answer a 304);
  * ``GET /bare`` on a bare Starlette app returning the very same response from memory
    (the feed's bytes, gzipped as the feed endpoint sends them to a client accepting gzip);
  * ``GET /static/latest.atom`` on that bare app: the same bytes as a file (Starlette
    StaticFiles, which sends them uncompressed).

Also times building a 50-item feed (collect + render, Atom and RSS) without any cache.
Targets: feed rate >= 0.7x the bare endpoint, 304 rate >= 0.9x, a 50-item build <= 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from loadgen import free_port, hammer, serve_floor, tree_memory_mb, wait_for  # noqa: E402

FEED_FILE_ENV = "OPENNEWS_BENCH_FEED_DIR"


def bare_app():  # type: ignore[no-untyped-def]
    """The floor: one route returning the feed's bytes from memory, and the same file through StaticFiles."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    folder = Path(os.environ[FEED_FILE_ENV])
    body = (folder / "latest.atom").read_bytes()
    gzipped = gzip.compress(body, compresslevel=6, mtime=0)

    async def bare(request):  # type: ignore[no-untyped-def]
        # the same representation the feed endpoint sends: gzipped when the client accepts it
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(gzipped, media_type="application/atom+xml", headers={"content-encoding": "gzip"})
        return Response(body, media_type="application/atom+xml")

    return Starlette(routes=[Route("/bare", bare), Mount("/static", StaticFiles(directory=folder))])


def serve_bare(port: int, workers: int) -> None:
    serve_floor(f"{Path(__file__).stem}:bare_app", port, workers)


async def _load(url: str, headers: dict[str, str], connections: int, duration: float, warmup: float) -> dict:
    samples = await hammer([url], connections, duration, warmup, headers)
    statuses: dict[int, int] = {}
    for status, _ in samples:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(ms for _, ms in samples)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    return {"rps": len(latencies) / duration, "p95": p95, "statuses": statuses}


def measure(url: str, headers: dict[str, str], args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--load", url, "--headers", orjson.dumps(headers).decode()]
    cmd += ["--connections", str(args.connections), "--duration", str(args.duration), "--warmup", str(args.warmup)]
    return orjson.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def build_times(home: Path, rounds: int = 20) -> dict[str, float]:
    from opennews.archive import Archive
    from opennews.feeds import ArchiveReader, FeedSpec, collect, render
    from opennews.search import Searcher

    out: dict[str, list[float]] = {"collect": [], "atom": [], "rss": [], "json": []}
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        searcher = Searcher(home / "index", archive)
        reader = ArchiveReader(searcher, archive)
        collect(FeedSpec(), reader, "http://127.0.0.1")  # warm the searcher
        for _ in range(rounds):
            t0 = time.perf_counter()
            feed = collect(FeedSpec(), reader, "http://127.0.0.1")
            out["collect"].append((time.perf_counter() - t0) * 1000)
            for fmt in ("atom", "rss", "json"):
                t0 = time.perf_counter()
                render(feed, fmt)
                out[fmt].append((time.perf_counter() - t0) * 1000)
        searcher.close()
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        result = asyncio.run(_load(args.load, orjson.loads(args.headers), args.connections, args.duration, args.warmup))
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
        return 0
    if args.serve_bare:
        serve_bare(args.serve_bare, args.workers)
        return 0

    with tempfile.TemporaryDirectory(prefix="opennews-bench-feeds-") as tmp:
        work = Path(tmp)
        home = args.home
        if home is None:
            home = work / "home"
            cmd = [sys.executable, "-m", "opennews", "--home", str(home), "demo", "--articles", str(args.articles)]
            subprocess.run(cmd, check=True, capture_output=True)
        builds = build_times(home)

        port, bare_port = free_port(), free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "opennews", "--home", str(home), "serve", "--port", str(port)),
                *("--workers", str(args.workers), "--no-access-log", "--log-level", "warning"),
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        bare_proc = None
        try:
            wait_for(base + "/healthz", server)
            import httpx

            feed_url = base + "/feeds/latest.atom"
            first = httpx.get(feed_url)
            (work / "static").mkdir()
            (work / "static" / "latest.atom").write_bytes(first.content)
            bare_proc = subprocess.Popen(
                [sys.executable, __file__, "--serve-bare", str(bare_port), "--workers", str(args.workers)],
                env={**env, FEED_FILE_ENV: str(work / "static")},
            )
            bare = f"http://127.0.0.1:{bare_port}"
            wait_for(bare + "/bare", bare_proc)
            rows = [
                ("bare Starlette endpoint (same bytes)", measure(bare + "/bare", {}, args)),
                ("static file (Starlette StaticFiles)", measure(bare + "/static/latest.atom", {}, args)),
                ("feed /feeds/latest.atom (cached)", measure(feed_url, {}, args)),
                ("feed 304 (If-None-Match)", measure(feed_url, {"if-none-match": first.headers["etag"]}, args)),
            ]
            rss_now, rss_peak = tree_memory_mb(server.pid, "VmRSS", "VmHWM")
        finally:
            for proc in (server, bare_proc):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=15)

    floor = rows[0][1]["rps"] or float("nan")
    print(f"\nFeed serving, {args.connections} connections, {args.workers} worker(s), {args.duration:.0f} s each")
    print(f"{'endpoint':<40} {'req/s':>9} {'p95 ms':>8} {'x bare':>7}  statuses")
    for name, r in rows:
        print(f"{name:<40} {r['rps']:>9.0f} {r['p95']:>8.1f} {r['rps'] / floor:>7.2f}  {r['statuses']}")
    print(f"\nserver RSS (all processes): {rss_now:.0f} MiB after load, {rss_peak:.0f} MiB peak")
    print("Building the latest feed (50 items), median of 20, no cache:")
    for name, ms in builds.items():
        print(f"  {name:<8} {ms:6.1f} ms")
    build_atom = builds["collect"] + builds["atom"]
    checks = [
        ("feed >= 0.7x bare", rows[2][1]["rps"] >= 0.7 * floor),
        ("304 >= 0.9x bare", rows[3][1]["rps"] >= 0.9 * floor),
        (f"50-item Atom build {build_atom:.1f} ms <= 20 ms", build_atom <= 20),
    ]
    for name, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
