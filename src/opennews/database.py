"""The two databases an archive can live in, behind one small interface: SQLite (a file,
one machine) and PostgreSQL (a server several machines share).

The archive and its companions write their SQL once, in the dialect both understand
(``?`` parameters, ``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``), and this module
holds what differs: how a connection is opened, how a write transaction begins and what
it locks, how the schema's DDL is spelled, how a long result is streamed, what keeps the
order rows were added in (SQLite's ``rowid``; a ``pos`` identity column in PostgreSQL),
and how a store is checked. Nothing above it asks which one it has.

PostgreSQL needs psycopg 3 (``pip install 'opennews[postgres]'``); it is imported only when
a ``postgresql://`` URL is opened, so a one-machine install never loads it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import count
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Database", "DatabaseMissing", "is_url", "lost_connection", "open_database", "redact"]

#: The key of PostgreSQL's transaction-level advisory lock that every archive write takes
#: (``pg_advisory_xact_lock``): the counterpart of SQLite's ``BEGIN IMMEDIATE``. Any
#: number works as long as every opennews agrees on it; this one spells "opennews".
WRITE_LOCK = 0x6F70656E6E657773

#: Connections one process keeps open to one PostgreSQL archive (per URL, read-only or not).
#: Every ``Archive.open`` borrows one and ``close`` gives it back: the web app opens an
#: archive per write request and per export, and a connection costs a round trip or three
#: (more with TLS) and a server process to start.
POOL_SIZE = 8


class DatabaseMissing(Exception):
    """A read-only open found no archive where it was asked to look."""


class Cursor(Protocol):
    description: Any
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ...) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """What the archive needs of a database connection."""

    kind: str  # "sqlite" or "postgresql"
    where: str  # for messages: the file, or the URL without its password
    order: str  # the column that keeps the order rows were added in (articles, run_inputs)
    path: Path | None  # the SQLite file; None for a server

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def begin(self, *, write: bool) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    @property
    def in_transaction(self) -> bool: ...
    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[Any]]: ...
    def ddl(self, sql: str) -> str: ...
    def has_table(self, name: str) -> bool: ...
    def columns(self, table: str) -> set[str]: ...
    def add_order_column(self, table: str) -> None: ...
    def as_bytes(self, column: str) -> str: ...
    def integrity(self) -> list[str]: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


def is_url(target: str | Path) -> bool:
    """Whether an archive target names a PostgreSQL server rather than a file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to a database server is gone (the server restarted,
    failed over, or ended the session; the network cut it): a connection kept open for long
    (the web app's) is then dropped and opened anew, while any other error is the caller's."""
    kind = type(exc)
    return kind.__module__.startswith("psycopg") and any(
        k.__name__ in ("OperationalError", "InterfaceError") for k in kind.__mro__
    )


def redact(url: str) -> str:
    """A URL fit for messages and logs: its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_database(target: str | Path, *, readonly: bool) -> Database:
    """A connection to the archive's database: a ``postgresql://`` URL, else a SQLite file."""
    if is_url(target):
        return PostgresDatabase.connect(str(target), readonly=readonly)
    return SQLiteDatabase.connect(Path(target), readonly=readonly)


# -- SQLite -------------------------------------------------------------------------------


class SQLiteDatabase:
    """A SQLite file in WAL mode; statements go to the connection as written (no
    translation on the ingest's hot path)."""

    kind = "sqlite"
    order = "rowid"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path: Path | None = path
        self.where = str(path)
        self.execute = conn.execute

    @classmethod
    def connect(cls, path: Path, *, readonly: bool) -> SQLiteDatabase:
        if readonly:
            if not path.exists():
                raise DatabaseMissing(f"no archive at {path}")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        return cls(conn, path)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self, *, write: bool) -> None:
        """A write takes the database's write lock at once (``BEGIN IMMEDIATE``), so a batch's
        reads and writes see one state no other writer changes meanwhile."""
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[Any]]:
        cur = self.conn.execute(sql, params)
        while rows := cur.fetchmany(size):
            yield rows

    def ddl(self, sql: str) -> str:
        return sql

    def has_table(self, name: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            is not None
        )

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")}

    def add_order_column(self, table: str) -> None:
        """Nothing to add: a rowid table keeps the order rows were inserted in (an update keeps its rowid)."""

    def as_bytes(self, column: str) -> str:
        return f"CAST({column} AS BLOB)"

    def integrity(self) -> list[str]:
        return [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]

    def size(self) -> int:
        if self.path is None:
            return 0
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())

    def close(self) -> None:
        self.conn.close()


# -- PostgreSQL ---------------------------------------------------------------------------

_QUOTED = re.compile(r"('(?:[^']|'')*')")


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` parameters as psycopg's ``%s`` (a literal ``%`` doubled), string literals left alone."""
    parts = _QUOTED.split(sql)
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        parts[i] = parts[i].replace("%", "%%").replace("?", "%s")
    return "".join(parts)


_DDL = [
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    # Text compares and sorts byte by byte, as SQLite's BINARY collation does, whatever the
    # database's locale: the same ORDER BY gives the same order on both backends.
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
    (re.compile(r"\)\s*WITHOUT ROWID"), ")"),
]


@lru_cache(maxsize=128)
def to_postgres_ddl(sql: str) -> str:
    """One DDL statement as SQLite spells it, spelled for PostgreSQL."""
    for pattern, replacement in _DDL:
        sql = pattern.sub(replacement, sql)
    return sql


_pools: dict[tuple[int, str, bool], Any] = {}
_pools_lock = threading.Lock()


def _connect_args(readonly: bool) -> dict[str, Any]:
    return {
        "autocommit": True,
        "options": "-c default_transaction_read_only=on" if readonly else "",
        "connect_timeout": 10,
    }


def _pool(url: str, readonly: bool, *, make: bool) -> Any | None:
    """The process's pool for this archive; with ``make``, made if there is none yet.

    The first open of an archive connects directly and makes the pool only once that
    worked, so that a wrong URL or a server down is reported at once, with libpq's reason,
    rather than after the pool's wait. Pools are per process (a forked child makes its own);
    a connection idle for a minute is closed, so an idle process holds none for long."""
    key = (os.getpid(), url, readonly)
    with _pools_lock:
        if key in _pools or not make:
            return _pools.get(key)
        from psycopg_pool import ConnectionPool

        _pools[key] = pool = ConnectionPool(
            url,
            kwargs=_connect_args(readonly),
            min_size=0,
            max_size=POOL_SIZE,
            max_idle=60,
            open=True,
            check=ConnectionPool.check_connection,  # a server restarted meanwhile costs a reconnect, not an error
            reset=lambda conn: conn.execute("CLOSE ALL"),  # no export's cursor outlives its archive
            name=f"opennews {redact(url)}",
        )
        return pool


class PostgresDatabase:
    """One psycopg connection in autocommit mode; a transaction is begun explicitly, so a
    read outside one sees the latest committed state, as with SQLite.

    Writes serialise on one transaction-level advisory lock (:data:`WRITE_LOCK`), taken as a
    write transaction's first statement and released by its commit. That keeps the archive's
    batch logic (read the current versions, then write) exactly as correct as under SQLite's
    ``BEGIN IMMEDIATE``, and it makes the change log's ``seq`` commit in order: a writer
    draws its sequence values only while it holds the lock, so no transaction can commit a
    lower ``seq`` after a reader has seen a higher one and moved its cursor past it. (A
    sequence alone does not promise that: two writers draw 10 and 11, the one with 11
    commits first, a follower reads up to 11 and never looks back for 10.) The price is one
    writer at a time, as with SQLite; the parsing, validating and hashing of a batch happen
    before its transaction, so the lock is held only for the writes themselves.
    """

    kind = "postgresql"
    order = "pos"
    path: Path | None = None

    def __init__(self, conn: Any, url: str, pool: Any = None) -> None:
        self.conn = conn
        self.where = redact(url)
        self._pool = pool
        self._cursors = count()

    @classmethod
    def connect(cls, url: str, *, readonly: bool) -> PostgresDatabase:
        try:
            import psycopg
        except ImportError:
            raise DatabaseMissing("a PostgreSQL archive needs psycopg: pip install 'opennews[postgres]'") from None
        pool = _pool(url, readonly, make=False)
        try:
            if pool is None:
                conn = psycopg.connect(url, **_connect_args(readonly))
                _pool(url, readonly, make=True)
            else:
                conn = pool.getconn(timeout=10)
        except Exception as exc:  # psycopg.Error, or the pool's timeout
            raise DatabaseMissing(f"cannot reach the archive at {redact(url)}: {str(exc).strip()}") from None
        db = cls(conn, url, pool)
        if readonly and not db.has_table("meta"):
            db.close()
            raise DatabaseMissing(f"no archive in the database {redact(url)}")
        return db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(to_pyformat(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(to_pyformat(sql), rows)

    def begin(self, *, write: bool) -> None:
        if write:
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        else:  # one snapshot for every read of the block, as a SQLite read transaction gives
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.conn.execute("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[Any]]:
        """Rows through a server-side cursor, ``size`` at a time: a client-side one would hold
        the whole result (every record of an export) in memory. Outside a transaction the
        cursor is ``WITH HOLD`` (the server keeps the result for it)."""
        name = f"opennews_stream_{next(self._cursors)}"
        with self.conn.cursor(name, withhold=not self.in_transaction) as cur:
            cur.itersize = size
            cur.execute(to_pyformat(sql), params)
            while rows := cur.fetchmany(size):
                yield rows

    def ddl(self, sql: str) -> str:
        return to_postgres_ddl(sql)

    def has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    def columns(self, table: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s",
            (table,),
        )
        return {r[0] for r in rows}

    def add_order_column(self, table: str) -> None:
        """Rows have no rowid here: an identity column numbers them as they are added (an
        update keeps the number), for the same "archive order" SQLite's rowid gives."""
        self.conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS pos BIGINT GENERATED ALWAYS AS IDENTITY")
        self.conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_pos ON {table} (pos)")

    def as_bytes(self, column: str) -> str:
        return f"convert_to({column}, 'UTF8')"

    def integrity(self) -> list[str]:
        """The server keeps its own pages sound; what can be asked is that the tables answer."""
        self.conn.execute("SELECT COUNT(*) FROM articles")
        return []

    def size(self) -> int:
        return int(self.conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])

    def close(self) -> None:
        """Give the connection back to the pool (which rolls back what was left open), or close it."""
        if self._pool is not None:
            self._pool.putconn(self.conn)
            self._pool = None
        else:
            self.conn.close()
