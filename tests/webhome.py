"""A demo home for the web tests, built once per test session and shared by the web and browser tests.

Built with the real CLI: 300 synthetic articles, indexed, one of them withdrawn (so the
410 page has something to show). Tests must not change it; tests that write copy it.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

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
