"""Running the app under uvicorn: one listening socket per worker, and no Nagle delay.

Several workers: uvicorn shares one listening socket between its processes, and
asyncio accepts every pending connection in one go when the socket becomes
readable, so the first worker to wake takes a whole burst of keep-alive
connections (a proxy's or an aggregator's pool) and the other workers sit idle:
measured, eight connections all landed on one of two workers. Here every
worker listens on its own ``SO_REUSEPORT`` socket, so the kernel spreads new
connections across them; the parent process only watches over the workers
(restarting one that dies) and stops them on SIGINT/SIGTERM.

Each connection also gets ``TCP_NODELAY``: responses are written as headers
then body, and Nagle's algorithm would otherwise hold the body until the
client's delayed ACK (about 40 ms on every keep-alive request).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol", "run", "serve"]

#: Pending connections each worker's socket holds.
BACKLOG = 2048


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def,override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def serve(
    home: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve ``home``; every worker process builds its app from ``OPENNEWS_HOME`` (set here)."""
    os.environ["OPENNEWS_HOME"] = str(Path(home).resolve())
    run(
        "opennews.web.app:app_from_env",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=True,
        server_header=False,
    )


def run(app: str, *, host: str, port: int, workers: int = 1, **options: Any) -> None:
    """Serve the app factory ``app`` ("module:function") with ``workers`` processes."""
    options = {"factory": True, "http": NoDelayH11Protocol, **options}
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, **options)
        return
    _listen(host, port).close()  # fail here, clearly, if the address is taken
    context = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(app, host, port, options), daemon=True)
        process.start()
        return process

    procs = [start() for _ in range(workers)]
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
                procs[i], started[i] = start(), time.monotonic()  # replaced, as uvicorn's supervisor does
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


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    app_dir = options.pop("app_dir", None)
    if app_dir is not None:
        import sys

        sys.path.insert(0, app_dir)
    sock = _listen(host, port)
    sock.listen(BACKLOG)
    config = uvicorn.Config(app, host=host, port=port, backlog=BACKLOG, **options)
    uvicorn.Server(config).run(sockets=[sock])
