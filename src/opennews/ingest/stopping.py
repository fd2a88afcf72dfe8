"""Stopping an ingest from outside: Ctrl-C, SIGTERM and SIGHUP all end it cleanly.

The default action of SIGTERM and SIGHUP ends the process on the spot, which left a
run "running" in the log forever; during an ingest they raise :class:`Stopped`, a
KeyboardInterrupt, so they take the same path as Ctrl-C: the run is logged as
interrupted and every committed batch stays. Only the main thread receives signals,
and only handlers still at their defaults are replaced.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Stopped", "interrupt_after", "stop_on_signals"]


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP during an ingest, handled as Ctrl-C is: the run is logged as
    interrupted instead of being left "running" by a process that died at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise :class:`Stopped` (when their
    handlers are the defaults, which end the process without any clean-up)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    replaced = [s for s in _STOP_SIGNALS if signal.getsignal(s) == signal.SIG_DFL]
    for signum in replaced:
        signal.signal(signum, _raise_stopped)
    try:
        yield
    finally:
        for signum in replaced:
            signal.signal(signum, signal.SIG_DFL)


@contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold a Ctrl-C (or SIGTERM, SIGHUP) that comes during the block, and raise it when
    the block ends.

    Writing one batch takes milliseconds, and an interrupt in the middle of it
    could land between the archive's commit and its rollback handler or the
    rejects file. Only the main thread receives signals, and only Python's default
    handler and ours are replaced, so a caller's own handling is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {
        signum: handler
        for signum in (signal.SIGINT, *_STOP_SIGNALS)
        if (handler := signal.getsignal(signum)) is signal.default_int_handler or handler is _raise_stopped
    }
    caught: list[int] = []
    for signum in held:
        signal.signal(signum, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
    if caught:
        raise KeyboardInterrupt if caught[0] == signal.SIGINT else Stopped(caught[0])
