"""Hostile-input benchmark: peak memory and time of big and hostile inputs, each ingested alone.

    python bench/hostile.py [--mib 250] [--timeout 120] [--corpus ../shared/corpus/vi-news.ndjson.gz]

Every run is its own ``opennews ingest --quiet --json --no-index --no-dumps`` process into
a fresh home, so the peak RSS printed is that run's (the largest of the ingest and its
validating workers, from wait4). The inputs, made in a temporary folder:

- a JSON document of ``--mib`` MiB: one array of article objects, gzipped;
- the same records as NDJSON, gzipped: the baseline, read line by line in the same run;
- a gzip bomb: one good record, then 50 MiB of newlines (about 51 KB on disk);
- a bigger gzip bomb: one good record, then 10 GiB of newlines (gzip members back to back);
- a zip bomb: one good record, then 1 GiB of blank lines in one deflated member;
- 50 MiB of newlines between two records with the ratio off (``--max-ratio 0``): the
  cost of scanning blank space;
- broken HTML: 40,000 ``<div>`` never closed (240 KB; 119 s when every paragraph
  scanned the stack of open elements).

Articles come from the shared corpus when it is there (real text compresses about 4:1),
else from a generator of varied Vietnamese-like words. To compare with another tree, run
the same command with ``PYTHONPATH=that/tree/src``: the children inherit it. A run that
exceeds ``--timeout`` is stopped and shown as such.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "vi-news.ndjson.gz"
MIB = 1 << 20
_TEXT = (
    "Hà Nội thành phố người dân giao thông mưa lớn chính quyền kinh tế tăng trưởng doanh nghiệp "
    "học sinh trường đại học bệnh viện bác sĩ công an điều tra dự án cầu đường nhà máy nông dân "
    "lúa gạo xuất khẩu thị trường giá vàng chứng khoán ngân hàng lãi suất du lịch biển đảo"
)
WORDS = _TEXT.split()


def articles(corpus: Path) -> Iterator[bytes]:
    """Article records as compact JSON, endlessly (the corpus again and again, with new ids)."""
    round_ = 0
    while True:
        if corpus.exists():
            with gzip.open(corpus, "rb") as lines:
                for line in lines:
                    rec = orjson.loads(line)
                    rec["id"] = f"{rec['id']}-{round_}"
                    yield orjson.dumps(rec)
        else:
            rng = random.Random(round_)
            for i in range(10_000):
                body = "\n\n".join(" ".join(rng.choices(WORDS, k=80)) for _ in range(6))
                title = " ".join(rng.choices(WORDS, k=10)).capitalize()
                yield orjson.dumps(
                    {"id": f"gen-{round_}-{i}", "title": title, "body": body, "source": "tinmau.example"}
                )
        round_ += 1


def make_big(work: Path, mib: int, corpus: Path) -> tuple[Path, Path, int]:
    """The JSON array document and the NDJSON file of the same records, both gzipped."""
    doc, lines = work / "big.json.gz", work / "big.ndjson.gz"
    size, n = 1, 0
    with gzip.open(doc, "wb", compresslevel=1) as a, gzip.open(lines, "wb", compresslevel=1) as b:
        a.write(b"[")
        for rec in articles(corpus):
            if size + len(rec) + 3 > mib * MIB:
                break
            a.write((b",\n" if n else b"\n") + rec)
            b.write(rec + b"\n")
            size += len(rec) + 2
            n += 1
        a.write(b"\n]\n")
    return doc, lines, n


def good_record() -> bytes:
    return orjson.dumps({"id": "head-1", "title": "Bản tin đầu tiên", "body": "Nội dung bản tin.", "source": "x.vn"})


def make_gzip_bomb(path: Path, newlines_mib: int) -> Path:
    """One record, then newlines: a 64 MiB gzip member repeated, so a big bomb is quick to make."""
    block = min(newlines_mib, 64)
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = member.compress(b"\n" * (block * MIB)) + member.flush()
    with open(path, "wb") as out:
        out.write(gzip.compress(good_record() + b"\n"))
        for _ in range(newlines_mib // block):
            out.write(chunk)
    return path


def make_zip_bomb(path: Path, newlines_mib: int) -> Path:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("blank.ndjson", "w", force_zip64=True) as member,
    ):
        member.write(good_record() + b"\n")
        block = b"\n" * MIB
        for _ in range(newlines_mib):
            member.write(block)
    return path


def make_blank_between(path: Path, newlines_mib: int) -> Path:
    """A record, ``newlines_mib`` MiB of newlines, a second gzip member with a record."""
    make_gzip_bomb(path, newlines_mib)
    with open(path, "ab") as out:
        out.write(gzip.compress(good_record().replace(b"head-1", b"tail-1") + b"\n"))
    return path


def make_broken_html(path: Path, divs: int) -> Path:
    path.write_text("<html><head><title>Tin chưa đóng thẻ</title></head><body>" + "<div>x " * divs, encoding="utf-8")
    return path


def ingest(path: Path, home: Path, timeout: float, *flags: str) -> tuple[float, float, str]:
    """Ingest one input into a fresh home: (seconds, peak RSS MB, what happened)."""
    cmd = [sys.executable, "-m", "opennews", "--home", str(home)]
    cmd += ["ingest", "--quiet", "--json", "--no-index", "--no-dumps", *flags, str(path)]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                return time.perf_counter() - started, usage.ru_maxrss / 1024, f"stopped after {timeout:.0f} s"
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read()
        problem = err.read().decode(errors="replace").strip().splitlines()
    try:
        summary = orjson.loads(text)
    except orjson.JSONDecodeError:
        return elapsed, usage.ru_maxrss / 1024, f"exit {proc.returncode}: {problem[-1] if problem else '?'}"
    what = f"added {summary['added']:,}, rejected {summary['rejected']:,}"
    if summary["rejects"]:
        what += f" ({summary['rejects'][0]['reason'][:60]})"
    return elapsed, usage.ru_maxrss / 1024, what


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=250, help="size of the big JSON document (default 250)")
    parser.add_argument("--timeout", type=float, default=120, help="stop a run after this many seconds")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    rows: list[tuple[str, int, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="opennews-hostile-") as tmp:
        work = Path(tmp)
        doc, lines, n = make_big(work, args.mib, args.corpus)
        no_ratio = ("--max-ratio", "0")
        inputs: list[tuple[str, Path, tuple[str, ...]]] = [
            (f"JSON array document, {args.mib} MiB ({n:,} articles)", doc, ()),
            ("NDJSON, the same articles (baseline)", lines, ()),
            ("gzip bomb: 1 record + 50 MiB of newlines", make_gzip_bomb(work / "bomb50.ndjson.gz", 50), ()),
            ("gzip bomb: 1 record + 10 GiB of newlines", make_gzip_bomb(work / "bomb10g.ndjson.gz", 10 * 1024), ()),
            ("zip bomb: 1 record + 1 GiB of blank lines", make_zip_bomb(work / "bomb.zip", 1024), ()),
            ("2 records, 50 MiB of newlines between, no ratio", make_blank_between(work / "gap.gz", 50), no_ratio),
            ("broken HTML: 40,000 unclosed <div>", make_broken_html(work / "broken.html", 40_000), ()),
        ]
        for i, (name, path, flags) in enumerate(inputs):
            secs, rss, what = ingest(path, work / f"home{i}", args.timeout, *flags)
            rows.append((name, path.stat().st_size, secs, rss, what))
    source = "shared corpus" if args.corpus.exists() else "generated text"
    try:
        import ijson

        parser = f"ijson backend {ijson.backend}"
    except ImportError:
        parser = "no ijson"
    where = f"{source}; {parser}; python {sys.version.split()[0]}; CPU cores: {os.cpu_count()}"
    print(f"\nHostile-input benchmark ({where})\n")
    print(f"| {'input':<46} | {'on disk':>10} | {'seconds':>8} | {'peak RSS MB':>11} | result")
    print(f"|{'-' * 48}|{'-' * 12}|{'-' * 10}|{'-' * 13}|{'-' * 40}")
    for name, disk, secs, rss, what in rows:
        print(f"| {name:<46} | {disk / MIB:>6.2f} MiB | {secs:>8.1f} | {rss:>11.0f} | {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
