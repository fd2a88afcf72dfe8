"""The opennews command, as an operator uses it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from conftest import FIXTURES
from opennews.cli import build_parser

Cli = Callable[..., tuple[int, str, str]]
COMMANDS = ["ingest", "stats", "export", "demo", "withdraw", "restore", "show", "history", "runs", "check"]


def test_help_explains_every_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "opennews", "--help"], capture_output=True, text=True, check=True)
    for name in COMMANDS:
        assert f"    {name}" in proc.stdout
    parser = build_parser()
    for name in COMMANDS:
        sub = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        assert sub.description, f"{name} needs a description"


def test_home_from_environment(tmp_path: Path) -> None:
    env = {"PATH": "", "OPENNEWS_HOME": str(tmp_path / "h")}
    proc = subprocess.run(
        [sys.executable, "-m", "opennews", "ingest", "--quiet", str(FIXTURES / "keyvalue.txt")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "h" / "opennews.sqlite3").exists()


def test_stats_show_history_withdraw_restore(cli: Cli, home: Path, tmp_path: Path) -> None:
    assert cli("ingest", "--quiet", str(FIXTURES))[0] == 0
    code, out, _ = cli("stats", "--json")
    stats = orjson.loads(out)
    assert code == 0 and stats["articles"] >= 10 and stats["sources"] >= 5

    code, out, _ = cli("export")
    first = orjson.loads(out.splitlines()[0])
    code, out, _ = cli("show", first["id"])
    assert code == 0 and orjson.loads(out) == first

    edited = tmp_path / "edited.ndjson"
    edited.write_bytes(orjson.dumps({**first, "body": first["body"] + "\n\nĐính chính."}) + b"\n")
    code, out, _ = cli("ingest", "--quiet", str(edited))
    assert "updated 1" in out
    code, out, _ = cli("history", first["id"])
    assert code == 0 and out.count("\n") == 2 and "current" in out
    code, out, _ = cli("show", first["id"], "--version", "1")
    assert orjson.loads(out)["body"] == first["body"]

    code, out, _ = cli("withdraw", first["id"], "--reason", "Yêu cầu gỡ bài")
    assert code == 0
    code, _, err = cli("show", first["id"])
    assert code == 1 and "withdrawn" in err and "Yêu cầu gỡ bài" in err
    code, out, _ = cli("ingest", "--quiet", str(edited))
    assert "rejected 1" in out and "withdrawn" in out
    assert cli("restore", first["id"])[0] == 0
    assert cli("show", first["id"])[0] == 0
    code, out, _ = cli("check")
    assert code == 0 and "sound" in out


def test_errors_are_one_line_not_tracebacks(cli: Cli) -> None:
    code, _, err = cli("stats")
    assert code == 1 and err.startswith("opennews: no archive") and "Traceback" not in err
    cli("ingest", "--quiet", str(FIXTURES / "keyvalue.txt"))
    code, _, err = cli("withdraw", "nope", "--reason", "x")
    assert code == 1 and "no article with id nope" in err


def test_runs_log(cli: Cli) -> None:
    cli("ingest", "--quiet", str(FIXTURES / "feed_rss.xml"))
    _code, out, _ = cli("runs", "--json")
    [run] = orjson.loads(out)
    assert run["added"] == 2 and run["inputs"][0]["format"] == "feed"


def test_export_to_gzip_file(cli: Cli, tmp_path: Path) -> None:
    import gzip

    cli("ingest", "--quiet", str(FIXTURES / "feed_rss.xml"))
    target = tmp_path / "dump.ndjson.gz"
    assert cli("export", "-o", str(target))[0] == 0
    assert len(gzip.decompress(target.read_bytes()).splitlines()) == 2


def test_demo_generates_and_ingests(cli: Cli) -> None:
    code, out, _ = cli("demo", "--articles", "300")
    assert code == 0 and "added 300" in out
    code, out, _ = cli("demo", "--articles", "300")
    assert "unchanged 300" in out
    stats = orjson.loads(cli("stats", "--json")[1])
    assert stats["sources"] >= 6 and len(stats["by_year"]) >= 5


@pytest.mark.parametrize("args", [["ingest"], ["withdraw", "x"], ["nosuch"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "opennews", *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_ingest_help_names_every_reader_format() -> None:
    from opennews.cli import FORMAT_NAMES
    from opennews.ingest.readers import FORMATS

    assert FORMAT_NAMES.split(", ") == list(FORMATS)


def test_ingest_lines_count_every_record_read(cli: Cli, tmp_path: Path) -> None:
    """Each input's line counts the records read from it, once they are all written or rejected.

    The big file's last batches are still in the worker processes when its reader
    is done, and the small file's records share a batch with them.
    """
    big, small = tmp_path / "big.ndjson", tmp_path / "small.ndjson"
    with open(big, "wb") as out:
        for i in range(20_000):
            rec = {"id": f"line-{i:05d}", "title": f"Tin số {i}", "body": "Hà Nội nắng nóng.", "source": "tin.example"}
            if i % 1000 == 999:
                del rec["title"]  # 20 records the validator rejects
            out.write(orjson.dumps(rec) + b"\n")
    small.write_bytes(
        orjson.dumps({"id": "small-1", "title": "Tin một", "body": "Nội dung.", "source": "tin.example"})
        + b"\nnot json\n\n"  # a blank line is no record
        + orjson.dumps({"id": "small-2", "body": "Không có tiêu đề."})
        + b"\n"
    )
    expected = [
        f"read {big} (ndjson, utf-8): 20,000 records, 20 rejected",
        f"read {small} (ndjson, utf-8): 3 records, 2 rejected",
    ]
    code, out, err = cli("ingest", "--no-index", "--no-dumps", str(big), str(small))
    assert code == 0 and "added 19,981" in out
    assert [line for line in err.splitlines() if line.startswith("read ")] == expected
    code, out, err = cli("ingest", "--no-index", "--no-dumps", str(big), str(small))  # all unchanged now
    assert code == 0 and "unchanged 19,981" in out
    assert [line for line in err.splitlines() if line.startswith("read ")] == expected
