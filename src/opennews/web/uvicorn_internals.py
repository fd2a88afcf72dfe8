"""Every part of uvicorn that serving relies on beyond its documented API, in one place.

uvicorn has no setting for how long a client may take to send a request's head: its
only timer is the keep-alive one, armed after a response and cancelled by the first
byte of the next request. A client that opens a connection and sends nothing, or
sends a header line now and then, held it for as long as it liked (measured: 8
connections sending one byte of their headers every 5 s, and one sending nothing,
were all still open after a minute). The fix is a timer per request head, which only
the protocol object can keep, so the server is given a subclass of uvicorn's h11
protocol (``http=`` takes a class) that relies on:

- ``uvicorn.protocols.http.h11_impl.H11Protocol``, built by the server as
  ``cls(config=..., server_state=..., app_state=..., _loop=...)``, an asyncio protocol
  whose ``connection_made`` sets ``self.transport``;
- ``self.cycle``: None until the first request's head is parsed, then that request's
  ``RequestResponseCycle``, replaced by a new one when the next head is complete;
  ``cycle.response_complete`` once its response is sent;
- ``self.conn``, the ``h11.Connection``, told the connection is closed before the
  transport is, as uvicorn's own keep-alive timeout does.

And, for the workers' fair accept (serving.py), ``uvicorn.Server.startup(sockets)`` and
``shutdown(sockets)``, called once each around serving, with ``started`` set in between.

tests/test_uvicorn_internals.py checks each of these, and the deadline on a real
server, failing with the part's name when an upgrade of uvicorn changes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT", "GuardedH11Protocol", "H11Protocol", "NotifyingServer"]

#: Seconds a client has to send a request's line and headers, from its connection (or from the
#: first byte after the previous response). Browsers and proxies send a head in one packet.
HEADER_TIMEOUT = 5.0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for every request's head, and no Nagle delay.

    The clock for a head starts when the connection is made, or at the first byte received
    once the previous response is complete; it stops when uvicorn has parsed the whole head
    (a new request cycle exists). A head not complete by then closes the connection: no
    response is possible to a request whose head never came. The body, and the time the app
    takes, are not timed here.

    ``TCP_NODELAY``: responses are written as headers then body, and Nagle's algorithm would
    hold the body until the client's delayed ACK (about 40 ms on every keep-alive request).
    """

    def __init__(self, *args: Any, header_timeout: float = HEADER_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._head_clock: asyncio.TimerHandle | None = None
        self._head_after: object = None  # the cycle current when the clock started (None: no request yet)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._start_head_clock()

    def data_received(self, data: bytes) -> None:
        if self._between_requests() and (self._head_clock is None or self._head_after is not self.cycle):
            self._start_head_clock()  # the first byte of a new head
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _start_head_clock(self) -> None:
        self._stop_head_clock()
        if self.header_timeout > 0:
            self._head_after = self.cycle
            self._head_clock = asyncio.get_running_loop().call_later(self.header_timeout, self._head_overdue)

    def _stop_head_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_overdue(self) -> None:
        self._head_clock = None
        if self.cycle is not self._head_after or self.transport.is_closing():
            return  # the head came in time (or the connection is going anyway)
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


class NotifyingServer(uvicorn.Server):
    """uvicorn's server, telling ``on_serving`` when it starts serving (True) and before it stops (False)."""

    def __init__(self, config: uvicorn.Config, on_serving: Callable[[bool], None]) -> None:
        super().__init__(config)
        self.on_serving = on_serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_serving(True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.on_serving(False)
        await super().shutdown(sockets)
