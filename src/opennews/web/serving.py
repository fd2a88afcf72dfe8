"""Running the app under uvicorn, with one fix that matters for latency.

With several workers, uvicorn hands the listening socket to spawned processes, and the
connections they accept lose asyncio's usual ``TCP_NODELAY`` (the socket's protocol
number is not carried over, so asyncio does not recognise it as TCP). Responses are
written as headers then body, and Nagle's algorithm then holds the body until the
client's delayed ACK: about 40 ms added to every keep-alive request. The protocol
class below sets ``TCP_NODELAY`` on each connection itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol", "serve"]


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
    uvicorn.run(
        "opennews.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=NoDelayH11Protocol,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=True,
        server_header=False,
    )
