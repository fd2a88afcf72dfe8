"""The archive: the system of record, in SQLite (WAL mode, one machine) or PostgreSQL (a
server several machines share; see :mod:`opennews.database`).

Articles are stored whole (the record as JSON, plus the few columns that are
queried), every earlier version is kept, withdrawals leave a tombstone, and an
append-only change log gives later layers (index, feeds, dumps, other nodes) an
"updated since" cursor. One transaction per batch: a crash leaves every committed
batch whole and nothing half-written.

The SQL is deliberately plain (no SQLite-only functions in queries), written once with
``?`` parameters; the few things the two databases spell differently (DDL, locking,
streaming, the column that keeps insertion order) are the :class:`Database`'s business.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import orjson

from . import processes
from .article import Article, make_article
from .database import Cursor, Database, DatabaseMissing, open_database
from .schema import SCHEMA_VERSION, SchemaTooNew, upgrade

__all__ = ["SCHEMA_VERSION", "Archive", "ArchiveError", "BatchResult", "Row", "Status", "timestamp", "to_row"]

Status = Literal["added", "updated", "unchanged", "withdrawn"]


_IN_CHUNK = 500
_INSERT_ARTICLE = (
    "INSERT INTO articles (id, version, content_hash, source, category, published, ingested_at, record) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class Row(NamedTuple):
    """An article ready for storage: the queried columns plus the record as JSON.

    Serialising happens where the article is validated (a worker process), so
    the writer only moves strings into SQLite.
    """

    id: str
    content_hash: str
    source: str
    category: str | None
    published: str | None
    ingested_at: str
    record: str
    title: str


def to_row(article: Article) -> Row:
    return Row(
        article.id,
        article.content_hash,
        article.source,
        article.category,
        article.published.isoformat() if article.published else None,
        article.ingested_at.isoformat(),
        article.to_json().decode(),
        article.title,
    )


class ArchiveError(Exception):
    """An archive operation that cannot be done (unknown id, newer schema...)."""


@dataclass
class BatchResult:
    """What one batch did, per article in input order, plus totals."""

    statuses: list[Status]

    def count(self, status: Status) -> int:
        return sum(1 for s in self.statuses if s == status)


def timestamp(moment: datetime | None = None) -> str:
    """How the archive and the state kept beside it (tokens, sources) write a time: UTC, to
    the second, ISO 8601, so that text order is time order in both databases."""
    return (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()


def _now() -> str:
    return timestamp()


class Archive:
    """The system of record. Open with :meth:`open`; use as a context manager."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn = getattr(db, "conn", None)  # the raw connection, for tests that look beneath
        self.path = db.path
        self.where = db.where

    # -- lifecycle --------------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path, *, readonly: bool = False) -> Archive:
        """Open the archive at ``target``: a SQLite file's path (created if needed), or a
        ``postgresql://`` URL (its schema created if needed). Writable opens bring an older
        schema up to date (:mod:`opennews.schema`) and refuse a newer one."""
        try:
            db = open_database(target, readonly=readonly)
        except DatabaseMissing as exc:
            raise ArchiveError(f"{exc}; run 'opennews ingest' or 'opennews demo' first") from None
        if not readonly:
            try:
                upgrade(db)
            except SchemaTooNew as exc:
                db.close()
                raise ArchiveError(str(exc)) from None
            except BaseException:
                db.close()
                raise
        return cls(db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: committed when the block completes, rolled back when it
        does not (an interrupt that lands after the commit itself has nothing to roll back)."""
        self._db.begin(write=True)
        try:
            yield
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    # -- state kept beside the articles (sources followed, write tokens, audit) ---
    #
    # Their own modules own their tables and queries (follow.sources, tokens); they reach
    # the database only through these two, so that another backend can stand behind them.

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one plain-SQL statement (``?`` parameters, whichever the database)."""
        return self._db.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, as the archive's own writes use (see ``_transaction``)."""
        with self._transaction():
            yield

    # -- ingestion runs ---------------------------------------------------------

    def start_run(self, command: str) -> int:
        """Log a new run, owned by this process; runs whose process is gone without
        ending them (killed outright) are logged as "died" on the way."""
        for run_id, owner in self._db.execute("SELECT run_id, owner FROM runs WHERE status = 'running'").fetchall():
            if not processes.alive(owner):
                self._db.execute("UPDATE runs SET status = 'died' WHERE run_id = ? AND status = 'running'", (run_id,))
        cur = self._db.execute(
            "INSERT INTO runs (started_at, status, command, owner) VALUES (?, 'running', ?, ?) RETURNING run_id",
            (_now(), command, processes.own_mark()),
        )
        return int(cur.fetchone()[0])

    def finish_run(self, run_id: int, status: str = "done") -> None:
        self._db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", (_now(), status, run_id))

    def record_input(self, run_id: int, name: str, **info: Any) -> None:
        """Create or update the per-input line of a run (format, encoding, counts)."""
        cols = ("format", "encoding", "compression", "added", "updated", "unchanged", "rejected")
        values = [info.get(c) for c in cols]
        self._db.execute(
            "INSERT INTO run_inputs "
            "(run_id, input, format, encoding, compression, added, updated, unchanged, rejected) "
            "VALUES (?, ?, ?, ?, ?, COALESCE(?, 0), COALESCE(?, 0), COALESCE(?, 0), COALESCE(?, 0)) "
            "ON CONFLICT (run_id, input) DO UPDATE SET format = excluded.format, encoding = excluded.encoding, "
            "compression = excluded.compression, added = excluded.added, updated = excluded.updated, "
            "unchanged = excluded.unchanged, rejected = excluded.rejected",
            (run_id, name, *values),
        )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first. A run still "running" whose process is gone is
        shown as "died" (also from a read-only archive, which cannot record it)."""
        cur = self._db.execute(
            "SELECT run_id, started_at, finished_at, status, command, added, updated, unchanged, rejected, owner "
            "FROM runs ORDER BY run_id DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cur.description]
        runs = [dict(zip(names, row, strict=True)) for row in cur]
        for run in runs:
            owner = run.pop("owner")
            if run["status"] == "running" and not processes.alive(owner):
                run["status"] = "died"
            cur = self._db.execute(
                "SELECT input, format, encoding, compression, added, updated, unchanged, rejected "
                f"FROM run_inputs WHERE run_id = ? ORDER BY {self._db.order}",
                (run["run_id"],),
            )
            cols = [d[0] for d in cur.description]
            run["inputs"] = [dict(zip(cols, row, strict=True)) for row in cur]
        return runs

    # -- writing ----------------------------------------------------------------

    def known_fingerprints(self, fingerprints: Sequence[bytes]) -> set[bytes]:
        """Which of these raw-record fingerprints the current articles were made from."""
        return {
            r[0] for r in self._rows_in("SELECT fingerprint FROM seen WHERE fingerprint IN ({marks})", fingerprints)
        }

    def _rows_in(self, sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` (whose ``{marks}`` stands for a list of parameters) for every value,
        asked :data:`_IN_CHUNK` values at a time (SQLite bounds the parameters of a statement)."""
        for i in range(0, len(values), _IN_CHUNK):
            chunk = list(values[i : i + _IN_CHUNK])
            yield from self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)

    def count_unchanged(self, run_id: int, n: int) -> None:
        """Log records skipped as unchanged without being parsed (known fingerprints)."""
        self._db.execute("UPDATE runs SET unchanged = unchanged + ? WHERE run_id = ?", (n, run_id))

    def upsert_batch(
        self,
        articles: Sequence[Article | Row],
        *,
        run_id: int | None = None,
        rejected: int = 0,
        fingerprints: Sequence[bytes] | None = None,
    ) -> BatchResult:
        """Add, version or skip each article, all in one transaction.

        Same content hash: unchanged, nothing written. Different hash: the stored
        record moves to ``versions`` and the new one takes its place. Withdrawn ids
        are never brought back by ingest. ``fingerprints`` (one per article) name
        the raw input each article came from, so an identical re-ingest can skip it.
        """
        articles = [a if isinstance(a, Row) else to_row(a) for a in articles]
        ids = list(dict.fromkeys(a.id for a in articles))
        now = _now()
        statuses: list[Status] = []
        conn = self._db
        with self._transaction():
            current: dict[str, tuple[str, int]] = {}
            withdrawn: set[str] = set()
            for i in range(0, len(ids), _IN_CHUNK):
                chunk = ids[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT id, content_hash, version FROM articles WHERE id IN ({marks})", chunk):
                    current[row[0]] = (row[1], row[2])
                withdrawn.update(r[0] for r in conn.execute(f"SELECT id FROM withdrawals WHERE id IN ({marks})", chunk))
            inserts: list[tuple[Any, ...]] = []
            changes: list[tuple[Any, ...]] = []
            for a in articles:
                if a.id in withdrawn:
                    statuses.append("withdrawn")
                    continue
                known = current.get(a.id)
                if known is not None and known[0] == a.content_hash:
                    statuses.append("unchanged")
                    continue
                if known is None:
                    inserts.append(
                        (a.id, 1, a.content_hash, a.source, a.category, a.published, a.ingested_at, a.record)
                    )
                    changes.append((a.id, "add", 1, now, run_id))
                    current[a.id] = (a.content_hash, 1)
                    statuses.append("added")
                    continue
                if inserts:  # keep order: the row being versioned may be pending
                    conn.executemany(_INSERT_ARTICLE, inserts)
                    inserts.clear()
                version = known[1] + 1
                conn.execute(
                    "INSERT INTO versions (id, version, content_hash, ingested_at, superseded_at, record) "
                    "SELECT id, version, content_hash, ingested_at, ?, record FROM articles WHERE id = ?",
                    (now, a.id),
                )
                conn.execute(
                    "UPDATE articles SET version = ?, content_hash = ?, source = ?, category = ?, published = ?, "
                    "ingested_at = ?, record = ? WHERE id = ?",
                    (version, a.content_hash, a.source, a.category, a.published, a.ingested_at, a.record, a.id),
                )
                changes.append((a.id, "update", version, now, run_id))
                current[a.id] = (a.content_hash, version)
                statuses.append("updated")
            if inserts:
                conn.executemany(_INSERT_ARTICLE, inserts)
            if changes:
                conn.executemany("INSERT INTO changes (id, kind, version, at, run_id) VALUES (?, ?, ?, ?, ?)", changes)
            if fingerprints is not None:
                updated = [(a.id,) for a, s in zip(articles, statuses, strict=True) if s == "updated"]
                if updated:
                    conn.executemany("DELETE FROM seen WHERE id = ?", updated)
                conn.executemany(
                    "INSERT INTO seen (fingerprint, id) VALUES (?, ?) "
                    "ON CONFLICT (fingerprint) DO UPDATE SET id = excluded.id",
                    [(f, a.id) for a, f, s in zip(articles, fingerprints, statuses, strict=True) if s != "withdrawn"],
                )
            if run_id is not None:
                conn.execute(
                    "UPDATE runs SET added = added + ?, updated = updated + ?, unchanged = unchanged + ?, "
                    "rejected = rejected + ? WHERE run_id = ?",
                    (
                        statuses.count("added"),
                        statuses.count("updated"),
                        statuses.count("unchanged"),
                        statuses.count("withdrawn") + rejected,
                        run_id,
                    ),
                )
        return BatchResult(statuses)

    def withdraw(self, article_id: str, reason: str, *, purge: bool = False) -> None:
        """Take an article out of circulation, keeping a tombstone (id, when, reason).

        The text stays in ``versions`` for the record unless ``purge`` deletes every
        copy (e.g. a court order). Re-ingesting the id will not bring it back.
        """
        if not reason.strip():
            raise ArchiveError("a withdrawal needs a reason")
        now = _now()
        with self._transaction():
            if self._db.execute("SELECT 1 FROM withdrawals WHERE id = ?", (article_id,)).fetchone():
                raise ArchiveError(f"article {article_id} is already withdrawn")
            row = self._db.execute("SELECT version FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise ArchiveError(f"no article with id {article_id}")
            self._db.execute(
                "INSERT INTO versions (id, version, content_hash, ingested_at, superseded_at, record) "
                "SELECT id, version, content_hash, ingested_at, ?, record FROM articles WHERE id = ?",
                (now, article_id),
            )
            self._db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            self._db.execute("DELETE FROM seen WHERE id = ?", (article_id,))
            if purge:
                self._db.execute("DELETE FROM versions WHERE id = ?", (article_id,))
            self._db.execute(
                "INSERT INTO withdrawals (id, withdrawn_at, reason, purged) VALUES (?, ?, ?, ?)",
                (article_id, now, reason.strip(), int(purge)),
            )
            self._db.execute(
                "INSERT INTO changes (id, kind, version, at) VALUES (?, 'withdraw', ?, ?)", (article_id, row[0], now)
            )

    def restore(self, article_id: str) -> None:
        """Undo a withdrawal made in error: the last version comes back."""
        now = _now()
        with self._transaction():
            row = self._db.execute(
                "SELECT version, content_hash, ingested_at, record FROM versions WHERE id = ? "
                "ORDER BY version DESC LIMIT 1",
                (article_id,),
            ).fetchone()
            if self._tombstone(article_id) or row is None:
                raise ArchiveError(
                    f"article {article_id} was purged: its text is gone; 'opennews lift {article_id}' removes "
                    "the tombstone so that it may be ingested again"
                )
            rec = orjson.loads(row[3])
            self._db.execute(
                _INSERT_ARTICLE,
                (article_id, row[0], row[1], rec["source"], rec.get("category"), rec.get("published"), row[2], row[3]),
            )
            self._db.execute("DELETE FROM versions WHERE id = ? AND version = ?", (article_id, row[0]))
            self._db.execute("DELETE FROM withdrawals WHERE id = ?", (article_id,))
            self._db.execute(
                "INSERT INTO changes (id, kind, version, at) VALUES (?, 'restore', ?, ?)", (article_id, row[0], now)
            )

    def _tombstone(self, article_id: str) -> bool:
        """Whether a withdrawn article's text was purged; an error if it is not withdrawn."""
        row = self._db.execute("SELECT purged FROM withdrawals WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise ArchiveError(f"article {article_id} is not withdrawn")
        return bool(row[0])

    def lift(self, article_id: str) -> None:
        """Remove the tombstone of a purged article, so that it may be ingested again.

        Only purged withdrawals: a withdrawn article whose text is kept comes back
        with :meth:`restore` (ingesting it afresh would collide with its kept versions).
        """
        now = _now()
        with self._transaction():
            purged = self._tombstone(article_id)
            if not purged:
                raise ArchiveError(
                    f"article {article_id} was withdrawn but not purged; 'opennews restore {article_id}' brings it back"
                )
            self._db.execute("DELETE FROM withdrawals WHERE id = ?", (article_id,))
            self._db.execute("INSERT INTO changes (id, kind, at) VALUES (?, 'lift', ?)", (article_id, now))

    # -- reading ----------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[Archive]:
        """Reads inside this block see one state of the archive (one read transaction), so a
        position read first and the records streamed after it agree exactly."""
        self._db.begin(write=False)
        try:
            yield self
        finally:
            self._db.commit()

    def hidden_since(self, seq: int) -> list[str]:
        """Articles withdrawn after change ``seq`` and still withdrawn: what a copy that
        reflects ``seq`` still holds and must not show."""
        return [
            i
            for (i,) in self._db.execute(
                "SELECT DISTINCT c.id FROM changes c JOIN withdrawals w ON w.id = c.id "
                "WHERE c.seq > ? AND c.kind = 'withdraw'",
                (seq,),
            )
        ]

    def last_versions(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest kept earlier version of each id (where a changed or withdrawn article was
        before); ids with none (new, or purged) are absent."""
        sql = (
            "SELECT v.id, v.record FROM versions v WHERE v.id IN ({marks}) AND v.version = "
            "(SELECT MAX(version) FROM versions WHERE id = v.id)"
        )
        return {article_id: orjson.loads(record) for article_id, record in self._rows_in(sql, ids)}

    def get(self, article_id: str) -> Article | None:
        record = self.get_record(article_id)
        return make_article(record) if record else None

    def get_record(self, article_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT record FROM articles WHERE id = ?", (article_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def get_records(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Current records by id (missing or withdrawn ids are simply absent)."""
        return {article_id: orjson.loads(record) for article_id, record in self.record_texts(ids).items()}

    def history(self, article_id: str) -> list[dict[str, Any]]:
        """Every version of an article, oldest first; the current one is last."""
        out = [
            {"version": v, "content_hash": h, "ingested_at": i, "superseded_at": s, "current": False}
            for v, h, i, s in self._db.execute(
                "SELECT version, content_hash, ingested_at, superseded_at FROM versions WHERE id = ? ORDER BY version",
                (article_id,),
            )
        ]
        row = self._db.execute(
            "SELECT version, content_hash, ingested_at FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        if row:
            out.append(
                {
                    "version": row[0],
                    "content_hash": row[1],
                    "ingested_at": row[2],
                    "superseded_at": None,
                    "current": True,
                }
            )
        return out

    def version_record(self, article_id: str, version: int) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT record FROM versions WHERE id = ? AND version = ?", (article_id, version)
        ).fetchone()
        return orjson.loads(row[0]) if row else self._current_if(article_id, version)

    def _current_if(self, article_id: str, version: int) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT record FROM articles WHERE id = ? AND version = ?", (article_id, version)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def withdrawal(self, article_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT id, withdrawn_at, reason, purged FROM withdrawals WHERE id = ?", (article_id,)
        ).fetchone()
        return {"id": row[0], "withdrawn_at": row[1], "reason": row[2], "purged": bool(row[3])} if row else None

    def withdrawals(self) -> list[dict[str, Any]]:
        return [
            {"id": r[0], "withdrawn_at": r[1], "reason": r[2], "purged": bool(r[3])}
            for r in self._db.execute("SELECT id, withdrawn_at, reason, purged FROM withdrawals ORDER BY withdrawn_at")
        ]

    def iter_json(self, batch: int = 1000) -> Iterator[str]:
        """Every current record as its stored JSON text, in archive order, streamed."""
        for rows in self._db.stream(f"SELECT record FROM articles ORDER BY {self._db.order}", (), batch):
            for (record,) in rows:
                yield record

    def id_hashes(self) -> Iterator[tuple[str, str]]:
        """(id, content_hash) of every current article: what an index must hold."""
        for rows in self._db.stream("SELECT id, content_hash FROM articles", (), 10_000):
            yield from rows

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def listing(self, offset: int, limit: int) -> list[tuple[str, str | None, str]]:
        """(id, published, ingested_at) of current articles in archive order, one page at a time (sitemaps)."""
        return [
            (i, p, t)
            for i, p, t in self._db.execute(
                f"SELECT id, published, ingested_at FROM articles ORDER BY {self._db.order} LIMIT ? OFFSET ?",
                (limit, offset),
            )
        ]

    # -- reads for exports: stored text as it is, change log by time ---------------

    def first_seq_after(self, at: str) -> int:
        """The change-log cursor from which every change made strictly after ``at`` (UTC ISO) follows."""
        row = self._db.execute("SELECT MIN(seq) FROM changes WHERE at > ?", (at,)).fetchone()
        if row[0] is None:
            return self.last_seq()
        return int(row[0]) - 1

    def record_blobs(self, rows: int = 64) -> Iterator[list[bytes]]:
        """Every current record as stored, in archive order, ``rows`` at a time, as UTF-8 bytes:
        exports copy them out without decoding to str and back."""
        sql = f"SELECT {self._db.as_bytes('record')} FROM articles ORDER BY {self._db.order}"
        for batch in self._db.stream(sql, (), rows):
            yield [bytes(r) for (r,) in batch]

    def last_changes(self, ids: Sequence[str], upto: int) -> dict[str, int]:
        """For each id, its last change-log position at or before ``upto``."""
        marks = ",".join("?" * len(ids))
        return dict(
            self._db.execute(
                f"SELECT id, MAX(seq) FROM changes WHERE id IN ({marks}) AND seq <= ? GROUP BY id", [*ids, upto]
            )
        )

    def record_texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Stored records (JSON text, unparsed) of the current articles among ``ids``."""
        return dict(self._rows_in("SELECT id, record FROM articles WHERE id IN ({marks})", ids))

    def withdrawal_rows(self, ids: Sequence[str]) -> list[tuple[str, str, str, bool]]:
        """(id, withdrawn_at, reason, purged) for the withdrawn articles among ``ids``."""
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT id, withdrawn_at, reason, purged FROM withdrawals WHERE id IN ({marks})", list(ids)
        )
        return [(i, at, reason, bool(purged)) for i, at, reason, purged in rows]

    def last_seq(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def changes_since(self, seq: int, limit: int = 10_000) -> list[tuple[int, str, str]]:
        """(seq, id, kind) of changes after ``seq``: the cursor later layers follow."""
        return [
            (int(s), i, k)
            for s, i, k in self._db.execute(
                "SELECT seq, id, kind FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            )
        ]

    def check(self) -> list[str]:
        """Integrity problems, if any (empty list means the archive is sound)."""
        problems = self._db.integrity()
        orphans = self._db.execute("SELECT COUNT(*) FROM articles a JOIN withdrawals w ON a.id = w.id").fetchone()[0]
        if orphans:
            problems.append(f"{orphans} withdrawn article(s) still visible")
        return problems

    def distinct(self, column: Literal["source", "category"]) -> list[str]:
        """Every value of a column among the current articles, sorted (feed catalogs, facets)."""
        sql = f"SELECT DISTINCT {column} FROM articles WHERE {column} IS NOT NULL ORDER BY 1"
        return [v for (v,) in self._db.execute(sql)]

    def newest_published(self) -> str | None:
        return self._db.execute("SELECT MAX(published) FROM articles").fetchone()[0]

    def stats(self) -> dict[str, Any]:
        q = self._db.execute
        by_year: dict[str, int] = {}
        for year, n in q("SELECT substr(published, 1, 4), COUNT(*) FROM articles GROUP BY 1 ORDER BY 1"):
            by_year[year or "undated"] = n
        first, last = q("SELECT MIN(published), MAX(published) FROM articles").fetchone()
        size = self._db.size()
        return {
            "articles": self.count(),
            "versions": q("SELECT COUNT(*) FROM versions").fetchone()[0],
            "withdrawn": q("SELECT COUNT(*) FROM withdrawals").fetchone()[0],
            "sources": q("SELECT COUNT(DISTINCT source) FROM articles").fetchone()[0],
            "top_sources": q(
                "SELECT source, COUNT(*) FROM articles GROUP BY source ORDER BY 2 DESC, 1 LIMIT 10"
            ).fetchall(),
            "top_categories": q(
                "SELECT category, COUNT(*) FROM articles WHERE category IS NOT NULL "
                "GROUP BY category ORDER BY 2 DESC, 1 LIMIT 10"
            ).fetchall(),
            "by_year": by_year,
            "published_range": [first, last],
            "runs": q("SELECT COUNT(*) FROM runs").fetchone()[0],
            "last_change": self.last_seq(),
            "bytes_on_disk": size,
        }
