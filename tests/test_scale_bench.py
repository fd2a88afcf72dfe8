"""bench/scale.py --quick: a tiny synthetic corpus beside the real one, measured end to end,
and a second run that reuses the homes it built (the benchmark is resumable)."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "vi-news.ndjson.gz"
QUERIES = ROOT.parent / "shared" / "eval" / "dev-queries.jsonl"

pytestmark = pytest.mark.skipif(
    not (CORPUS.exists() and QUERIES.exists()), reason="the shared corpus (../shared/corpus) is absent"
)


def _run(work: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--quick", "--work", str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _rows(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("|") and not line.startswith("|-"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_quick_run_measures_every_row_and_a_second_run_reuses_the_homes(tmp_path: Path) -> None:
    first = _run(tmp_path)
    rows = _rows(first)
    assert set(rows) == {"row", "real 50", "SQLite FTS5 (real)", "50"}
    head = rows["row"]
    synthetic = dict(zip(head, rows["50"], strict=True))
    assert synthetic["articles"] == "50"  # as measured; an update of 10 new ones follows
    for column in ("ingest/s", "index docs/s", "index B/art", "api p95 warm", "api p95 cold", "update s", "rebuild s"):
        assert re.fullmatch(r"[\d,.]+", synthetic[column]), (column, synthetic[column])
    assert re.fullmatch(r"[\d.]+ / [\d.]+ / [\d.]+", synthetic["dev p50/95/99 ms"])
    assert re.fullmatch(r"\d+ \+ \d+", synthetic["worker MiB peak"])
    fts = dict(zip(head, rows["SQLite FTS5 (real)"], strict=True))
    assert fts["articles"] == "50" and fts["api p95 warm"] == "—"
    assert "homes real: built, 50: built" in first
    for target in ("≤ 6 KB per article", "≤ 150 ms", "≤ 250 ms", "≤ 1.5 GiB", "≤ 2× warm"):
        assert target in first
    # The synthetic corpus: real headlines, bodies recombined, ids and dates of its own.
    with gzip.open(tmp_path / "50" / "corpus.ndjson.gz") as f:
        articles = [orjson.loads(line) for line in f]
    assert len(articles) == 50 and len({a["id"] for a in articles}) == 50 and len({a["url"] for a in articles}) == 50
    assert all("2010" <= a["published"][:4] <= "2026" and a["body"] and a["source"] for a in articles)

    live = tmp_path / "50" / "home" / "index" / "CURRENT"
    built = live.read_text()
    second = _run(tmp_path)
    assert "homes real: kept, 50: kept" in second
    again = dict(zip(head, _rows(second)["50"], strict=True))
    # The build figures are the first run's, and the home went on: a second update of 10.
    for column in ("ingest/s", "index docs/s", "rebuild s"):
        assert again[column] == synthetic[column]
    assert again["articles"] == "60"
    assert live.read_text() == built  # updated in place, not built or rebuilt again
