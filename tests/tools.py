"""External programs some tests drive: Chromium, newsboat, xmllint, wrk and curl.

Outside CI, a test whose program is missing is skipped with a one-line reason, so a
checkout runs on any machine. Under CI (``CI=true``) it fails instead: .ci/run
installs every one of them, and a skip there would quietly drop the browser, feed
reader, validator and load-generator tests from every run that lost one.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

__all__ = ["find", "in_ci", "require", "required"]


def in_ci() -> bool:
    """Running under CI, as CI services announce it (``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def find(tool: str | Path) -> str | None:
    """An absolute path, if an executable file is there; a name, as found on ``PATH``."""
    path = Path(tool)
    if path.is_absolute():
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(str(tool))


def require(tool: str | Path, reason: str) -> str:
    """The program's path, for a test or fixture that needs it. Where it is missing, the
    test is skipped with ``reason``, or fails with it under CI."""
    __tracebackhide__ = True  # the skip or failure is reported at the test's line, not here
    found = find(tool)
    if found is not None:
        return found
    if in_ci():
        pytest.fail(f"{reason}: CI=true, and .ci/run installs it", pytrace=False)
    pytest.skip(reason)


def required(tool: str | Path, reason: str) -> Callable[[], str]:
    """:func:`require` for every test of a module, as an autouse fixture to assign to a module
    name (``_chromium = required(...)``). Session-scoped, so that it runs before the module's
    session fixtures (a server, a home to serve) start anything for tests that cannot run."""

    @pytest.fixture(scope="session", autouse=True)
    def program() -> str:
        return require(tool, reason)

    return program


def default_signals() -> None:
    """For ``preexec_fn``: a child that reacts to Ctrl-C, SIGTERM and SIGHUP as one started from
    a terminal does. A signal ignored when a process starts stays ignored in the programs it
    runs (``nohup`` ignores SIGHUP; a shell's background job, SIGINT), and opennews rightly
    keeps an ignored signal ignored; the tests that send those signals must not depend on how
    the test run itself was started."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def within(seconds: float, check: Callable[[], bool], what: str | None = None) -> float:
    """Seconds until ``check()`` holds, asked every 0.1 s; fails the test past ``seconds``,
    naming ``what`` (else the check's docstring)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not within {seconds} s: {what or check.__doc__ or check}")
        time.sleep(0.1)
    return time.monotonic() - started
