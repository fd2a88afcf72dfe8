"""A demo home for the web tests, built once per test session and shared by the web and browser tests.

Built with the real CLI: 300 synthetic articles, indexed, one of them withdrawn (so the
410 page has something to show). Tests must not change it; tests that write copy it.

Also a real ``opennews serve`` on 127.0.0.1 for the tests that need a socket (a browser,
a feed reader, curl), started the same way everywhere so that one place knows how.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from opennews.archive import Archive
from opennews.cli import main

ARTICLES = 300
REASON = "Yêu cầu gỡ bài của tòa soạn"


@dataclass(frozen=True)
class WebHome:
    path: Path
    withdrawn_id: str


def build_web_home(tmp_path_factory: pytest.TempPathFactory) -> WebHome:
    """The shared home; the first caller in a session builds it (session fixtures in
    several modules share one directory under the session's base temp)."""
    path = tmp_path_factory.getbasetemp() / "web-home"
    marker = path / "withdrawn.txt"
    if not marker.exists():
        path.mkdir(exist_ok=True)
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            assert main(["--home", str(path), "demo", "--articles", str(ARTICLES)]) == 0
            with Archive.open(path / "opennews.sqlite3", readonly=True) as archive:
                victim = archive.listing(ARTICLES - 1, 1)[0][0]
            assert main(["--home", str(path), "withdraw", victim, "--reason", REASON]) == 0
            assert main(["--home", str(path), "index", "--quiet"]) == 0
        marker.write_text(victim)
    return WebHome(path, marker.read_text())


def free_port() -> int:
    """A port nobody listens on now; the OS picks it, so parallel runs do not collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    home: Path, *, workers: int = 1, access_log: bool = False, log: Path | None = None, options: Sequence[str] = ()
) -> Iterator[str]:
    """Run ``opennews serve`` on ``home`` in a subprocess and yield its base URL once ``/healthz`` answers.

    A subprocess, not the app in-process, because these tests are about what a real client
    sees over a real socket. Its output goes to ``log`` (kept for reading when a test fails)
    or nowhere; ``options`` are more of ``serve``'s options. The server is stopped on the way
    out, whatever happened.
    """
    port = free_port()
    cmd = [sys.executable, "-m", "opennews", "--home", str(home), "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), *options]
    if not access_log:
        cmd.append("--no-access-log")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                if proc.poll() is not None:
                    raise RuntimeError(f"opennews serve exited with {proc.returncode} (log: {log})")
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"opennews serve did not answer /healthz in 30 s (log: {log})")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)
