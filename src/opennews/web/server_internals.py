"""Every part of uvicorn and of asyncio that serving relies on beyond their documented APIs, in one place.

uvicorn has no setting for how long a client may take to send a request's head: its
only timer is the keep-alive one, armed after a response and cancelled by the first
byte of the next request, so a client that opens a connection and sends nothing, or
sends a header line now and then, would hold it for as long as it liked. A timer per
request head can only be kept by the protocol object, so the server is given a
subclass of uvicorn's h11 protocol (``http=`` takes a class) that relies on:

- ``uvicorn.protocols.http.h11_impl.H11Protocol``, built by the server as
  ``cls(config=..., server_state=..., app_state=..., _loop=...)``, an asyncio protocol
  whose ``connection_made`` sets ``self.transport``;
- ``self.cycle``: None until the first request's head is parsed, then that request's
  ``RequestResponseCycle``, replaced by a new one when the next head is complete;
  ``cycle.response_complete`` once its response is sent;
- ``self.conn``, the ``h11.Connection``, told the connection is closed before the
  transport is, as uvicorn's own keep-alive timeout does;
- ``handle_websocket_upgrade(event)``, called instead of making a cycle when a complete
  head asks for a WebSocket, after which the connection belongs to the WebSocket protocol.

For the workers' fair accept (serving.py): ``uvicorn.Server.startup(sockets)`` and
``shutdown(sockets)``, called once each around serving, with ``started`` set in between;
and asyncio's selector event loop keeping its ``selectors`` selector as ``loop._selector``,
the listening socket registered in it with the loop's own accept callback as the key's data.

tests/test_server_internals.py checks each of these, and the deadline on a real
server, failing with the part's name when an upgrade of uvicorn or Python changes one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import selectors
import socket
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "HEADER_TIMEOUT",
    "GuardedH11Protocol",
    "H11Protocol",
    "NotifyingServer",
    "check_header_timeout",
    "selector_of",
    "unwatch_for",
]

#: Seconds a client has to send a request's line and headers, from its connection (or from the
#: first byte after the previous response). Browsers and proxies send a head in one packet.
HEADER_TIMEOUT = 5.0


def check_header_timeout(seconds: float) -> float:
    """``seconds`` if it is a deadline (0: none); a negative or NaN one would silently be none."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a header timeout is a finite number of seconds, 0 or more, not {seconds!r}")
    return seconds


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for every request's head, and no Nagle delay.

    The clock for a head starts when the connection is made, or at the first byte received
    once the previous response is complete; it stops when uvicorn has parsed the whole head
    (a new request cycle exists, or the connection is upgraded to a WebSocket). A head not
    complete by then closes the connection: no response is possible to a request whose head
    never came. The body, and the time the app takes, are not timed here.

    ``TCP_NODELAY``: responses are written as headers then body, and Nagle's algorithm would
    hold the body until the client's delayed ACK (about 40 ms on every keep-alive request).
    """

    def __init__(self, *args: Any, header_timeout: float = HEADER_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = check_header_timeout(header_timeout)
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

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """The head is complete, and no cycle will say so: the connection is the WebSocket's now."""
        self._stop_head_clock()
        super().handle_websocket_upgrade(event)

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


def selector_of(loop: asyncio.AbstractEventLoop) -> selectors.BaseSelector | None:
    """The ``selectors`` selector an asyncio selector event loop waits on, or None (uvloop, Windows' proactor)."""
    selector = getattr(loop, "_selector", None)
    return selector if isinstance(selector, selectors.BaseSelector) else None


def unwatch_for(sock: socket.socket, seconds: float) -> None:
    """Take ``sock`` out of the running event loop's selector for ``seconds``, then put it back as
    it was. Not ``loop.remove_reader``: that cancels the loop's own accept callback for a
    listening socket, which there is no public way to register again, where the selector's key
    keeps it. Outside an event loop, in one without a selector, or for a socket it does not
    watch, nothing happens; a socket closed meanwhile is not watched again."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    selector = selector_of(loop)
    if selector is None:
        return
    fd = sock.fileno()
    try:
        key = selector.unregister(fd)
    except (KeyError, ValueError):
        return
    loop.call_later(seconds, _watch_again, sock, selector, fd, key)


def _watch_again(sock: socket.socket, selector: selectors.BaseSelector, fd: int, key: selectors.SelectorKey) -> None:
    if sock.fileno() != fd:  # closed meanwhile: the server has stopped
        return
    with contextlib.suppress(KeyError, ValueError):  # watched again already
        selector.register(fd, key.events, key.data)
