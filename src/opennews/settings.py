"""Where an opennews home keeps its data, from flags and OPENNEWS_* variables.

One folder holds everything: the SQLite archive, the derived Whoosh ``index/``,
static ``feeds/`` and ``dumps/``, and the rejects file. The default is the current
directory, so ``opennews ingest`` just works where you are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    home: Path

    @classmethod
    def from_env(cls, home: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """``--home`` wins, then ``OPENNEWS_HOME``, then the current directory."""
        env = os.environ if environ is None else environ
        chosen = home or env.get("OPENNEWS_HOME") or "."
        return cls(Path(chosen).expanduser())

    @property
    def archive_path(self) -> Path:
        return self.home / "opennews.sqlite3"

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
