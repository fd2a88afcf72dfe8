"""The archive's schema, its version, and the ordered steps that bring an older archive up
to date, on either database (see :mod:`opennews.database` for how each spells the DDL).

The version is the ``meta`` row ``schema_version``: the number of the last step applied.
Opening an archive for writing applies the steps it lacks, all in one transaction (DDL is
transactional in SQLite and PostgreSQL alike), so an upgrade interrupted half-way leaves
the archive as it was. Several processes opening one archive at once wait for each other
(the write lock of :meth:`Database.begin`) and the later ones find nothing left to do. An
archive whose version is higher than this code's :data:`SCHEMA_VERSION` was made by a
newer opennews and is refused rather than misread.

A step never rewrites what an older step made; a new table, column or index is a new
step. Steps are written so that running one on an archive that already has its parts does
nothing (``IF NOT EXISTS``, a column added only when missing): schema 1 grew in place for
a while (the write tokens, the audit log, the followed sources, ``runs.owner``) before
this mechanism existed, so an archive stamped 1 may lack some of them, and step 2 makes
sure of all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .database import Database

__all__ = ["SCHEMA_VERSION", "STEPS", "SchemaTooNew", "Step", "upgrade", "version"]


class SchemaTooNew(Exception):
    """The archive was made by a newer opennews."""


SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id           TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source       TEXT NOT NULL,
    category     TEXT,
    published    TEXT,
    ingested_at  TEXT NOT NULL,
    record       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id            TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    ingested_at   TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    record        TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS withdrawals (
    id           TEXT PRIMARY KEY,
    withdrawn_at TEXT NOT NULL,
    reason       TEXT NOT NULL,
    purged       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    version INTEGER,
    at      TEXT NOT NULL,
    run_id  INTEGER
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,
    command     TEXT,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT
);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id      INTEGER NOT NULL,
    input       TEXT NOT NULL,
    format      TEXT,
    encoding    TEXT,
    compression TEXT,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, input)
);
CREATE TABLE IF NOT EXISTS seen (
    fingerprint BLOB PRIMARY KEY,
    id          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_id ON seen (id);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published);
CREATE INDEX IF NOT EXISTS changes_id ON changes (id);
-- tokens.py: the write API's tokens (only a hash of each) and the audit log of its writes
CREATE TABLE IF NOT EXISTS tokens (
    name       TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used  TEXT,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    token     TEXT,
    action    TEXT NOT NULL,
    target    TEXT,
    status    INTEGER NOT NULL,
    added     INTEGER,
    updated   INTEGER,
    unchanged INTEGER,
    rejected  INTEGER,
    detail    TEXT,
    client    TEXT
);
-- follow.sources and follow.items: the outlets followed (feeds, sitemaps, home pages) and the items seen in them
CREATE TABLE IF NOT EXISTS follow_sources (
    url           TEXT PRIMARY KEY,
    name          TEXT,
    kind          TEXT NOT NULL,
    via           TEXT,
    every_minutes INTEGER NOT NULL,
    added_at      TEXT NOT NULL,
    last_poll     TEXT,
    last_status   TEXT,
    articles      INTEGER NOT NULL DEFAULT 0,
    error_streak  INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_due      TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS follow_items (
    url          TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    article_id   TEXT,
    published    TEXT,
    first_seen   TEXT NOT NULL,
    last_checked TEXT,
    checks       INTEGER NOT NULL DEFAULT 0,
    next_check   TEXT,
    state        TEXT NOT NULL,
    last_error   TEXT,
    feed         TEXT
);
CREATE INDEX IF NOT EXISTS follow_items_next ON follow_items (next_check);
CREATE TABLE IF NOT EXISTS follow_sitemaps (
    url           TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT
);
"""


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _schema_1(db: Database) -> None:
    """Every table of schema 1 as it stands, created where missing."""
    for statement in _statements(SCHEMA_1):
        db.execute(db.ddl(statement))
    # The order articles and runs' inputs were added in (exports, sitemaps, the run log).
    db.add_order_column("articles")
    db.add_order_column("run_inputs")


def _schema_2(db: Database) -> None:
    """What schema 1 gained in place made sure of, and the change log indexed by time, for
    exports "since" a moment (:meth:`Archive.first_seq_after` otherwise reads the whole log)."""
    _schema_1(db)
    if "owner" not in db.columns("runs"):
        db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS changes_at ON changes (at)")


@dataclass(frozen=True)
class Step:
    version: int
    what: str
    apply: Callable[[Database], None]


#: The steps, in order; a step's ``version`` is the schema version an archive has after it.
STEPS: tuple[Step, ...] = (
    Step(1, "articles, versions, withdrawals, the change log, runs, seen; tokens, audit, followed sources", _schema_1),
    Step(2, "schema 1's later tables and columns made sure of; the change log indexed by time", _schema_2),
)
SCHEMA_VERSION = STEPS[-1].version


def version(db: Database) -> int:
    """The archive's schema version; 0 for a database with no archive in it yet."""
    if not db.has_table("meta"):
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _refuse_newer(found: int, target: int) -> None:
    if found > target:
        raise SchemaTooNew(f"archive schema {found} is newer than this opennews ({target}); upgrade opennews")


def upgrade(db: Database, target: int = SCHEMA_VERSION, *, steps: Sequence[Step] = STEPS) -> list[Step]:
    """Bring the archive to schema ``target`` (the steps applied, none when it was there);
    :class:`SchemaTooNew` for an archive newer than that."""
    found = version(db)
    _refuse_newer(found, target)
    if found == target:
        return []
    db.begin(write=True)
    try:
        found = version(db)  # another process may have upgraded it while this one waited
        _refuse_newer(found, target)
        todo = [step for step in steps if found < step.version <= target]
        for step in todo:
            step.apply(db)
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(target),),
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return todo
