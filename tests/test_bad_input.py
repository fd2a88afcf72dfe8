"""Bad input never stops a run, is never silently dropped, and says what was wrong."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import orjson

from conftest import to_cp1258
from opennews.archive import Archive

Cli = Callable[..., tuple[int, str, str]]

PAGE = (
    "Hải Phòng khởi công cảng container mới\n"
    "Dự án có tổng vốn 7.000 tỷ đồng, dự kiến hoàn thành năm 2026.\n"
    "Cảng mới giúp giảm ùn tắc cho khu vực Đình Vũ và tăng năng lực xếp dỡ hàng hóa.\n"
)


def good(i: int) -> bytes:
    return orjson.dumps({"id": f"ok-{i}", "title": f"Bài số {i}", "body": "Nội dung đầy đủ."}) + b"\n"


def rejects(home: Path) -> list[dict]:
    path = home / "rejects.ndjson"
    return [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def titles(home: Path) -> list[str]:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return sorted(orjson.loads(r)["title"] for r in archive.iter_json())


def test_windows_1258_is_detected_and_said(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "cu.txt"
    path.write_bytes(to_cp1258(PAGE))
    code, out, _ = cli("ingest", "--quiet", str(path))
    assert code == 0
    assert "decoded as windows-1258" in out
    assert titles(home) == ["Hải Phòng khởi công cảng container mới"]


def test_utf16_with_bom(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes(PAGE.encode("utf-16"))
    code, out, _ = cli("ingest", "--quiet", str(path))
    assert code == 0 and "utf-16" in out
    assert titles(home) == ["Hải Phòng khởi công cảng container mới"]


def test_utf8_bom_and_crlf(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + PAGE.replace("\n", "\r\n").encode())
    assert cli("ingest", "--quiet", str(path))[0] == 0
    assert titles(home) == ["Hải Phòng khởi công cảng container mới"]


def test_broken_lines_in_ndjson_are_rejected_one_by_one(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "mixed.ndjson"
    lines = [
        good(1),
        b'{"title": "no closing brace"\n',
        b"[1, 2, 3]\n",
        orjson.dumps({"title": "", "body": "x"}) + b"\n",
        orjson.dumps({"title": "Hỏng", "body": "x", "url": "not/absolute"}) + b"\n",
        b'{"title": "bad \xff\xfe bytes \x00\x01", "body": "x"}\n',
        good(2),
    ]
    path.write_bytes(b"".join(lines))
    code, out, _ = cli("ingest", "--quiet", str(path))
    assert code == 0
    assert "added 2" in out and "rejected 5" in out
    rows = rejects(home)
    assert [r["where"] for r in rows] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    reasons = [r["reason"] for r in rows]
    assert "invalid JSON" in reasons[0]
    assert "expected a JSON object" in reasons[1]
    assert reasons[2] == "missing title"
    assert "absolute" in reasons[3]
    assert "undecodable" in reasons[4]
    assert all(r["input"] == str(path) for r in rows)
    assert titles(home) == ["Bài số 1", "Bài số 2"]


def test_truncated_gzip_keeps_everything_before_the_cut(cli: Cli, home: Path, tmp_path: Path) -> None:
    data = gzip.compress(b"".join(good(i) for i in range(2000)))
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    code, _out, _ = cli("ingest", "--quiet", str(path))
    assert code == 0
    kept = len(titles(home))
    assert 100 < kept < 2000
    reasons = " ".join(r["reason"] for r in rejects(home))
    assert "truncated or corrupt" in reasons


def test_truncated_json_array_keeps_complete_objects(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"title": "Một", "body": "a"}, {"title": "Hai", "body": "b"}, {"title": "Ba", "bo')
    code, _, _ = cli("ingest", "--quiet", str(path))
    assert code == 0
    assert titles(home) == ["Hai", "Một"]
    assert "truncated" in rejects(home)[0]["reason"]


def test_empty_binary_and_missing_inputs(cli: Cli, home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n ")
    (tmp_path / "image.jpg").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "noise.bin").write_bytes(bytes(range(256)) * 8)
    code, _out, err = cli("ingest", "--quiet", str(tmp_path), str(tmp_path / "missing.ndjson"))
    assert code == 1, "nothing could be read"
    assert "nothing could be read" in err
    reasons = {Path(r["input"]).name: r["reason"] for r in rejects(home)}
    assert reasons["empty.txt"] == "empty input" and reasons["blank.txt"] == "empty input"
    assert "PNG" in reasons["image.jpg"]
    assert "binary" in reasons["noise.bin"]
    assert "no such file" in reasons["missing.ndjson"]


def test_over_long_record_is_rejected_and_the_rest_read(cli: Cli, home: Path, tmp_path: Path) -> None:
    big = orjson.dumps({"title": "Quá dài", "body": "x" * 5000}) + b"\n"
    path = tmp_path / "long.ndjson"
    path.write_bytes(good(1) + big + good(2))
    code, out, _ = cli("ingest", "--quiet", "--max-record-bytes", "1000", str(path))
    assert code == 0 and "added 2" in out
    [rej] = rejects(home)
    assert rej["where"] == "line 2" and "too long" in rej["reason"]


def test_a_good_file_beside_bad_ones_exits_zero(cli: Cli, home: Path, tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(good(1))
    (tmp_path / "b.bin").write_bytes(b"\x00" * 100)
    code, out, _ = cli("ingest", "--quiet", str(tmp_path))
    assert code == 0 and "rejected 1" in out


def test_stdin_is_read(home: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "opennews", "--home", str(home), "ingest", "-"],
        input=good(7) + good(8),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"added 2" in proc.stdout
    assert b"read <stdin>" in proc.stderr  # plain progress lines when not on a terminal


def test_a_fifo_in_a_folder_is_skipped_and_named_alone_is_rejected(cli: Cli, home: Path, tmp_path: Path) -> None:
    """Opening a FIFO to see whether it is a zip waited for a writer forever."""
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.ndjson").write_bytes(good(1))
    os.mkfifo(folder / "pipe.ndjson")
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(folder))
    assert code == 0 and "added 1" in out and "rejected 0" in out, out
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(folder / "pipe.ndjson"))
    [rej] = rejects(home)
    assert rej["input"] == str(folder / "pipe.ndjson")
    assert rej["reason"] == "not a regular file (a FIFO): not read"
    assert titles(home) == ["Bài số 1"]
