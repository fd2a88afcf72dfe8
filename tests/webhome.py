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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from opennews.archive import Archive
from opennews.cli import main

ARTICLES = 300
REASON = "Yêu cầu gỡ bài của tòa soạn"
#: Seconds a server may take to answer /healthz (it syncs a lagging home first).
STARTUP = 30


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
    home: Path,
    *,
    workers: int = 1,
    access_log: bool = False,
    log: Path | None = None,
    options: Sequence[str] = (),
    database: str | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Run ``opennews serve`` on ``home`` in a subprocess and yield its base URL once ``/healthz`` answers.

    A subprocess, not the app in-process, because these tests are about what a real client
    sees over a real socket. Its output goes to ``log`` (kept for reading when a test fails)
    or nowhere; ``options`` are more of ``serve``'s options; ``database`` is given as
    ``--database``; ``env`` is added to the environment; ``port`` (default: a free one)
    lets a restarted node answer where it did. The server is stopped on the way out,
    whatever happened.
    """
    port = port or free_port()
    cmd = [sys.executable, "-m", "opennews", "--home", str(home)]
    if database is not None:
        cmd += ["--database", database]
    cmd += ["serve", "--port", str(port)]
    cmd += ["--workers", str(workers), *options]
    if not access_log:
        cmd.append("--no-access-log")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                if proc.poll() is not None:
                    raise RuntimeError(f"opennews serve exited with {proc.returncode} (log: {log})")
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"opennews serve did not answer /healthz in {STARTUP} s (log: {log})")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)


# -- a home whose names are hard to put in a URL ----------------------------------------------

#: Sources and categories written by us to break naive feed URLs and file names: slashes,
#: route look-alikes, dots, URL and file-system specials, what looks like an escape, case
#: twins (one file on macOS and Windows), right-to-left text, a bidi override (one behind a
#: stray POP DIRECTIONAL ISOLATE), and a name too long for a file name. Ingest keeps each
#: as given (NFC, trimmed).
HARD_SOURCES = ("tin/nhanh.vn", "Bản Tin ~ Sáng", ".hậu trường", "C++ & C#")
HARD_CATEGORIES = (
    "Quốc tế / Châu Phi",
    "Hỏi nhanh / Vì sao lại thế?",
    "Giảm 50% hôm nay",
    "#1 tin nóng",
    "x.rss",
    "..",
    "kết thúc.",
    "Tin/archive/2024-05",
    "Bão\u202e lũ",
    "Lũ \u2069\u202equét",
    "أخبار العالم",
    "a\\b",
    "Q+A; hỏi đáp",
    "Thể thao",
    "Thể Thao",
    "~7E không phải mã",
    "%2F không phải gạch",
    "Chuyên mục có tên dài" + " rất dài" * 30,
)
#: Headlines that try to spoof what a page prints after them: an override left open, and
#: one behind a stray POP DIRECTIONAL ISOLATE (which closes a ``<bdi>`` early in Chromium).
SPOOF_TITLES = ("Giá vàng hôm nay \u202etăng mạnh ở Hà Nội", "Tỷ giá đô la \u2069\u202egiảm sâu trong phiên sáng")
#: Shares the rarer words of both: the spoofing headlines are its related articles.
COMPANION_TITLE = "Giá vàng tăng mạnh ở Hà Nội, tỷ giá đô la giảm sâu trong phiên sáng"
SPOOF_AUTHOR = "Nguyễn \u202eVăn A"
SPOOF_TAG = "thị trường \u202evàng"


@dataclass(frozen=True)
class NamesHome:
    path: Path
    records: tuple[dict[str, object], ...]


def hard_records() -> list[dict[str, object]]:
    """Two articles per hard category, the sources in turn; the spoofing headlines and
    their companion first."""
    out: list[dict[str, object]] = []
    titles = (*SPOOF_TITLES, COMPANION_TITLE)
    for n, category in enumerate(c for c in HARD_CATEGORIES for _ in range(2)):
        title = titles[n] if n < len(titles) else f"Bản tin số {n + 1} về giá vàng và tỷ giá"
        out.append(
            {
                "url": f"https://tin.example/bai-{n + 1}.html",
                "source": HARD_SOURCES[n % len(HARD_SOURCES)],
                "category": category,
                "title": title,
                "sapo": f"Tóm tắt bản tin số {n + 1}: giá vàng và tỷ giá hôm nay.",
                "body": f"Đoạn một của bản tin số {n + 1} về giá vàng.\n\nĐoạn hai nói về tỷ giá đô la.",
                "author": SPOOF_AUTHOR if n < 2 else "Trần Thị B",
                "tags": [SPOOF_TAG, "tỷ giá"] if n < 2 else ["tỷ giá"],
                "published": f"2024-0{5 + n % 2}-{1 + n % 28:02d}T08:00:00+07:00",
            }
        )
    return out


def build_names_home(tmp_path_factory: pytest.TempPathFactory) -> NamesHome:
    """The hard-names home, built once per session with the real CLI (ingest indexes it and
    writes its static feeds); tests that change it work on a copy."""
    path = tmp_path_factory.getbasetemp() / "names-home"
    records = tuple(hard_records())
    marker = path / "built.txt"
    if not marker.exists():
        path.mkdir(exist_ok=True)
        data = path.parent / "names-home.ndjson"
        data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            assert main(["--home", str(path), "ingest", "--quiet", str(data)]) == 0, quiet.getvalue()
        marker.write_text("ok")
    return NamesHome(path, records)
