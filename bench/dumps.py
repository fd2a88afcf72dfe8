"""Open-data benchmark: dump build time, streaming export throughput and server memory, in one run.

    python bench/dumps.py                         # 1/10 and the whole shared corpus
    python bench/dumps.py --fractions 0.1         # only a tenth (a couple of minutes)
    python bench/dumps.py --workdir /tmp/bd       # keep (and later reuse) the homes there

For each size, a home is made once by ingesting the first part of the corpus
(``opennews ingest --no-index --no-dumps``; the whole corpus takes a few minutes, later
runs reuse the home in ``--workdir``). Then, on that home:

* **dump build**: ``opennews dumps --force`` (every monthly file, snapshot in NDJSON/CSV,
  zstd and Parquet when installed, manifest, datapackage);
* **CLI export**: ``opennews export > /dev/null`` — MB/s and records/s;
* **cat**: ``cat`` of the exported bytes (a file of the same size, in the page cache) —
  the disk's floor;
* **naive json.dumps**: what a straightforward exporter does — read each row, ``json.loads``
  it, ``json.dumps`` it back, write it — as a separate command like the CLI export, on the same archive;
* **HTTP export**: ``curl`` streaming ``/api/export`` from a real uvicorn server (one worker,
  no compression asked) while the server's RSS is sampled every 20 ms: the peak during the
  stream, and its rise over the idle server.

Targets: CLI export >= 50 MB/s; >= 3x the naive exporter; peak server RSS within 20 MB
between one tenth and the whole corpus (constant memory).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "vi-news.ndjson.gz"
sys.path.insert(0, str(HERE))

from loadgen import free_port, tree_memory_mb  # noqa: E402

PY = sys.executable


def opennews(home: Path, *args: str, stdout: int | None = subprocess.DEVNULL) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "-m", "opennews", "--home", str(home), *args], check=True, stdout=stdout)
    return time.perf_counter() - started


def prepare(workdir: Path, corpus: Path, fraction: float, total: int) -> Path:
    home = workdir / f"home-{fraction:g}"
    if (home / "opennews.sqlite3").exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    keep = max(1, int(total * fraction))
    part = workdir / f"corpus-{fraction:g}.ndjson.gz"
    with gzip.open(corpus, "rb") as src, gzip.open(part, "wb", compresslevel=1) as out:
        for i, line in enumerate(src):
            if i >= keep:
                break
            out.write(line)
    print(f"  ingesting {keep:,} articles into {home} ...", file=sys.stderr)
    opennews(home, "ingest", "--quiet", "--no-index", "--no-dumps", str(part))
    part.unlink()
    return home


def timed_export(home: Path, target: Path) -> tuple[float, int, int]:
    """(seconds, bytes, records) of ``opennews export`` to /dev/null (and once to ``target`` for cat)."""
    opennews(home, "export", "-o", str(target))  # also warms the page cache
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run([PY, "-m", "opennews", "--home", str(home), "export"], check=True, stdout=sink)
    seconds = time.perf_counter() - started
    size = target.stat().st_size
    with open(target, "rb") as f:
        records = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
    return seconds, size, records


def timed_cat(path: Path) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(["cat", str(path)], check=True, stdout=sink)
    return time.perf_counter() - started


NAIVE = """
import json, sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out = sys.stdout
for (record,) in conn.execute("SELECT record FROM articles ORDER BY rowid"):
    out.write(json.dumps(json.loads(record), ensure_ascii=False) + "\\n")
"""


def naive_export(home: Path) -> float:
    """Row by row: parse the stored JSON into a dict, json.dumps it back, write it — as a command,
    like ``opennews export``, so both pay the same interpreter start-up."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run([PY, "-c", NAIVE, str(home / "opennews.sqlite3")], check=True, stdout=sink)
    return time.perf_counter() - started


def http_export(home: Path) -> tuple[float, int, float, float]:
    """(seconds, bytes, idle RSS MB, peak RSS MB while streaming) against a real server."""
    port = free_port()
    code = (
        "import sys; from pathlib import Path; from opennews.web.serving import serve; "
        f"serve(Path(sys.argv[1]), port={port}, workers=1, log_level='warning', access_log=False)"
    )
    server = subprocess.Popen([PY, "-c", code, str(home)], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["curl", "-sf", "-o", os.devnull, base + "/healthz"], check=False).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        # one small warm-up request, so the idle figure includes what any first request loads
        subprocess.run(["curl", "-sf", "-o", os.devnull, base + "/api/export?since=2999-01-01"], check=True)
        (idle,) = tree_memory_mb(server.pid, "VmRSS")
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], *tree_memory_mb(server.pid, "VmRSS"))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        out = subprocess.run(
            ["curl", "-sf", "-o", os.devnull, "-w", "%{size_download}", base + "/api/export"],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        return seconds, int(float(out.stdout)), idle, peak[0]
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--fractions", default="0.1,1", help="corpus fractions to measure (default 0.1,1)")
    parser.add_argument("--workdir", type=Path, help="where the homes live (default: a temporary folder)")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the HTTP measurement")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="opennews-bench-dumps-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.corpus, "rb") as f:
        total = sum(1 for _ in f)
    rows = []
    peaks: dict[float, float] = {}
    for fraction in [float(x) for x in args.fractions.split(",")]:
        home = prepare(workdir, args.corpus, fraction, total)
        build = opennews(home, "dumps", "--force", "--quiet")
        target = workdir / f"export-{fraction:g}.ndjson"
        cli_s, size, records = timed_export(home, target)
        cat_s = timed_cat(target)
        naive_s = naive_export(home)
        http_s, http_bytes, idle, peak = http_export(home)
        target.unlink()
        assert http_bytes == size, (http_bytes, size)
        mb = size / 1e6
        peaks[fraction] = peak
        rows.append((fraction, records, mb, build, cli_s, cat_s, naive_s, http_s, idle, peak))

    print()
    print(
        "| corpus | records | MB | dump build s | CLI export MB/s (rec/s) | cat MB/s | naive json.dumps MB/s "
        "| CLI / naive | HTTP export MB/s (rec/s) | server RSS idle → peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fraction, records, mb, build, cli_s, cat_s, naive_s, http_s, idle, peak in rows:
        print(
            f"| {fraction:g} | {records:,} | {mb:,.0f} | {build:.1f} | {mb / cli_s:,.0f} ({records / cli_s:,.0f}) "
            f"| {mb / cat_s:,.0f} | {mb / naive_s:,.0f} | {naive_s / cli_s:.1f}× "
            f"| {mb / http_s:,.0f} ({records / http_s:,.0f}) | {idle:.0f} → {peak:.0f} |"
        )
    print()
    print(
        f"CLI export >= 50 MB/s: {'yes' if all(r[2] / r[4] >= 50 for r in rows) else 'NO'}; "
        f">= 3x naive: {'yes' if all(r[6] / r[4] >= 3 for r in rows) else 'NO'}",
        end="",
    )
    if len(peaks) > 1:
        spread = max(peaks.values()) - min(peaks.values())
        print(f"; peak RSS spread across sizes {spread:.1f} MB (<= 20: {'yes' if spread <= 20 else 'NO'})")
    else:
        print()
    print(f"homes kept in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
