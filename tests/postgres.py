"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, started on
127.0.0.1 at a free port, stopped and removed at the end of the session.

The cluster runs as the ``postgres`` user when the tests run as root (initdb refuses root),
with trust authentication, its unix socket in its own folder, fsync off (the tests need
no durability, and it saves most of initdb's time). Outside CI a test that needs it is
skipped with a one-line reason when PostgreSQL is not installed or will not start; under
``CI=true`` that is a failure, as for every program of :mod:`tools` (.ci/run installs
Debian's ``postgresql``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools import in_ci

__all__ = ["Cluster", "bindir", "postgres_cluster", "start", "stop"]


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, else Debian's versioned folders."""
    config = shutil.which("pg_config")
    if config:
        out = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner() -> list[str]:
    """The prefix that runs a command as the cluster's owner: ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]


def _run(prefix: list[str], args: list[str]) -> subprocess.CompletedProcess[str]:
    if prefix and prefix[0] == "su":
        import shlex

        return subprocess.run([*prefix, shlex.join(args)], capture_output=True, text=True, check=False, timeout=120)
    return subprocess.run([*prefix, *args], capture_output=True, text=True, check=False, timeout=120)


@dataclass
class Cluster:
    """A running cluster: ``url`` of a database made for the session; :meth:`new_database`
    makes more (one per test that needs an empty archive)."""

    bin: Path
    data: Path
    port: int
    prefix: list[str]

    @property
    def base(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.base}/{name}"


def start(*, durable: bool = False) -> tuple[Cluster | None, str, Path | None]:
    """The cluster, or None and why it could not start; and its folder, for :func:`stop`.

    ``durable``: fsync and synchronous commits on, as a production server has them (the
    benchmarks compare it with SQLite's ``synchronous = FULL``); the tests need no durability."""
    found = bindir()
    if found is None:
        return None, "PostgreSQL is not installed (no initdb; Debian package postgresql)", None
    prefix = _as_owner()
    top = Path(tempfile.mkdtemp(prefix="opennews-pg-"))
    if prefix:
        shutil.chown(top, "postgres", "postgres")
    data, sockets = top / "data", top / "sockets"
    sockets.mkdir()
    if prefix:
        shutil.chown(sockets, "postgres", "postgres")
    done = _run(prefix, [str(found / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
    if done.returncode:
        return None, f"initdb failed: {done.stderr.strip().splitlines()[-1:]}", top
    port = _free_port()
    # Room for the idle connections each test database's pool keeps for a minute (opennews.database).
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c max_connections=300"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    done = _run(prefix, [str(found / "pg_ctl"), "-D", str(data), "-l", str(top / "log"), "-o", options, "-w", "start"])
    if done.returncode:
        return None, f"PostgreSQL did not start: {done.stderr.strip() or done.stdout.strip()}", top
    return Cluster(found, data, port, prefix), "", top


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's cluster (started on first use); skips (fails under CI) when it cannot run."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed (pip install 'opennews[postgres]')"
        if in_ci():
            pytest.fail(f"{reason}: CI=true", pytrace=False)
        pytest.skip(reason)
    cluster, reason, top = start()
    try:
        if cluster is None:
            if in_ci():
                pytest.fail(f"{reason}: CI=true, and .ci/run installs postgresql", pytrace=False)
            pytest.skip(reason)
        yield cluster
    finally:
        stop(cluster, top)


def stop(cluster: Cluster | None, top: Path | None) -> None:
    """Stop the cluster at once and remove its folder."""
    if cluster is not None:
        _run(cluster.prefix, [str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop"])
    if top is not None:
        shutil.rmtree(top, ignore_errors=True)
