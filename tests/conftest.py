"""Shared test helpers: a fresh opennews home per test, the CLI in-process, shared data,
and the demo web home with the app on it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from follow_helpers import Site, serve
from opennews.cli import main
from postgres import Cluster, postgres_cluster  # noqa: F401  (a fixture, offered to every test module)
from webhome import NamesHome, WebHome, build_names_home, build_web_home

if TYPE_CHECKING:
    from starlette.testclient import TestClient

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("OPENNEWS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = SHARED / "corpus" / "vi-news.ndjson.gz"
RAW_SAMPLES = SHARED / "corpus" / "raw-samples"
SEEDS = SHARED / "seeds"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def archive_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a new, empty archive is: a SQLite file, then a database of the session's
    PostgreSQL cluster (the test is skipped, or fails under CI, when that cannot start)."""
    if request.param == "sqlite":
        return tmp_path / "archive.sqlite3"
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database()


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``opennews --home HOME ARGS...`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--home", str(home), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> WebHome:
    """The demo home of ``webhome``, read-only: tests that change it work on a copy."""
    return build_web_home(tmp_path_factory)


@pytest.fixture(scope="session")
def names_home(tmp_path_factory: pytest.TempPathFactory) -> NamesHome:
    """The home of hard names and spoofing headlines of ``webhome``, read-only."""
    return build_names_home(tmp_path_factory)


@pytest.fixture(scope="module")
def client(web_home: WebHome) -> Iterator[TestClient]:
    """The app on the demo home, in-process. One per module, not per session, so that a
    module's cookies and app state stay its own."""
    from starlette.testclient import TestClient  # only the web tests pay for the import

    from opennews.settings import Settings
    from opennews.web import create_app

    with TestClient(create_app(Settings(web_home.path))) as c:
        yield c


def needs_shared(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not path.exists(), reason=f"shared data not present at {path}")


def to_cp1258(text: str) -> bytes:
    """Encode Vietnamese the way Windows-1258 does: base letters with their vowel-quality
    mark precomposed (â, ơ, ư...), tone marks as separate combining characters."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if out and unicodedata.combining(ch) and ch not in tones:
            out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
        else:
            out.append(ch)
    return "".join(out).encode("cp1258")


@pytest.fixture
def site() -> Iterator[Site]:
    """A small real HTTP site on 127.0.0.1 serving what a test puts in it (follow_helpers)."""
    site, server = serve()
    yield site
    server.shutdown()
    server.server_close()
