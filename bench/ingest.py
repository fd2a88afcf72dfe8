"""Ingest benchmark: opennews against plain sqlite3 executemany, in the same run.

    python bench/ingest.py [--corpus ../shared/corpus/vi-news.ndjson.gz] [--limit N]

Every measured run is its own process (so peak RSS is its own): the baseline
streams the same gzip file, parses each line with orjson and executemany()s the
records into a one-table database, 500 per transaction; opennews ingests the file
into an empty home, then again (everything unchanged), and once more into an
empty home from a tenth of the corpus, to show memory does not grow with input.
It ingests into the archive only (``--no-index --no-dumps``), as the baseline does:
since ``ingest`` brings the copies up to date afterwards, a plain run also indexes
(bench/search.py measures that, about 200 articles/s) and would time the index here.
Prints a table; exits non-zero if a target is missed.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "vi-news.ndjson.gz"

BASELINE = r"""
import gzip, sqlite3, sys, orjson
src, db = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE articles (id TEXT PRIMARY KEY, url, source, category, title, sapo, body, author, published)")
keys = ("id", "url", "source", "category", "title", "sapo", "body", "author", "published")
batch, n = [], 0
def write():
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.execute("COMMIT")
    batch.clear()
with gzip.open(src, "rb") as f:
    for line in f:
        r = orjson.loads(line)
        batch.append(tuple(r.get(k) for k in keys))
        n += 1
        if len(batch) == 500:
            write()
if batch:
    write()
print(n)
"""


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS in MB of it and its children, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss / 1024, out


def subset(corpus: Path, dest: Path, limit: int | None, fraction: float = 1.0) -> int:
    """Copy (part of) the corpus to dest as gzip; returns the number of lines."""
    with gzip.open(corpus, "rb") as src:
        lines = sum(1 for _ in src) if limit is None else limit
    keep = max(1, int(lines * fraction))
    with gzip.open(corpus, "rb") as src, gzip.open(dest, "wb", compresslevel=1) as out:
        for i, line in enumerate(src):
            if i >= keep:
                break
            out.write(line)
    return keep


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, help="use only the first N articles")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    exe = [sys.executable, "-m", "opennews"]
    with tempfile.TemporaryDirectory(prefix="opennews-bench-") as tmp:
        work = Path(tmp)
        full = work / "full.ndjson.gz"
        tenth = work / "tenth.ndjson.gz"
        n = subset(args.corpus, full, args.limit)
        n10 = subset(full, tenth, n, 0.1)
        rows = []

        t, rss, out = run([sys.executable, "-c", BASELINE, str(full), str(work / "baseline.sqlite3")])
        assert int(out.strip()) == n, out
        base_rate = n / t
        rows.append(("baseline: orjson + sqlite3 executemany", n, t, base_rate, 1.0, rss))

        home = work / "home"
        archive_only = ["--quiet", "--no-index", "--no-dumps"]
        cmd = [*exe, "--home", str(home), "ingest", *archive_only, str(full)]
        t, rss, _ = run(cmd)
        first = n / t
        rows.append(("opennews ingest (empty archive)", n, t, first, first / base_rate, rss))

        t, rss, _ = run(cmd)
        again = n / t
        rows.append(("opennews re-ingest (all unchanged)", n, t, again, again / base_rate, rss))

        t, rss10, _ = run([*exe, "--home", str(work / "home10"), "ingest", *archive_only, str(tenth)])
        rows.append(("opennews ingest, 1/10 of the input", n10, t, n10 / t, (n10 / t) / base_rate, rss10))
        rss_full = rows[1][5]

    print(f"\nIngest benchmark: {n:,} articles from {args.corpus.name} (CPU cores: {os.cpu_count()})\n")
    head = ("run", "articles", "seconds", "articles/s", "× baseline", "peak RSS MB")
    print(f"| {head[0]:<40} | {head[1]:>9} | {head[2]:>8} | {head[3]:>10} | {head[4]:>10} | {head[5]:>11} |")
    print(f"|{'-' * 42}|{'-' * 11}|{'-' * 10}|{'-' * 12}|{'-' * 12}|{'-' * 13}|")
    for name, count, secs, rate, ratio, peak in rows:
        print(f"| {name:<40} | {count:>9,} | {secs:>8.1f} | {rate:>10,.0f} | {ratio:>10.2f} | {peak:>11.0f} |")
    checks = [
        ("ingest ≥ 0.5× baseline", first / base_rate >= 0.5, f"{first / base_rate:.2f}×"),
        ("re-ingest ≥ 2× first ingest", again / first >= 2.0, f"{again / first:.1f}×"),
        ("peak RSS flat (full vs 1/10 within 30 MB)", rss_full - rss10 <= 30, f"{rss_full:.0f} vs {rss10:.0f} MB"),
    ]
    print()
    for name, ok, value in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}: {value}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
