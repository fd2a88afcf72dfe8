"""Running the app under uvicorn: connections shared fairly between workers, and no Nagle delay.

Several workers: uvicorn shares one listening socket between its processes, and
asyncio accepts every pending connection in one go when the socket becomes
readable, so the first worker to wake takes a whole burst of keep-alive
connections (a proxy's or an aggregator's pool) and the other workers sit idle:
measured, eight connections all landed on one of two workers. One
``SO_REUSEPORT`` socket per worker is no cure either: the kernel hashes each
connection to a socket, and eight connections split 5:3 or worse most of the
time, the busier worker then setting the latency of all.

Here the workers share one socket and each counts the connections it holds in a
small shared array: a worker accepts only while no other live worker holds fewer,
so the pools are split evenly (never more than one apart) whatever the order in
which the workers wake. The parent process only watches over the workers
(restarting one that dies) and stops them on SIGINT/SIGTERM.

A worker whose turn it is not answers the event loop's accept as a socket with
nothing pending, but the shared socket stays readable while the connection waits,
and asyncio would ask again at once: measured, some 11,000 ``accept()`` calls in
the 0.25 s a connection can wait, a core spinning in every worker that defers. So
a worker that defers stops watching the socket for a moment (2 ms, doubling up to
31 ms while the same wait goes on, never past the waiting connection's patience):
13 calls in those 0.25 s.

Each connection also gets ``TCP_NODELAY`` and a deadline for every request's
line and headers (``header_timeout``, default 5 s): see server_internals.py, which
holds every use of uvicorn and asyncio beyond their documented APIs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn

from .params import MAX_QUERY_STRING
from .server_internals import HEADER_TIMEOUT, GuardedH11Protocol, NotifyingServer, check_header_timeout, unwatch_for

__all__ = ["HEADER_TIMEOUT", "MAX_HEAD", "ServingProtocol", "run", "serve"]

#: Bytes a request's line and headers may take while they arrive. h11 refuses a head that is
#: still incomplete past 16 KiB by default (a 400, though only when it arrives in pieces, as
#: over a network), but the longest query the OpenAPI document allows is MAX_QUERY_STRING
#: bytes (q, source and category of 500 four-byte characters: 18,000 bytes percent-encoded):
#: that much, with 16 KiB left for the method, path and headers.
MAX_HEAD = MAX_QUERY_STRING + 16 * 1024
#: Pending connections the shared socket holds.
BACKLOG = 2048
#: Seconds a connection waits for the worker whose turn it is before another takes it.
PATIENCE = 0.25
#: Seconds a worker that defers stops watching the socket, the first time in a wait; doubled each
#: time after, up to LONGEST_PAUSE (a worker whose turn comes meanwhile is late by at most that).
PAUSE = PATIENCE / 128
LONGEST_PAUSE = PATIENCE / 8


#: This worker's share of the connection counts, when it is one of several.
_held: _Held | None = None


class ServingProtocol(GuardedH11Protocol):
    """The protocol of every connection: counted out of this worker's share when it ends."""

    def connection_lost(self, exc: Exception | None) -> None:
        if _held is not None:
            _held.release()
        super().connection_lost(exc)


class _Held:
    """The connections this worker holds, published in its slot of an array shared by the
    workers: -1 while it is not serving (starting up or closing), so that the others do not
    defer to it. Only this worker writes its slot, always from its own count."""

    def __init__(self, counts: Any, slot: int) -> None:
        self.counts = counts
        self.slot = slot
        self.held = max(0, counts[slot])
        self.serving = counts[slot] >= 0

    def my_turn(self) -> bool:
        mine = self.counts[self.slot]
        return not any(0 <= n < mine for i, n in enumerate(self.counts) if i != self.slot)

    def others(self) -> list[int]:
        """The other workers' counts (this worker's slot as -1)."""
        counts = self.counts[:]
        counts[self.slot] = -1
        return counts

    def take(self) -> None:
        self.held += 1
        self._publish()

    def release(self) -> None:
        self.held = max(0, self.held - 1)
        self._publish()

    def serve(self, serving: bool) -> None:
        self.serving = serving
        self._publish()

    def _publish(self) -> None:
        self.counts[self.slot] = self.held if self.serving else -1


class _FairSocket(socket.socket):
    """The shared listening socket as one worker sees it: it accepts a connection only on
    its turn (when no other worker holds fewer). Otherwise it answers as a socket with
    nothing pending, and the connection stays queued for a worker whose turn it is.

    The socket stays readable while the connection waits, so after deferring, the
    worker's event loop stops watching it for a short while (see :meth:`_stand_aside`)
    rather than asking again at once. A worker whose turn it is but whose loop is held up
    (a slow synchronous step) would leave the connection waiting: after :data:`PATIENCE`
    seconds in which no other worker took a connection, a worker takes it anyway.
    """

    held: _Held
    _asked_since = _asked_last = -1.0
    _pause = PAUSE
    _others: list[int] | None = None

    def accept(self) -> tuple[socket.socket, Any]:
        if not self.held.my_turn():
            now = time.monotonic()
            others = self.held.others()
            taken = self._others is not None and any(n > was for n, was in zip(others, self._others, strict=True))
            if taken or now - self._asked_last > PATIENCE / 2:  # another worker took one, or not asked just before
                self._asked_since, self._pause = now, PAUSE  # a new connection waits
            self._asked_last, self._others = now, others
            waited = now - self._asked_since
            if waited < PATIENCE:
                self._stand_aside(min(self._pause, PATIENCE - waited))
                self._pause = min(self._pause * 2, LONGEST_PAUSE)
                raise BlockingIOError
        conn, address = super().accept()
        self.held.take()
        return conn, address

    def _stand_aside(self, seconds: float) -> None:
        """Stop the event loop watching this socket for ``seconds`` (see server_internals.unwatch_for)."""
        unwatch_for(self, seconds)


def serve(
    home: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
    header_timeout: float = HEADER_TIMEOUT,
) -> None:
    """Serve ``home``; every worker process builds its app from ``OPENNEWS_HOME`` (set here)."""
    os.environ["OPENNEWS_HOME"] = str(Path(home).resolve())
    run(
        "opennews.web.app:app_from_env",
        host=host,
        port=port,
        workers=workers,
        header_timeout=header_timeout,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=True,
        server_header=False,
    )


def run(
    app: str, *, host: str, port: int, workers: int = 1, header_timeout: float = HEADER_TIMEOUT, **options: Any
) -> None:
    """Serve the app factory ``app`` ("module:function") with ``workers`` processes; a request's
    line and headers must arrive within ``header_timeout`` seconds (0: no limit)."""
    # asyncio's own loop, always: the fair accept above lives in its selector event loop, and
    # uvloop (which uvicorn picks by itself when installed) would never call it. The protocol is
    # a partial (uvicorn calls it as it would the class), which pickles for the spawned workers.
    protocol = partial(ServingProtocol, header_timeout=check_header_timeout(header_timeout))
    options = {
        "factory": True,
        "http": protocol,
        "loop": "asyncio",
        "h11_max_incomplete_event_size": MAX_HEAD,
        **options,
    }
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    sock = _listen(host, port)  # fails here, clearly, if the address is taken
    context = multiprocessing.get_context("spawn")
    counts = context.RawArray("i", [-1] * workers)

    def start(slot: int) -> multiprocessing.process.BaseProcess:
        counts[slot] = -1
        process = context.Process(target=_worker, args=(app, host, port, sock, counts, slot, options), daemon=True)
        process.start()
        return process

    procs = [start(slot) for slot in range(workers)]
    started = [time.monotonic()] * workers
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(procs):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started[i] < 5:  # dying at start-up: replacing it would only loop
                    raise SystemExit(f"worker {process.pid} exited at start-up (exit code {process.exitcode})")
                procs[i], started[i] = start(i), time.monotonic()  # replaced, as uvicorn's supervisor does
    finally:
        for process in procs:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in procs:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(
    app: str, host: str, port: int, sock: socket.socket, counts: Any, slot: int, options: dict[str, Any]
) -> None:
    global _held
    app_dir = options.pop("app_dir", None)
    if app_dir is not None:
        import sys

        sys.path.insert(0, app_dir)
    _held = _Held(counts, slot)
    fair = _FairSocket(fileno=sock.detach())
    fair.held = _held
    config = uvicorn.Config(app, host=host, port=port, backlog=BACKLOG, **options)
    NotifyingServer(config, on_serving=_held.serve).run(sockets=[fair])  # in the shared counts while serving
