"""SQLite and PostgreSQL behind one Archive: the same input gives the same archive, down to
the bytes of every export, the change log's order and the run log."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from opennews.archive import Archive
from opennews.cli import main
from postgres import Cluster

SOURCES = ("tinmau.example", "báo-mẫu.example", "Zeta.example", "ánh.example")
CATEGORIES = ("Thời sự", "thể thao", "Đời sống", "Kinh doanh", None)


def records(n: int, *, edit: set[int] = frozenset(), start: str = "2024-03-0") -> list[dict[str, object]]:
    out = []
    for i in range(n):
        body = f"Đoạn thứ nhất của bài {i}.\n\nĐoạn thứ hai: Hà Nội, Đà Nẵng, thủy điện."
        if i in edit:
            body += "\n\nĐính chính: số liệu đã được cập nhật."
        out.append(
            {
                "url": f"https://{SOURCES[i % 4].encode('idna').decode()}/bai/{i}.html",
                "source": SOURCES[i % 4],
                "category": CATEGORIES[i % 5],
                "title": f"Tiêu đề số {i}: “trích dẫn” & <thẻ>",
                "body": body,
                "author": "Phóng viên" if i % 3 else None,
                "published": f"{start}{1 + i % 9}T0{i % 10}:15:00+07:00",
                "ingested_at": "2024-03-10T01:02:03+00:00" if i not in edit else "2024-03-11T04:05:06+00:00",
                "tags": ["một", "hai"] if i % 2 else [],
            }
        )
    return out


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def run(home: Path, database: str | None, *args: str) -> None:
    flags = ["--home", str(home)] + (["--database", database] if database else [])
    assert main([*flags, *args]) == 0, args


def build(tmp_path: Path, name: str, database: str | None) -> tuple[Path, str | Path]:
    """One home, its archive on the given backend, made by the same commands."""
    home = tmp_path / name
    home.mkdir()
    first = write(tmp_path / "first.ndjson", records(40))
    second = write(tmp_path / "second.ndjson", records(45, edit={3, 7, 12}))
    bare = ("--no-index", "--no-dumps")
    run(home, database, "ingest", "--quiet", *bare, str(first))
    run(home, database, "ingest", "--quiet", *bare, str(second), str(first))
    with Archive.open(database or home / "opennews.sqlite3") as archive:
        ids = [i for i, _, _ in archive.listing(0, 100)]
    run(home, database, "withdraw", ids[5], "--reason", "Yêu cầu của tòa án")
    run(home, database, "withdraw", ids[9], "--reason", "Gỡ bỏ", "--purge")
    return home, database or home / "opennews.sqlite3"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, postgres_cluster: Cluster):
    """The same commands run on a SQLite home and on a home whose archive is in PostgreSQL."""
    tmp_path = tmp_path_factory.mktemp("backends")
    lite = build(tmp_path, "lite", None)
    pg = build(tmp_path, "pg", postgres_cluster.new_database())
    return lite, pg


def _export(home: Path, target: str | Path, *args: str) -> bytes:
    out = home / "export.out"
    database = target if isinstance(target, str) else None
    run(home, database, "export", "--output", str(out), *args)
    return out.read_bytes()


def test_exports_are_byte_for_byte_the_same(both) -> None:
    (lite_home, lite), (pg_home, pg) = both
    for fmt in ("ndjson", "json", "csv"):
        a = _export(lite_home, lite, "--format", fmt)
        b = _export(pg_home, pg, "--format", fmt)
        assert a == b, fmt
        assert len(a) > 5000
    # the changes since the start: records and tombstones (whose times are the clock's)
    stamp = re.compile(rb'"withdrawn_at":"[^"]+"')
    a = _export(lite_home, lite, "--cursor", "0")
    b = _export(pg_home, pg, "--cursor", "0")
    assert stamp.sub(b"", a) == stamp.sub(b"", b) and b"Y\xc3\xaau c\xe1\xba\xa7u" in a


def test_the_archive_reads_the_same(both) -> None:
    (_, lite), (_, pg) = both
    seen = []
    for target in (lite, pg):
        with Archive.open(target, readonly=True) as archive:
            ids = [i for i, _, _ in archive.listing(0, 100)]
            stats = archive.stats()
            stats.pop("bytes_on_disk")
            runs = archive.runs()
            for r in runs:
                r.pop("started_at"), r.pop("finished_at")
            seen.append(
                {
                    "ids": ids,
                    "changes": archive.changes_since(0),
                    "histories": [[(v["version"], v["content_hash"]) for v in archive.history(i)] for i in ids],
                    "stats": stats,
                    "runs": runs,
                    "sources": archive.distinct("source"),
                    "categories": archive.distinct("category"),
                    "withdrawals": [(w["id"], w["reason"], w["purged"]) for w in archive.withdrawals()],
                    "newest": archive.newest_published(),
                    "hidden": sorted(archive.hidden_since(0)),
                    "check": archive.check(),
                }
            )
    assert seen[0] == seen[1]
    # 45 added, 2 withdrawn; 3 changed (3 earlier versions) and 1 withdrawn with its text kept
    assert len(seen[0]["ids"]) == 43 and seen[0]["stats"]["versions"] == 4
    assert [k for _, _, k in seen[0]["changes"]].count("update") == 3
    assert seen[0]["sources"] == sorted(SOURCES)  # byte order, whatever the server's locale


def test_the_home_keeps_only_derived_parts(both) -> None:
    _, (pg_home, _) = both
    assert not list(pg_home.glob("*.sqlite3*"))
    assert (pg_home / "index").is_dir() and (pg_home / "feeds").is_dir()  # synced after the withdrawals


def test_the_database_is_chosen_by_flag_or_environment(
    postgres_cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opennews.settings import Settings

    url = postgres_cluster.new_database()
    env = {"OPENNEWS_HOME": str(tmp_path), "OPENNEWS_DATABASE_URL": url}
    assert Settings.from_env(environ=env).archive_target == url
    assert Settings.from_env(environ=env, database="postgresql://elsewhere/db").archive_target == (
        "postgresql://elsewhere/db"
    )
    assert Settings.from_env(environ={"OPENNEWS_HOME": str(tmp_path)}).archive_target == tmp_path / "opennews.sqlite3"
    with pytest.raises(ValueError, match="postgresql:// URL"):
        Settings.from_env(environ=env, database="mysql://x/y")

    monkeypatch.setenv("OPENNEWS_DATABASE_URL", url.replace("postgres@", "postgres:sekret@"))
    assert main(["--home", str(tmp_path), "stats"]) == 1
    err = capsys.readouterr().err
    assert "no archive in the database" in err and "sekret" not in err and ":***@" in err
    assert main(["--home", str(tmp_path), "demo", "--articles", "12"]) == 0
    capsys.readouterr()
    assert main(["--home", str(tmp_path), "stats", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["articles"] == 12
    assert not list(tmp_path.glob("*.sqlite3*"))


def test_the_web_app_reads_a_postgresql_archive(both) -> None:
    """The app's reads (search, an article, its history, feeds, the streamed export) on the
    home whose archive is in PostgreSQL answer as on the SQLite one."""
    from starlette.testclient import TestClient

    from opennews.settings import Settings
    from opennews.web import create_app

    answers = []
    for home, target in both:
        settings = Settings(home, target if isinstance(target, str) else None)
        with TestClient(create_app(settings)) as client:
            found = client.get("/api/search", params={"q": "thuy dien", "limit": "50", "sort": "newest"}).json()
            first = found["results"][0]["id"]
            article = client.get(f"/api/articles/{first}").json()
            export = client.get("/api/export", params={"q": "Hà Nội"})
            feed = client.get("/feeds/latest.atom")
            assert export.status_code == 200 and feed.status_code == 200
            answers.append(
                (
                    [r["id"] for r in found["results"]],
                    article.get("title"),
                    article.get("versions") or article.get("history"),
                    export.content,
                    feed.content.count(b"<entry>"),
                )
            )
    assert answers[0] == answers[1]
    assert len(answers[0][0]) == 43 and answers[0][3].count(b"\n") == 43
