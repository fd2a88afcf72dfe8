"""Hostile input: whatever a reader raises is a reject, every bound an input could push
is checked as it streams, and the run always ends with a status in the run log.

Each bomb is made here, small on disk; each test checks the reject (its reason names
the bound), that the good records around it (other files, records before it in the
same file) were kept, and the run's status.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from opennews.archive import Archive
from opennews.ingest import IngestOptions, ingest
from opennews.ingest.readers import DOCUMENT_READERS
from opennews.ingest.readers.jsondoc import read_json_stream
from opennews.ingest.records import BadInput, Document, Found, Reject
from opennews.ingest.streams import open_stream
from opennews.ingest.validate import validate_batch
from opennews.settings import IngestLimits

Cli = Callable[..., tuple[int, str, str]]
MIB = 1 << 20


def good(i: int) -> bytes:
    return orjson.dumps({"id": f"ok-{i}", "title": f"Bài số {i}", "body": "Nội dung đầy đủ."}) + b"\n"


def big(i: int) -> bytes:
    """A record of about 1 KiB (ingest costs per record: few records make a MiB here)."""
    return orjson.dumps({"id": f"big-{i}", "title": f"Tin dài {i}", "body": f"Đoạn {i}. " + "x" * 1000}) + b"\n"


def article(i: int, body: str = "Nội dung đầy đủ.") -> dict[str, str]:
    return {"id": f"doc-{i}", "title": f"Tin số {i}", "body": body}


def rejects(home: Path) -> list[dict[str, str]]:
    path = home / "rejects.ndjson"
    return [orjson.loads(x) for x in path.read_bytes().splitlines()] if path.exists() else []


def titles(home: Path) -> list[str]:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return sorted(orjson.loads(r)["title"] for r in archive.iter_json())


def last_run(home: Path) -> dict:
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        return archive.runs(limit=1)[0]


def gzip_of_newlines(path: Path, mib: int, head: bytes = b"") -> Path:
    """A gzip bomb: ``head``, then ``mib`` MiB of newlines, streamed through GzipFile."""
    block = b"\n" * MIB
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as out:
        out.write(head)
        for _ in range(mib):
            out.write(block)
    return path


def zip_of_newlines(path: Path, mib: int, head: bytes = b"", name: str = "blank.ndjson") -> Path:
    block = b"\n" * MIB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w") as member:
        member.write(head)
        for _ in range(mib):
            member.write(block)
    return path


# -- every reader failure is a reject, and the run goes on ------------------------------


def test_a_document_nested_100000_deep_beside_good_files(cli: Cli, home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.ndjson").write_bytes(good(1) + good(2))
    (folder / "b.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    (folder / "c.ndjson").write_bytes(good(3) + good(4))
    code, out, err = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(folder))
    assert code == 0, err
    assert "Traceback" not in err and "added 4" in out and "rejected 1" in out
    assert titles(home) == ["Bài số 1", "Bài số 2", "Bài số 3", "Bài số 4"]
    [rej] = rejects(home)
    assert rej["input"].endswith("b.json") and rej["where"] == "entry 1"
    assert rej["reason"] == "nested deeper than 64 levels (--max-depth or OPENNEWS_MAX_DEPTH)"
    assert last_run(home)["status"] == "done"


def test_an_array_nested_100000_deep_is_rejected_not_ignored(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    assert code == 1 and "rejected 1" in out
    [rej] = rejects(home)
    assert "nested deeper than 64 levels" in rej["reason"]
    assert last_run(home)["status"] == "nothing-read"


def test_depth_bound_is_configurable_and_applies_to_ndjson(cli: Cli, home: Path, tmp_path: Path) -> None:
    deep = {"title": "Sâu", "body": "Nội dung.", "extra": {}}
    node = deep["extra"]
    for _ in range(80):
        node["x"] = {}
        node = node["x"]
    path = tmp_path / "deep.ndjson"
    path.write_bytes(good(1) + orjson.dumps(deep) + b"\n" + good(2))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    assert code == 0 and "added 2" in out
    [rej] = rejects(home)
    assert rej["where"] == "line 2" and "nested deeper than 64 levels" in rej["reason"]
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-depth", "100", str(path))
    assert code == 0 and "added 1" in out and "Sâu" in titles(home)


def test_an_ndjson_line_past_the_parsers_own_depth_limit_names_the_bound() -> None:
    """orjson stops at 1,024 levels with "depth limit exceeded": the reject names --max-depth."""
    from opennews.ingest.readers.jsondoc import parse_ndjson_line

    line = b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}\n"
    with pytest.raises(ValueError, match=r"^nested deeper than 64 levels \(--max-depth or OPENNEWS_MAX_DEPTH\)$"):
        parse_ndjson_line(line, max_depth=64)
    with pytest.raises(ValueError, match="nested deeper than 1500 levels"):
        parse_ndjson_line(line, max_depth=1500)


def test_an_exception_from_validation_is_that_records_reject(cli: Cli, home: Path, tmp_path: Path) -> None:
    """Shapes the article maker does not expect raise TypeError or OverflowError there;
    once that stopped the run and lost every good record of the batch."""
    path = tmp_path / "odd.ndjson"
    odd = [{"title": "Hai", "body": "b", "tags": 1}, {"title": "Ba", "body": "c", "published": 1e30}]
    path.write_bytes(good(1) + b"".join(orjson.dumps(o) + b"\n" for o in odd) + good(4))
    code, _, err = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    assert code == 0 and "Traceback" not in err
    assert titles(home) == ["Bài số 1", "Bài số 4"]
    reasons = {r["where"]: r["reason"] for r in rejects(home)}
    assert reasons["line 2"] == "tags must be text or a list of texts, not int"
    assert reasons["line 3"] == "published: not a date: timestamp 1e+30 is out of range"

    # and a shape nobody foresaw still ends as that record's reject, naming what was raised
    class Hostile(dict):
        def get(self, *args: object) -> object:
            raise RuntimeError("boom")

    checked = validate_batch([("x", Hostile(title="t"), None)], None)
    assert checked[0].reject is not None and checked[0].reject.reason == "could not be read: RuntimeError: boom"


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _failing_reader(kind: str) -> Callable[[Document], Iterator[Found | Reject]]:
    def read(doc: Document) -> Iterator[Found | Reject]:
        yield Found("record 1", {"title": f"Trước lỗi {doc.name[-5]}", "body": "Giữ lại."})
        if kind == "RecursionError":
            _recurse(0)  # a real one
        if kind == "MemoryError":
            raise MemoryError
        if kind == "UnicodeDecodeError":
            b"\xff".decode("utf-8")
        if kind == "BadZipFile":
            zipfile.ZipFile(io.BytesIO(b"not a zip"))
        raise ValueError("a shape nobody foresaw")

    return read


@pytest.mark.parametrize("kind", ["RecursionError", "MemoryError", "UnicodeDecodeError", "BadZipFile", "ValueError"])
def test_whatever_a_reader_raises_ends_only_its_input(
    kind: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(DOCUMENT_READERS, "text", _failing_reader(kind))
    (tmp_path / "1.txt").write_text("Tiêu đề\nNội dung\n")
    (tmp_path / "2.ndjson").write_bytes(good(2))
    (tmp_path / "3.txt").write_text("Tiêu đề\nNội dung\n")
    with Archive.open(home / "opennews.sqlite3") as archive:
        report = ingest(archive, [str(tmp_path)], rejects_path=home / "rejects.ndjson")
    assert report.total("added") == 3 and report.rejects_total == 2
    assert titles(home) == ["Bài số 2", "Trước lỗi 1", "Trước lỗi 3"]
    for rej in rejects(home):
        assert rej["where"] == "file" and rej["reason"].startswith(f"could not be read (after record 1): {kind}")
    assert last_run(home)["status"] == "done"


def test_an_error_outside_the_readers_ends_the_run_as_failed(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(good(1) + b"not json\n")
    with Archive.open(home / "opennews.sqlite3") as archive:
        with pytest.raises(OSError):  # the rejects file cannot be written: the disk is full
            ingest(archive, [str(path)], rejects_path=Path("/dev/full"))
        [run] = archive.runs()
    assert run["status"] == "failed" and run["finished_at"]


def test_a_rejects_file_that_cannot_be_opened_leaves_no_run_behind(cli: Cli, home: Path, tmp_path: Path) -> None:
    (home / "rejects.ndjson").mkdir()
    path = tmp_path / "a.ndjson"
    path.write_bytes(good(1))
    with pytest.raises(IsADirectoryError):
        cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert [r["status"] for r in archive.runs()] == []


# -- decompression: bytes, ratio, members ------------------------------------------------


def test_gzip_bomb_is_stopped_by_the_ratio_early(cli: Cli, home: Path, tmp_path: Path) -> None:
    bomb = gzip_of_newlines(tmp_path / "bomb.ndjson.gz", 50, head=good(1))
    assert bomb.stat().st_size < 60_000
    (tmp_path / "after.ndjson").write_bytes(good(2))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(bomb), str(tmp_path / "after.ndjson"))
    assert code == 0 and "added 2" in out
    [rej] = rejects(home)
    assert "gzip data expands more than 100:1" in rej["reason"] and "--max-ratio" in rej["reason"]
    assert int(rej["where"].removeprefix("byte ")) < 8 * MIB, "stopped after a few MiB, not after 50"
    assert titles(home) == ["Bài số 1", "Bài số 2"]
    assert last_run(home)["status"] == "done"


@pytest.mark.parametrize("kind", ["bzip2", "xz", "zstd"])
def test_every_compression_is_held_to_the_ratio(kind: str) -> None:
    """bzip2 packs 200 MiB of newlines into 177 bytes, and one call used to hand all of it out."""
    import bz2
    import lzma

    zstandard = pytest.importorskip("zstandard")
    pack = {"bzip2": bz2.compress, "xz": lzma.compress, "zstd": zstandard.ZstdCompressor(level=19).compress}[kind]
    bomb = pack(good(1) + b"\n" * (12 * MIB))
    stream, compression = open_stream(io.BytesIO(bomb))
    assert compression == kind
    first = stream.read1(MIB)
    assert first.startswith(good(1))
    with pytest.raises(BadInput) as caught:
        while stream.read1(MIB):
            pass
    assert caught.value.reason.startswith(f"{kind} data expands more than 100:1")
    assert int(caught.value.where.removeprefix("byte ")) < 8 * MIB


def test_an_xz_stream_declaring_a_huge_dictionary_is_refused() -> None:
    """liblzma allocates the dictionary an xz header declares: 1.5 GiB for a 100-byte file."""
    import lzma
    import struct
    import zlib

    from opennews.ingest.streams import XZ_MEMLIMIT

    small = lzma.compress(good(1), format=lzma.FORMAT_XZ, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": MIB}])
    header = bytearray(small[12 : 12 + (small[12] + 1) * 4])  # the block header, after the stream header
    at = header.index(b"\x21\x01") + 2  # LZMA2's one property byte: the dictionary size
    header[at] = 37  # 1.5 GiB (2 MiB was 18)
    header[-4:] = struct.pack("<I", zlib.crc32(bytes(header[:-4])))
    bomb = small[:12] + bytes(header) + small[12 + len(header) :]
    assert len(lzma.LZMADecompressor().decompress(bomb)) == len(good(1))  # valid: only the memory is refused
    stream, compression = open_stream(io.BytesIO(bomb))
    assert compression == "xz" and XZ_MEMLIMIT == 256 * MIB
    with pytest.raises(BadInput) as caught:
        stream.read()
    assert caught.value.reason.startswith("xz stream needs more than 256 MiB of memory to decompress")
    stream, _ = open_stream(io.BytesIO(small))  # the same with its real dictionary
    assert stream.read() == good(1)


def test_zero_padding_after_the_last_gzip_member_ends_the_stream(cli: Cli, home: Path, tmp_path: Path) -> None:
    """Tape-style zero padding after a member is tolerated (as gzip does) but not read
    forever: past 1 MiB of zeros the input stops, with a reject saying so."""
    padded = tmp_path / "padded.ndjson.gz"
    padded.write_bytes(gzip.compress(good(1)) + bytes(10_240) + gzip.compress(good(2)) + bytes(10_240))
    endless = tmp_path / "endless.ndjson.gz"
    endless.write_bytes(gzip.compress(good(3)) + bytes(3 * MIB))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(padded), str(endless))
    assert code == 0 and "added 3" in out, out
    [rej] = rejects(home)
    assert rej["input"] == str(endless) and rej["where"] == f"byte {len(good(3))}"
    assert rej["reason"] == "gzip stream has more than 1 MiB of zero bytes after its last member; the rest was not read"


def test_zeros_after_a_gzip_member_on_stdin_do_not_keep_the_run_reading(home: Path, tmp_path: Path) -> None:
    """``(cat a.gz; cat /dev/zero) | opennews ingest -``: the run ends while zeros still come."""
    import subprocess
    import sys
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "opennews", "--home", str(home), "ingest", "--quiet", "--no-index", "--no-dumps", "-"],
        stdin=subprocess.PIPE,
        stdout=(tmp_path / "out").open("wb"),
        stderr=subprocess.DEVNULL,
    )

    def zeros() -> None:
        try:
            proc.stdin.write(gzip.compress(good(1)))  # type: ignore[union-attr]
            while proc.poll() is None:
                proc.stdin.write(bytes(65536))  # type: ignore[union-attr]
        except (BrokenPipeError, ValueError):
            pass

    writer = threading.Thread(target=zeros, daemon=True)
    writer.start()
    try:
        proc.wait(timeout=120)  # stdin stays open: a run that reads it to the end fails here
    finally:
        proc.kill()
    assert b"added 1" in (tmp_path / "out").read_bytes()
    assert titles(home) == ["Bài số 1"]


def test_blank_lines_cost_next_to_nothing_without_the_ratio(cli: Cli, home: Path, tmp_path: Path) -> None:
    """50 MiB of newlines took 25 s of CPU when each was a loop turn; now a scan of each
    1 MiB block (bench/hostile.py times it: about 1.4 s for the whole ingest)."""
    from opennews.ingest.readers.jsondoc import read_ndjson

    bomb = gzip_of_newlines(tmp_path / "blank.ndjson.gz", 50, head=good(1))
    with open(bomb, "ab") as out:
        out.write(gzip.compress(good(2)))  # a second member, after the blank run
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-ratio", "0", str(bomb))
    assert code == 0 and "added 2" in out and "rejected 0" in out
    assert titles(home) == ["Bài số 1", "Bài số 2"]

    class Blocks(io.BytesIO):
        reads = 0

        def read1(self, n: int = -1) -> bytes:
            Blocks.reads += 1
            return super().read1(n)

    blank = Blocks(good(1) + b"\n \t\r" * (5 * MIB) + good(2))  # 20 MiB, 5 Mi lines
    found = list(read_ndjson(blank, max_record_bytes=MIB))  # type: ignore[arg-type]
    assert [f.where for f in found] == ["line 1", f"line {5 * MIB + 2}"]
    assert Blocks.reads <= 22, "read a 1 MiB block at a time"


def test_zip_of_blank_lines_commits_the_record_at_its_head(cli: Cli, home: Path, tmp_path: Path) -> None:
    bomb = zip_of_newlines(tmp_path / "bomb.zip", 40, head=good(1), name="blank.txt")
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(bomb))
    assert code == 0 and "added 1" in out
    [rej] = rejects(home)
    assert rej["input"] == f"{bomb}!blank.txt"
    assert "zip member data expands more than 100:1" in rej["reason"]
    assert titles(home) == ["Bài số 1"] and last_run(home)["status"] == "done"
    code, out, _ = cli(
        "ingest", "--quiet", "--no-index", "--no-dumps", "--max-ratio", "0", str(bomb)
    )  # read to the end: cheap
    assert code == 0 and "unchanged 1" in out


def test_decompressed_bytes_per_input_are_capped(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = tmp_path / "big.ndjson.gz"
    packed.write_bytes(gzip.compress(b"".join(big(i) for i in range(2000))))  # 2 MiB
    plain = tmp_path / "plain.ndjson"
    plain.write_bytes(b"".join(big(i) for i in range(10_000, 12_000)))
    monkeypatch.setenv("OPENNEWS_MAX_INPUT_BYTES", "1M")
    code, _, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(packed), str(plain))
    assert code == 0
    kept = len(titles(home))
    assert 2 * 950 < kept < 2 * 1030, kept  # about 1 MiB of each
    reasons = [r["reason"] for r in rejects(home)]
    assert len(reasons) == 2
    assert reasons[0].startswith("gzip is larger than the limit of 1 MiB (--max-input-bytes or OPENNEWS_MAX_INPUT")
    assert reasons[1].startswith("input is larger than the limit of 1 MiB")
    assert last_run(home)["status"] == "done"


def test_zip_member_bytes_and_member_count_are_capped(cli: Cli, home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a-big.ndjson", b"".join(big(i) for i in range(2000)))  # 2 MiB
        z.writestr("b-small.ndjson", good(99))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-member-bytes", "1M", str(archive))
    assert code == 0
    [rej] = rejects(home)
    assert rej["input"] == f"{archive}!a-big.ndjson"
    assert rej["reason"].startswith("zip member is larger than the limit of 1 MiB (--max-member-bytes")
    assert "Bài số 99" in titles(home) and 950 < len(titles(home)) < 1030

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(5):
            z.writestr(f"{i}.ndjson", good(200 + i))
    (tmp_path / "beside.ndjson").write_bytes(good(300))
    code, out, _ = cli(
        "ingest",
        "--quiet",
        "--no-index",
        "--no-dumps",
        "--max-zip-members",
        "3",
        str(many),
        str(tmp_path / "beside.ndjson"),
    )
    assert code == 0 and "added 1" in out
    rej = rejects(home)[-1]
    assert rej["input"] == str(many)
    assert rej["reason"].startswith("zip archive lists 5 members, over the limit of 3 (--max-zip-members")


def test_a_zip_whose_end_record_understates_its_members_is_refused_before_loading_them(tmp_path: Path) -> None:
    """zipfile loads the whole central directory (some 400 bytes of memory per entry):
    the entries are counted first, up to the bound, whatever the end record says."""
    import struct

    from opennews.ingest.zips import count_members, list_members

    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(lying, "w") as z:
        for i in range(5000):
            z.writestr(f"{i:04}.ndjson", b"")
    data = bytearray(lying.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    struct.pack_into("<2H", data, at + 8, 1, 1)  # "1 member" on this disk and in all
    lying.write_bytes(bytes(data))
    assert count_members(lying) == 1
    tracemalloc.start()
    try:
        with pytest.raises(BadInput) as caught:
            list_members(lying, IngestLimits(max_zip_members=10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == (
        "zip archive has more than 10 members (its end record says 1; --max-zip-members or "
        "OPENNEWS_MAX_ZIP_MEMBERS); nothing in it was read"
    )
    assert peak < 256 * 1024, f"{peak / MIB:.1f} MiB: the directory was loaded"
    assert len(list_members(lying, IngestLimits(max_zip_members=5000))) == 5000


def test_a_corrupt_zip_member_keeps_what_came_before(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.ndjson", good(1) + good(2))
    data = bytearray(path.read_bytes())
    at = data.index(b"ok-2")
    data[at : at + 4] = b"ok-X"  # the CRC-32 no longer matches
    path.write_bytes(bytes(data))
    code, _, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    assert code == 0
    assert titles(home) == ["Bài số 1", "Bài số 2"], "what came before the check is kept"
    [rej] = rejects(home)
    assert rej["where"] == f"byte {len(good(1) + good(2))}" and "CRC-32 does not match" in rej["reason"]


# -- records: size, count, streaming ----------------------------------------------------


def test_record_size_in_a_json_document(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    records = [article(1), article(2, "x" * 5000), article(3)]
    path.write_bytes(orjson.dumps(records))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-record-bytes", "1000", str(path))
    assert code == 0 and "added 2" in out
    [rej] = rejects(home)
    assert rej["where"] == "entry 2"
    assert rej["reason"] == "record too large (over 1,000 bytes; --max-record-bytes or OPENNEWS_MAX_RECORD_BYTES)"


def test_a_string_over_the_record_limit_rejects_its_record_and_the_next_ones_are_read() -> None:
    """A string longer than max_record_bytes is dropped as it streams (the parser would
    hold all of it): its record is rejected, the records after it are read."""
    long = "Hà " * (MIB // 2)  # 2 MiB of UTF-8
    doc = '[{"title": "a"}, {"title": "b", "body": "' + long + '\\" x"}, {"title": "c"}]'
    too_large = "record too large (over 1 MiB; --max-record-bytes or OPENNEWS_MAX_RECORD_BYTES)"
    assert _read(doc, max_record_bytes=MIB) == [("entry 1", "a"), ("entry 2", too_large), ("entry 3", "c")]
    key = '[{"title": "a", "' + "k" * (2 * MIB) + '": 1}, "' + "s" * (2 * MIB) + '", {"title": "c"}]'
    assert _read(key, max_record_bytes=MIB) == [
        ("entry 1", too_large),
        ("entry 2", "expected a JSON object, got str"),
        ("entry 3", "c"),
    ]
    # a string that never ends: the document is cut off, what came before is kept
    assert _read('[{"title": "a"}, {"title": "b", "body": "' + "x" * (3 * MIB), max_record_bytes=MIB) == [
        ("entry 1", "a"),
        ("entry 2", "input ends in the middle of a JSON value (truncated file?)"),
    ]
    number = _read('[{"title": "a"}, {"n": ' + "1" * (2 * MIB) + "}]", max_record_bytes=MIB)
    assert number[0] == ("entry 1", "a") and number[1][0] == "entry 2" and "1 MiB" in number[1][1]


def test_blank_space_in_a_json_document_is_not_a_record() -> None:
    """Whitespace between values does not count toward the record size, wherever it is."""
    blank = " " * (3 * MIB)
    assert _read('[{"title": "a"},' + blank + '{"title": "c"}]', max_record_bytes=MIB) == [
        ("entry 1", "a"),
        ("entry 2", "c"),
    ]
    assert _read('[{"title": "a"}]' + "\n" * (3 * MIB), max_record_bytes=MIB) == [("entry 1", "a")]
    assert _read('{"title": ' + blank + '"a"}', max_record_bytes=MIB) == [("entry 1", "a")]


def test_one_value_that_never_ends_stops_the_document(cli: Cli, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('[{"title": "Một", "body": "a"},\n{"title": "Hai", "body": "' + "x" * (400 * 1024))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-record-bytes", "100K", str(path))
    assert code == 0 and "added 1" in out
    [rej] = rejects(home)
    assert rej["where"] == "entry 2" and rej["reason"].startswith("input ends in the middle of a JSON value")


def test_records_per_input_are_capped(cli: Cli, home: Path, tmp_path: Path) -> None:
    lines = tmp_path / "a.ndjson"
    lines.write_bytes(b"".join(good(i) for i in range(5)))
    doc = tmp_path / "b.json"
    doc.write_bytes(orjson.dumps({"articles": [article(i) for i in range(5)]}))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-records", "3", str(lines), str(doc))
    assert code == 0 and "added 6" in out
    found = {r["input"]: r for r in rejects(home)}
    assert found[str(lines)]["where"] == "line 4"
    assert found[str(doc)]["where"] == "entry 1 item 4"
    assert found[str(doc)]["reason"].startswith("more than 3 records in one input (--max-records")


def test_a_big_json_array_is_read_in_the_memory_of_a_few_records(tmp_path: Path) -> None:
    body = "Đoạn văn thử nghiệm về thời tiết Hà Nội. " * 500  # about 22 KB a record
    data = orjson.dumps([article(i, body) for i in range(1000)])  # about 22 MB
    stream = io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        count = 0
        for found in read_json_stream(stream, head=data[:65536].decode()):
            assert isinstance(found, Found)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 1000
    assert peak < 3 * MIB, f"peak {peak / MIB:.1f} MiB for a {len(data) / MIB:.0f} MiB document"


def _read(doc: bytes | str, **limits: int) -> list[tuple[str, str]]:
    """(where, title or reason) of what the streaming reader makes of ``doc``."""
    data = doc.encode() if isinstance(doc, str) else doc
    out = []
    head = data[:65536].decode("utf-8", "replace")
    for r in read_json_stream(io.BufferedReader(io.BytesIO(data)), head=head, limits=IngestLimits(**limits)):  # type: ignore[arg-type]
        out.append((r.where, r.fields["title"] if isinstance(r, Found) and r.fields else getattr(r, "reason", "")))
    return out


def test_document_shapes_read_as_a_stream() -> None:
    one = '{"title": "Một", "body": "a"}'
    two = '{"title": "Hai", "body": "b"}'
    assert _read(one) == [("entry 1", "Một")]
    assert _read(f"[{one}, {two}]") == [("entry 1", "Một"), ("entry 2", "Hai")]
    assert _read(f"[{one}]\n[{two}]") == [("entry 1", "Một"), ("entry 2", "Hai")]  # arrays back to back
    assert _read(f"{one}\n{two}") == [("entry 1", "Một"), ("entry 2", "Hai")]  # objects back to back
    assert _read(f"{one},\n{two}") == [("entry 1", "Một"), ("entry 2", "Hai")]  # ... with commas
    assert _read(f"[[{one}], [[{two}]]]") == [("entry 1", "Một"), ("entry 2", "Hai")]  # flattened
    wrapped = f'{{"status": "ok", "meta": {{"n": [1, 2]}}, "articles": [{one}, 7, [], {two}], "next": [{one}]}}'
    assert _read(wrapped) == [
        ("entry 1 item 1", "Một"),
        ("entry 1 item 2", "expected a JSON object, got int"),
        ("entry 1 item 3", "expected a JSON object, got list"),
        ("entry 1 item 4", "Hai"),
    ]
    titled = '{"title": "Có tiêu đề", "body": "x", "items": [1, 2]}'  # a title before the list: an article
    assert _read(titled) == [("entry 1", "Có tiêu đề")]
    assert _read(f'[{one}, "chữ", null]') == [
        ("entry 1", "Một"),
        ("entry 2", "expected a JSON object, got str"),
        ("entry 3", "expected a JSON object, got NoneType"),
    ]
    assert _read(f'[{one}, {{"title": "Ba", "bo') == [
        ("entry 1", "Một"),
        ("entry 2", "input ends in the middle of a JSON value (truncated file?)"),
    ]
    [(where, reason)] = _read('[{"title": "Bốn" "body": 1}]')
    assert where == "entry 1" and reason.startswith("invalid JSON: ")


def test_json_documents_in_utf16_and_windows_1258_are_streamed(cli: Cli, home: Path, tmp_path: Path) -> None:
    from conftest import to_cp1258

    doc = '[{"title": "Hải Phòng khởi công cảng", "body": "Dự án có tổng vốn 7.000 tỷ đồng."}]'
    (tmp_path / "u16.json").write_bytes(doc.encode("utf-16"))
    (tmp_path / "cp.json").write_bytes(to_cp1258(doc.replace("Hải", "Hà")))
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(tmp_path))
    assert code == 0 and "added 2" in out, out
    assert "utf-16" in out and "windows-1258" in out
    assert titles(home) == ["Hà Phòng khởi công cảng", "Hải Phòng khởi công cảng"]


def test_windows_1258_after_64_kib_of_ascii_is_told_by_its_first_accented_bytes(
    cli: Cli, home: Path, tmp_path: Path
) -> None:
    """The first 64 KiB used to choose the encoding: plain ASCII there meant UTF-8, and the
    first Windows-1258 letter lost its entry and all after it."""
    from conftest import to_cp1258

    ascii_records = ",".join(f'{{"title": "Tin so {i}", "body": "Noi dung."}}' for i in range(1500))
    doc = "[" + ascii_records + ', {"title": "Hà Phòng", "body": "Cảng biển."}, {"title": "Sau đó", "body": "x"}]'
    data = to_cp1258(doc)
    assert len(data) > 65536 and data[:65536].isascii()
    (tmp_path / "cp.json").write_bytes(data)
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(tmp_path / "cp.json"))
    assert code == 0 and "added 1,502" in out and "rejected 0" in out, out
    assert "windows-1258" in out
    assert {"Hà Phòng", "Sau đó"} <= set(titles(home))
    start = '[{"title": "a", "body": "'
    utf8 = (start + "x" * (65535 - len(start)) + 'à"}, {"title": "Hà"}]').encode()  # "à" cut by the block
    assert utf8[65535:65537] == "à".encode()
    assert _read(utf8) == [("entry 1", "a"), ("entry 2", "Hà")]


def test_a_parse_error_reason_is_short_text() -> None:
    [(where, reason)] = _read(b'[{"title": "\x81\x8d' + b"x" * 500 + b'"}]')
    assert where == "entry 1" and reason.startswith("invalid JSON: lexical error: invalid bytes in UTF8 string")
    assert "b'" not in reason and "\\n" not in reason and len(reason) < 160


def test_limits_come_from_flags_then_environment(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert IngestLimits.from_env({"OPENNEWS_MAX_DEPTH": "10"}, max_depth=5).max_depth == 5
    assert IngestLimits.from_env({"OPENNEWS_MAX_DEPTH": "10"}, max_depth=None).max_depth == 10
    assert IngestLimits.from_env({"OPENNEWS_MAX_INPUT_BYTES": "2G"}).max_input_bytes == 2 << 30
    assert IngestOptions().limits == IngestLimits()
    path = tmp_path / "a.ndjson"
    path.write_bytes(good(1))
    monkeypatch.setenv("OPENNEWS_MAX_RATIO", "lots")
    code, _, err = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(path))
    assert code == 2 and "OPENNEWS_MAX_RATIO" in err
    with pytest.raises(SystemExit):
        cli("ingest", "--max-depth", "-1", str(path))


def test_records_after_a_leading_blank_stretch_are_read_with_their_line_numbers(
    cli: Cli, home: Path, tmp_path: Path
) -> None:
    """The first 64 KiB decide the format; a blank stretch there is skipped, not an
    "empty input", and lines keep their numbers in rejects."""
    data = tmp_path / "late.ndjson"
    data.write_bytes(b"\n" * 100_000 + b"   \n" + good(1) + b"{not json\n")
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", str(data))
    assert code == 0 and "added 1" in out
    [rej] = rejects(home)
    assert rej["where"] == "line 100003"
    assert titles(home) == ["Bài số 1"]
    blank = tmp_path / "blank.ndjson"
    blank.write_bytes(b"\n \t\n" * 50_000)
    cli("ingest", "--quiet", "--no-index", "--no-dumps", str(blank))
    assert rejects(home)[-1]["reason"] == "empty input"


def test_documents_read_whole_are_capped(cli: Cli, home: Path, tmp_path: Path) -> None:
    """Page text and HTML pages are read whole: one over --max-document-bytes is rejected,
    the inputs beside it are read."""
    page = "Tin trong giới hạn\nLời dẫn của bài.\nĐoạn thân bài đầu tiên.\n"
    (tmp_path / "a.txt").write_text(page, encoding="utf-8")
    (tmp_path / "b.txt").write_text(page.replace("trong", "quá") + "Đoạn dài. " * 2000, encoding="utf-8")
    html = "<html><head><title>Trang quá lớn</title></head><body>" + "<p>Đoạn.</p>" * 3000 + "</body></html>"
    (tmp_path / "c.html").write_text(html, encoding="utf-8")
    # NDJSON streams: a 12 KB record is bound by --max-record-bytes, not by this cap
    (tmp_path / "d.ndjson").write_bytes(orjson.dumps(article(1, "Nội dung. " * 1000)) + b"\n")
    code, out, _ = cli("ingest", "--quiet", "--no-index", "--no-dumps", "--max-document-bytes", "10K", str(tmp_path))
    assert code == 0 and "added 2" in out, out
    found = {Path(r["input"]).name: r for r in rejects(home)}
    assert set(found) == {"b.txt", "c.html"}
    for rej in found.values():
        assert rej["where"] == "file"
        assert rej["reason"].startswith("document too large to read whole (over 10 KiB; --max-document-bytes")
    assert titles(home) == ["Tin số 1", "Tin trong giới hạn"]
