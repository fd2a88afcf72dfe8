"""Dump files: monthly NDJSON, snapshot, CSV/Parquet, manifest, datapackage, verification, round trip.

A small demo home is built once with the real CLI (``opennews demo`` writes the dumps
after indexing); tests that change things copy it.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from opennews.archive import Archive
from opennews.cli import main
from opennews.dumps import article_schema, build_dumps, load_manifest, verify_dumps
from opennews.dumps import writer as writer_mod
from opennews.dumps.formats import compressions, has_parquet
from opennews.vietnamese import to_vietnam

ARTICLES = 120


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("dumps-home")
    assert run("--home", str(home), "demo", "--articles", str(ARTICLES), "--seed", "7")[0] == 0
    return home


@pytest.fixture
def home(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(built, copy)
    return copy


def export(home: Path, target: Path) -> bytes:
    assert run("--home", str(home), "export", "-o", str(target))[0] == 0
    return target.read_bytes()


def lines_of(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines()


def test_monthly_files_and_snapshot_hold_every_record_once(built: Path) -> None:
    dumps = built / "dumps"
    manifest = load_manifest(dumps)
    assert manifest is not None and manifest["archive"]["articles"] == ARTICLES
    with Archive.open(built / "opennews.sqlite3", readonly=True) as archive:
        stored = [r.encode() for r in archive.iter_json()]
    monthly: list[bytes] = []
    for entry in manifest["files"]:
        data = (dumps / entry["name"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        if entry["name"].startswith("articles-2") and entry["name"].endswith(".ndjson.gz"):
            lines = lines_of(dumps / entry["name"])
            assert len(lines) == entry["records"] > 0
            published = [orjson.loads(x)["published"] for x in lines]
            assert all(p.startswith(entry["part"]) for p in published)
            assert entry["first_published"] == min(published) and entry["last_published"] == max(published)
            monthly.extend(lines)
    assert lines_of(dumps / "articles-all.ndjson.gz") == stored  # archive order, bytes as stored
    assert sorted(monthly) == sorted(stored)
    names = {e["name"] for e in manifest["files"]}
    if "zst" in compressions():
        assert "articles-all.ndjson.zst" in names
    assert gzip.decompress((dumps / "articles-all.ndjson.gz").read_bytes())[:1] == b"{"
    assert (dumps / "articles-all.ndjson.gz").read_bytes()[4:8] == b"\0\0\0\0"  # no time in the gzip header


def test_csv_parquet_and_schema_describe_the_same_records(built: Path) -> None:
    dumps = built / "dumps"
    records = [orjson.loads(x) for x in lines_of(dumps / "articles-all.ndjson.gz")]
    validator = jsonschema.Draft202012Validator(article_schema())
    jsonschema.Draft202012Validator.check_schema(article_schema())
    for record in records:
        validator.validate(record)
    rows = list(csv.DictReader(io.StringIO(gzip.decompress((dumps / "articles-all.csv.gz").read_bytes()).decode())))
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    assert [r["title"] for r in rows] == [r["title"] for r in records]
    assert [orjson.loads(r["tags"]) for r in rows] == [r["tags"] for r in records]
    assert rows[0]["body"] == records[0]["body"]  # multi-line cells survive
    if has_parquet():
        import pyarrow.parquet as pq

        table = pq.read_table(dumps / "articles-all.parquet")
        assert table.column("id").to_pylist() == [r["id"] for r in records]
        assert table.column("images").to_pylist() == [r["images"] for r in records]


def test_datapackage_matches_the_manifest(built: Path) -> None:
    dumps = built / "dumps"
    manifest = load_manifest(dumps)
    package = orjson.loads((dumps / "datapackage.json").read_bytes())
    assert package["licenses"] and package["licenses"][0]["name"] == "Apache-2.0"
    by_path = {r["path"]: r for r in package["resources"]}
    assert manifest is not None and set(by_path) == {e["name"] for e in manifest["files"]}
    for entry in manifest["files"]:
        resource = by_path[entry["name"]]
        assert resource["hash"] == "sha256:" + entry["sha256"] and resource["bytes"] == entry["bytes"]
    table = by_path["articles-all.csv.gz"]["schema"]
    assert [f["name"] for f in table["fields"]][:3] == ["id", "url", "source"]
    assert table["primaryKey"] == ["id"]
    assert orjson.loads((dumps / "article.schema.json").read_bytes())["required"][0] == "id"


def test_unchanged_months_are_not_rewritten(home: Path) -> None:
    dumps = home / "dumps"
    before = load_manifest(dumps)
    assert before is not None
    stamps = {p.name: p.stat().st_mtime_ns for p in dumps.iterdir()}
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        assert build_dumps(archive, dumps).written == []
    assert {p.name: p.stat().st_mtime_ns for p in dumps.iterdir() if p.name in stamps and "json" not in p.name} == {
        k: v for k, v in stamps.items() if "json" not in k
    }
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive:
        victim = orjson.loads(next(archive.iter_json()))
    month = victim["published"][:7]
    code, _, err = run("--home", str(home), "withdraw", victim["id"], "--reason", "gỡ theo yêu cầu")
    assert code == 0 and "Dumps: " in err and "written" in err  # the withdrawal rewrote what held it
    after = load_manifest(dumps)
    assert after is not None
    old = {e["name"]: e for e in before["files"]}
    changed = {e["name"] for e in after["files"] if old.get(e["name"], {}).get("sha256") != e["sha256"]}
    parts = {e["part"] for e in after["files"] if e["name"] in changed}
    assert parts == {month, "all", "withdrawals"}
    this_month = to_vietnam(datetime.now(UTC)).strftime("%Y-%m")
    for entry in after["files"]:
        if entry["name"] not in changed:
            assert entry["generated_at"] == old[entry["name"]]["generated_at"]
            assert entry["closed"] is (entry["part"][:1].isdigit() and entry["part"] < this_month)
    tombs = [orjson.loads(x) for x in lines_of(dumps / "withdrawals.ndjson.gz")]
    assert tombs == [
        {
            "id": victim["id"],
            "tombstone": True,
            "withdrawn_at": tombs[0]["withdrawn_at"],
            "reason": "gỡ theo yêu cầu",
            "purged": False,
        }
    ]
    assert victim["id"].encode() not in gzip.decompress((dumps / "articles-all.ndjson.gz").read_bytes())


def test_a_failed_write_leaves_the_old_files(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dumps = home / "dumps"
    before = {p.name: p.read_bytes() for p in dumps.iterdir() if p.is_file()}

    def broken(self: object, line: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer_mod._CsvSink, "record", broken)
    with Archive.open(home / "opennews.sqlite3", readonly=True) as archive, pytest.raises(OSError, match="disk full"):
        build_dumps(archive, dumps, force=True)
    after = {p.name: p.read_bytes() for p in dumps.iterdir() if p.is_file()}
    assert after == before  # nothing half-written, no temporary file left behind


def test_verify_dumps_finds_truncated_corrupt_and_missing_files(home: Path) -> None:
    dumps = home / "dumps"
    code, out, _ = run("verify-dumps", str(dumps), "--deep")
    assert code == 0 and "PROBLEM" not in out
    manifest = load_manifest(dumps)
    assert manifest is not None
    months = [e["name"] for e in manifest["files"] if e["name"].startswith("articles-2")]
    truncated, corrupt, missing = dumps / months[0], dumps / months[1], dumps / months[2]
    truncated.write_bytes(truncated.read_bytes()[:-5])
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    missing.unlink()
    report = verify_dumps(dumps)
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"{truncated.name}: " in text and "incomplete" in text
    assert f"{corrupt.name}: SHA-256 differs" in text
    assert f"{missing.name}: missing" in text
    assert run("verify-dumps", str(dumps))[0] == 1


def test_verify_deep_catches_a_manifest_that_lies(home: Path) -> None:
    dumps = home / "dumps"
    manifest = load_manifest(dumps)
    assert manifest is not None
    manifest["files"][0]["records"] += 1
    (dumps / "manifest.json").write_bytes(orjson.dumps(manifest))
    assert verify_dumps(dumps).ok
    report = verify_dumps(dumps, deep=True)
    assert not report.ok and "the manifest says" in report.problems[0]


def test_round_trip_through_ingest_gives_an_identical_archive(built: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    code, _, _ = run("--home", str(fresh), "ingest", "--quiet", str(built / "dumps" / "articles-all.ndjson.gz"))
    assert code == 0
    original, copied = export(built, tmp_path / "a.ndjson"), export(fresh, tmp_path / "b.ndjson")
    assert copied == original and original.count(b"\n") == ARTICLES  # same ids, same records, same order
    # the monthly files give the same archive too (in another order)
    monthly = tmp_path / "monthly"
    files = sorted(str(p) for p in (built / "dumps").glob("articles-2*.ndjson.gz"))
    assert run("--home", str(monthly), "ingest", "--quiet", "--no-dumps", *files)[0] == 0
    from_months = export(monthly, tmp_path / "c.ndjson")
    assert sorted(from_months.splitlines()) == sorted(original.splitlines())
    assert not (monthly / "dumps").exists()
    # and the fresh home's own dumps are byte-identical to the original's
    a, b = load_manifest(built / "dumps"), load_manifest(fresh / "dumps")
    assert a is not None and b is not None
    assert [(e["name"], e["sha256"]) for e in a["files"] if e["part"] != "withdrawals"] == [
        (e["name"], e["sha256"]) for e in b["files"] if e["part"] != "withdrawals"
    ]
