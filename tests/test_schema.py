"""Schema versions: an archive made by an older opennews is brought up to date when opened
for writing, in one transaction; one made by a newer opennews is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opennews.archive import Archive, ArchiveError
from opennews.database import open_database
from opennews.schema import SCHEMA_VERSION, STEPS, Step, upgrade, version

FIXTURES = Path(__file__).parent / "fixtures"


def schema_1_archive(path: Path, *, first_shipped: bool = False) -> Path:
    """An archive as opennews made it at schema 1 (dumped from it: three articles, one changed,
    one withdrawn, a run). ``first_shipped``: as schema 1 first was, before it grew in place
    (no tokens, audit, followed sources, nor ``runs.owner``)."""
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "archive-schema-1.sql").read_text())
    if first_shipped:
        for table in ("tokens", "audit", "follow_sources", "follow_items", "follow_sitemaps"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE runs DROP COLUMN owner")
    conn.commit()
    conn.close()
    return path


def indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


@pytest.mark.parametrize("first_shipped", [False, True])
def test_a_schema_1_archive_is_upgraded_and_keeps_everything(tmp_path: Path, first_shipped: bool) -> None:
    path = schema_1_archive(tmp_path / "old.sqlite3", first_shipped=first_shipped)
    assert "changes_at" not in indexes(path)
    with Archive.open(path, readonly=True) as archive:  # a reader does not upgrade
        before = (archive.count(), archive.changes_since(0), list(archive.iter_json()), archive.withdrawals())
    with Archive.open(path) as archive:
        assert archive.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(
            SCHEMA_VERSION
        )
        assert (archive.count(), archive.changes_since(0), list(archive.iter_json()), archive.withdrawals()) == before
        assert before[0] == 2 and [k for _, _, k in before[1]] == ["add", "add", "add", "update", "withdraw"]
        assert [v["version"] for v in archive.history(before[1][1][1])] == [1, 2]
        # what schema 1 gained in place is there, and works
        archive.execute("INSERT INTO tokens (name, scope, hash, created_at) VALUES ('t', 'ingest', 'h', 'now')")
        run = archive.start_run("ingest after the upgrade")
        assert archive.runs()[0]["run_id"] == run == 2
        assert archive.first_seq_after("2000-01-01T00:00:00+00:00") == 0
    assert "changes_at" in indexes(path)
    with Archive.open(path) as archive:  # opened again: nothing left to do
        assert upgrade(archive._db) == []


def test_an_archive_newer_than_the_code_is_refused(archive_target: str | Path) -> None:
    Archive.open(archive_target).close()
    db = open_database(archive_target, readonly=False)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.close()
    with pytest.raises(ArchiveError, match=rf"schema {SCHEMA_VERSION + 1} is newer than this opennews"):
        Archive.open(archive_target)


def test_each_step_in_order_on_both_backends(archive_target: str | Path) -> None:
    db = open_database(archive_target, readonly=False)
    try:
        assert version(db) == 0
        assert [s.version for s in upgrade(db, target=1)] == [1]
        assert version(db) == 1 and "changes_at" not in _index_names(db)
        assert [s.version for s in upgrade(db)] == list(range(2, SCHEMA_VERSION + 1))
        assert version(db) == SCHEMA_VERSION and "changes_at" in _index_names(db)
    finally:
        db.close()
    with Archive.open(archive_target) as archive:
        assert archive.upsert_batch([]).statuses == []


def test_a_failing_step_leaves_the_archive_as_it_was(archive_target: str | Path) -> None:
    Archive.open(archive_target).close()

    def half_done(db) -> None:
        db.execute(db.ddl("CREATE TABLE half (x INTEGER)"))
        raise RuntimeError("interrupted")

    db = open_database(archive_target, readonly=False)
    try:
        with pytest.raises(RuntimeError, match="interrupted"):
            upgrade(db, SCHEMA_VERSION + 1, steps=(*STEPS, Step(SCHEMA_VERSION + 1, "half", half_done)))
        assert version(db) == SCHEMA_VERSION and not db.has_table("half") and not db.in_transaction
    finally:
        db.close()


def _index_names(db) -> set[str]:
    if db.kind == "sqlite":
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return {r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
