"""Stopping ``opennews follow`` on a signal: the first asks it to stop, a second insists.

The follow loop waits on a :class:`threading.Event` (never a long sleep), so setting it is
enough for Ctrl-C or SIGTERM to end following within a second or so, after the request in
flight, with the cycle under way finished as far as it got and logged.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["stop_on_request"]


@contextmanager
def stop_on_request(stop: threading.Event) -> Iterator[None]:
    """While following, the first Ctrl-C/SIGTERM/SIGHUP sets ``stop`` (the cycle under way ends
    after the request in flight, and is logged); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    replaced = {s: h for s in signums if (h := signal.getsignal(s)) in (signal.SIG_DFL, signal.default_int_handler)}

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            from ..ingest.stopping import Stopped

            raise KeyboardInterrupt if signum == signal.SIGINT else Stopped(signum)
        stop.set()

    for s in replaced:
        signal.signal(s, handle)
    try:
        yield
    finally:
        for s, h in replaced.items():
            signal.signal(s, h)
