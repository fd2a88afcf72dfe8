"""How fast the copies follow the archive: a sync with nothing to do, and a takedown reaching each copy.

    python bench/sync.py                          # the whole shared corpus (first run: ~20 min to build)
    python bench/sync.py --limit 10000            # the first 10,000 articles
    python bench/sync.py --home big-home          # keep (and later reuse) the home there

The home is made once with ``opennews ingest`` (which syncs index, static feeds and
dumps); later runs reuse it. Then, with ``opennews serve`` running on it:

* **no-op sync**: ``opennews sync`` when every copy is up to date, against ``opennews
  --version`` (the interpreter and the command line starting: the floor of any command),
  and ``Home.sync()`` in-process (what a caller that holds a Home pays);
* **withdraw** and **withdraw --purge** of a real article through ``Home.withdraw``: how
  long each copy took (index, static feeds, dumps, as the sync reports them), how long the
  whole command took, and when the running server's search stopped counting the article
  (polled every 20 ms from another thread; the server's own follower is off, so that
  this process does the sync it times). The baseline in the same run is ``gzip -6`` of
  the full snapshot's bytes: the least any rewrite of the snapshot costs. The article is
  restored (or, after the purge, lifted and ingested again) so the home stays as it was.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "vi-news.ndjson.gz"
sys.path.insert(0, str(HERE))

from loadgen import free_port, wait_for  # noqa: E402
from opennews.home import Home  # noqa: E402

PY = sys.executable


def timed(command: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - started)
    return out


def prepare(home: Path, corpus: Path, limit: int | None) -> None:
    if (home / "opennews.sqlite3").exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    source = corpus
    if limit:
        source = home.parent / f"{home.name}-input.ndjson"
        with gzip.open(corpus, "rb") as src, open(source, "wb") as dst:
            for n, line in enumerate(src):
                if n >= limit:
                    break
                dst.write(line)
    started = time.perf_counter()
    subprocess.run([PY, "-m", "opennews", "--home", str(home), "ingest", "--quiet", str(source)], check=True)
    print(f"built the home ({limit or 'whole corpus'}) in {time.perf_counter() - started:.0f} s", file=sys.stderr)


class SearchWatch:
    """Polls the server's total until it drops below ``before``; remembers when."""

    def __init__(self, base: str, before: int, patience: float = 120.0) -> None:
        self.base, self.before, self.patience = base, before, patience
        self.seen: float | None = None
        self.retries = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.perf_counter() + self.patience
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while self.seen is None and time.perf_counter() < deadline:
                try:
                    total = client.get("/api/search", params={"q": "", "limit": 1}).json()["total"]
                except (httpx.TransportError, ValueError, KeyError):  # a closed connection, a 5xx: ask again
                    self.retries += 1
                    time.sleep(0.1)
                    continue
                if total < self.before:
                    self.seen = time.perf_counter()
                time.sleep(0.02)


def takedown(home: Home, base: str, article_id: str, purge: bool) -> dict[str, float]:
    total = httpx.get(f"{base}/api/search", params={"q": "", "limit": 1}, timeout=30).json()["total"]
    with home.archive(readonly=True) as archive:
        record = archive.get_record(article_id)
    watch = SearchWatch(base, total, patience=60)
    watch.thread.start()
    started = time.perf_counter()
    report = home.withdraw(article_id, "bench", purge=purge)
    returned = time.perf_counter()
    watch.thread.join(timeout=60)
    row = {p.name: p.seconds for p in report.parts}
    row["command"] = returned - started
    row["search (server)"] = (watch.seen or float("nan")) - started
    if purge:
        home.lift(article_id)
        with tempfile.NamedTemporaryFile("wb", suffix=".ndjson", delete=False) as f:
            f.write(orjson.dumps(record) + b"\n")
        home.ingest([f.name])
        Path(f.name).unlink()
    else:
        home.restore(article_id)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="articles from the start of the corpus")
    parser.add_argument("--home", type=Path, default=None, help="where to keep the home (default: a temporary one)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-")) if args.home is None else args.home
    prepare(work, args.corpus, args.limit)
    home = Home.at(work)
    home.sync()

    rows: list[tuple[str, str, str]] = []
    floor = timed([PY, "-m", "opennews", "--version"], args.runs)
    noop = timed([PY, "-m", "opennews", "--home", str(work), "sync", "--quiet"], args.runs)
    inproc = []
    for _ in range(args.runs * 4):
        started = time.perf_counter()
        report = home.sync()
        inproc.append(time.perf_counter() - started)
        assert not report.parts, "the home was not up to date"
    ratio = statistics.median(noop) / statistics.median(floor)
    rows.append(("no-op sync (CLI)", f"{statistics.median(noop) * 1000:,.0f} ms", f"{ratio:.2f}× opennews --version"))
    rows.append(("  baseline: opennews --version", f"{statistics.median(floor) * 1000:,.0f} ms", ""))
    rows.append(("no-op sync (in-process)", f"{statistics.median(inproc) * 1000:,.1f} ms", ""))

    snapshot = gzip.decompress((work / "dumps" / "articles-all.ndjson.gz").read_bytes())
    started = time.perf_counter()
    gzip.compress(snapshot, compresslevel=6)
    floor_gzip = time.perf_counter() - started

    port = free_port()
    server = subprocess.Popen(
        [PY, "-m", "opennews", "--home", str(work), "serve", "--port", str(port), "--no-access-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # The server's own follower would race this process for the sync lock and take the
        # work (and its timings) from it; how the server's search forgets does not depend on it.
        env={**os.environ, "OPENNEWS_FOLLOW": "0"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", server)
        with home.archive(readonly=True) as archive:
            first, second = (row[0] for row in archive.listing(archive.count() // 2, 2))
        for label, article_id, purge in (("withdraw", first, False), ("withdraw --purge", second, True)):
            row = takedown(home, base, article_id, purge)
            for part in ("search (server)", "index", "feeds", "dumps", "command"):
                value = row.get(part)
                shown = f"{value:,.2f} s" if value is not None else "—"
                rows.append((f"{label}: {part}", shown, ""))
        rows.append(("  baseline: gzip -6 of the snapshot", f"{floor_gzip:,.2f} s", f"{len(snapshot) / 1e6:,.0f} MB"))
    finally:
        server.terminate()
        server.wait(timeout=30)

    with home.archive(readonly=True) as archive:
        articles = archive.count()
    print(f"\nopennews sync benchmark: {articles:,} articles ({work})\n")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'time':>12}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
