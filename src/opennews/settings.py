"""Where an opennews home keeps its data, and how much one input may make an ingest do,
from flags and OPENNEWS_* variables.

One folder holds everything: the SQLite archive, the derived Whoosh ``index/``,
static ``feeds/`` and ``dumps/``, and the rejects file. The default is the current
directory, so ``opennews ingest`` just works where you are. With a database URL
(``--database`` or ``OPENNEWS_DATABASE_URL``, ``postgresql://user@host:port/db``) the
archive lives in that PostgreSQL database, shared with other machines, and the home
keeps only what is derived from it (index, feeds, dumps, rejects) and no SQLite file.
``OPENNEWS_DATABASE_READ_URL`` may name a read replica of that database: a web node's
reads (pages, search, feeds, dumps, following the change log, syncing its home) then go
there, and only writes (ingest, withdrawals, the write API) to the primary.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = [
    "LIMIT_HELP",
    "FetchSettings",
    "IngestLimits",
    "Settings",
    "WriteLimits",
    "env_name",
    "format_size",
    "limit_names",
    "parse_limit",
    "parse_size",
]

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)


@dataclass(frozen=True)
class Settings:
    home: Path
    database: str | None = None  # a postgresql:// URL; None: the SQLite file in the home
    read_database: str | None = None  # a read replica of ``database`` for the reads; None: ``database``

    @classmethod
    def from_env(
        cls, home: str | Path | None = None, environ: Mapping[str, str] | None = None, *, database: str | None = None
    ) -> Settings:
        """``--home`` wins, then ``OPENNEWS_HOME``, then the current directory; ``--database``
        wins, then ``OPENNEWS_DATABASE_URL``, then the SQLite file in the home."""
        env = os.environ if environ is None else environ
        chosen = home or env.get("OPENNEWS_HOME") or "."
        url = (database or env.get("OPENNEWS_DATABASE_URL") or "").strip() or None
        if url is not None and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"OPENNEWS_DATABASE_URL / --database: a postgresql:// URL, not {url!r}")
        read = env.get("OPENNEWS_DATABASE_READ_URL", "").strip() or None
        if read is not None and url is None:
            raise ValueError("OPENNEWS_DATABASE_READ_URL: a read replica needs its primary in OPENNEWS_DATABASE_URL")
        if read is not None and not read.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"OPENNEWS_DATABASE_READ_URL: a postgresql:// URL, not {read!r}")
        return cls(Path(chosen).expanduser(), url, read)

    @property
    def archive_path(self) -> Path:
        """The SQLite file (unused when :attr:`database` is set)."""
        return self.home / "opennews.sqlite3"

    @property
    def archive_target(self) -> str | Path:
        """What :meth:`Archive.open` is given: the database URL, else the SQLite file."""
        return self.database or self.archive_path

    @property
    def read_target(self) -> str | Path:
        """What read-only opens are given: the read replica, else :attr:`archive_target`."""
        return self.read_database or self.archive_target

    def environment(self) -> dict[str, str]:
        """The variables that give a child process (a worker, a sync) this archive."""
        env = {"OPENNEWS_DATABASE_URL": self.database or "", "OPENNEWS_DATABASE_READ_URL": self.read_database or ""}
        return {k: v for k, v in env.items() if v}

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def feeds_dir(self) -> Path:
        return self.home / "feeds"

    @property
    def dumps_dir(self) -> Path:
        return self.home / "dumps"

    @property
    def rejects_path(self) -> Path:
        return self.home / "rejects.ndjson"


@dataclass(frozen=True)
class FetchSettings:
    """How opennews fetches from outlets: whom its User-Agent names, and how long it waits
    between two requests to one host.

    ``contact`` (``OPENNEWS_CONTACT``): a URL or e-mail address where an outlet's staff can
    reach the operator; it goes in the User-Agent (``opennews/0.1.0 (+CONTACT)``). None by
    default: there is no one to name but the operator. ``delay`` (``OPENNEWS_FETCH_DELAY``):
    seconds between requests to one host; 2 by default, slower than a reader clicking.
    """

    contact: str | None = None
    delay: float = 2.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, contact: str | None = None, delay: float | None = None
    ) -> FetchSettings:
        """Values given (flags; None means not given) win, then the variables, then the defaults."""
        env = os.environ if environ is None else environ
        contact = (contact or env.get("OPENNEWS_CONTACT") or "").strip() or None
        if contact is not None and any(c.isspace() or not c.isprintable() for c in contact):
            raise ValueError(f"OPENNEWS_CONTACT: a URL or e-mail address without spaces, not {contact!r}")
        if delay is None and (text := env.get("OPENNEWS_FETCH_DELAY", "").strip()):
            try:
                delay = float(text)
            except ValueError:
                raise ValueError(f"OPENNEWS_FETCH_DELAY: seconds, not {text!r}") from None
        if delay is not None and not delay >= 0:
            raise ValueError(f"OPENNEWS_FETCH_DELAY: 0 seconds or more, not {delay}")
        return cls(contact, cls.delay if delay is None else delay)


def parse_size(text: str) -> int:
    """``8M``, ``64GiB``, ``1500``, ``0.5g`` → bytes (binary units: K is 1,024)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (say 8M, 64G, or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def format_size(n: float) -> str:
    """Bytes for people: ``8 MiB``, ``64 GiB``, ``1,500 bytes``."""
    for unit, size in (("TiB", 1 << 40), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:,.0f} bytes"


@dataclass(frozen=True)
class IngestLimits:
    """How much one input may make an ingest do; past a bound, the rest of it is a reject.

    Every bound is checked while the input streams, so a hostile file costs about what
    its bound allows and no more: a gzip bomb is stopped after a few MiB, a document
    nested 100,000 levels deep at the 65th level. 0 turns a bound off. Each is set by
    ``opennews ingest --max-…`` (see :data:`LIMIT_HELP`), else ``OPENNEWS_MAX_…``, else
    the default here, chosen so that real news never meets it: GB-sized NDJSON dumps,
    gzip/xz of JSON (4–10:1, 20:1 for very repetitive dumps; a bomb is 1,000:1 or more),
    JSON-LD nested a dozen levels, articles of a few hundred KB.
    """

    max_input_bytes: int = 64 * GIB  # decompressed bytes of one file or stdin
    max_member_bytes: int = 8 * GIB  # decompressed bytes of one zip member
    max_ratio: float = 100.0  # decompressed bytes per compressed byte read
    max_zip_members: int = 100_000  # members of one zip archive
    max_depth: int = 64  # JSON nesting (arrays and objects)
    max_record_bytes: int = 8 * MIB  # one record: an NDJSON line, an object of a JSON document
    max_records: int = 50_000_000  # records in one input
    max_document_bytes: int = 256 * MIB  # inputs read whole: feeds, HTML, page text

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: float | None) -> IngestLimits:
        """Values given (flags; None means not given) win, then ``OPENNEWS_MAX_…``, then the defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for f in fields(cls):
            value = given.get(f.name)
            if value is None and (text := env.get(env_name(f.name))):
                try:
                    value = parse_limit(f.name, text)
                except ValueError as exc:
                    raise ValueError(f"{env_name(f.name)}: {exc}") from None
            if value is not None:
                values[f.name] = value
        return cls(**values)  # type: ignore[arg-type]


def env_name(limit: str) -> str:
    """The environment variable of a limit: ``max_depth`` → ``OPENNEWS_MAX_DEPTH``."""
    return f"OPENNEWS_{limit.upper()}"


def limit_names(limit: str) -> str:
    """Where a limit is set, for reasons that name it: ``--max-depth or OPENNEWS_MAX_DEPTH``."""
    return f"--{limit.replace('_', '-')} or {env_name(limit)}"


def parse_limit(limit: str, text: str) -> float:
    """A limit's value from text: sizes take units (``8M``), the ratio a decimal, counts an integer."""
    if limit.endswith("_bytes"):
        return parse_size(text)
    value = float(text) if limit == "max_ratio" else int(text.replace("_", "").replace(",", ""))
    if value < 0:
        raise ValueError(f"must be 0 (no limit) or more, not {text}")
    return value


#: What each limit bounds, for ``opennews ingest --help`` and the README.
LIMIT_HELP = {
    "max_input_bytes": "decompressed bytes read from one file or stdin",
    "max_member_bytes": "decompressed bytes read from one zip member",
    "max_ratio": "decompressed bytes per compressed byte, checked as it streams (stops decompression bombs)",
    "max_zip_members": "members of one zip archive (more: the archive is rejected unread)",
    "max_depth": "nesting of JSON arrays and objects",
    "max_record_bytes": "one record: an NDJSON line or an object of a JSON document",
    "max_records": "records read from one input (the rest is rejected)",
    "max_document_bytes": "inputs read whole (feeds, HTML, page text)",
}


@dataclass(frozen=True)
class WriteLimits:
    """What the write API (``POST /api/articles`` and the withdrawals) lets one token do.

    ``max_bytes``: a request body's cap, counted as it streams (a Content-Length is not
    trusted alone); bigger batches go in several requests or through ``opennews ingest``.
    ``rate``: requests per minute per token, a token bucket as deep as one minute's worth
    (so a scraper may burst, then keeps the pace); 0 turns it off. Set by ``opennews serve
    --max-write-bytes / --write-rate``, else ``OPENNEWS_MAX_WRITE_BYTES`` /
    ``OPENNEWS_WRITE_RATE``, else these defaults.
    """

    max_bytes: int = 16 * MIB
    rate: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WriteLimits:
        env = os.environ if environ is None else environ
        values: dict[str, float] = {}
        if text := env.get("OPENNEWS_MAX_WRITE_BYTES"):
            try:
                values["max_bytes"] = parse_size(text)
            except ValueError as exc:
                raise ValueError(f"OPENNEWS_MAX_WRITE_BYTES: {exc}") from None
        if text := env.get("OPENNEWS_WRITE_RATE"):
            try:
                rate = float(text)
            except ValueError:
                raise ValueError(f"OPENNEWS_WRITE_RATE: not a number of requests per minute: {text!r}") from None
            if not rate >= 0:
                raise ValueError(f"OPENNEWS_WRITE_RATE: must be 0 (no limit) or more, not {text}")
            values["rate"] = rate
        return cls(**values)  # type: ignore[arg-type]
