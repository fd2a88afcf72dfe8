"""uvicorn's and asyncio's parts that web/server_internals.py relies on are still there and behave
as they were read: an upgrade that changes one fails here, naming it, instead of leaving slow
clients holding connections or a worker out of the fair accept.

A real uvicorn server runs in a thread of this process on 127.0.0.1, with a tiny ASGI app, so
that the protocol objects themselves can be looked at while real sockets talk to them.
"""

from __future__ import annotations

import asyncio
import inspect
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, cast

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from opennews.web.server_internals import GuardedH11Protocol, NotifyingServer, selector_of, unwatch_for
from webhome import free_port

TIMEOUT = 0.4  # the head deadline these tests run with


def expect(ok: object, what: str) -> None:
    if not ok:
        pytest.fail(f"uvicorn or asyncio internals changed: {what}; see web/server_internals.py", pytrace=False)


async def _app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """Answers after ``?sleep=SECONDS`` (a slow app: the head's clock must not cut it off)."""
    query = scope.get("query_string", b"").decode()
    if query.startswith("sleep="):
        await asyncio.sleep(float(query[6:]))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class _Recording(GuardedH11Protocol):
    """Notes what the internals say at each step, for the tests to read."""

    seen: list[tuple[str, object, bool | None]]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        cycle = self.cycle
        self.seen.append(("data", cycle, None if cycle is None else cycle.response_complete))


class _Echo(asyncio.Protocol):
    """A WebSocket protocol reduced to what the upgrade needs: it takes the connection from the
    h11 protocol (with the request's head as its first data) and echoes what comes after."""

    def __init__(self, **kwargs: Any) -> None:
        self.head = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.head:
            self.head = False
            self.transport.write(b"upgraded\n")
        else:
            self.transport.write(data)


class _Server:
    def __init__(self, protocol: Callable[..., Any], on_serving: Callable[[bool], None] | None = None) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            _app,
            host="127.0.0.1",
            port=self.port,
            http=protocol,
            ws=_Echo,
            loop="asyncio",
            lifespan="off",
            log_level="error",
        )
        self.server = NotifyingServer(config, on_serving or (lambda serving: None))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock


@pytest.fixture()
def server() -> Iterator[_Server]:
    with _Server(partial(GuardedH11Protocol, header_timeout=TIMEOUT)) as running:
        yield running


def _response(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"ok"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


#: Seconds past the deadline a close may come on a loaded machine (two shared cores, other tests
#: running): the bound only catches a deadline that never fires; the lower bound is the exact one.
LATE = 5.0


def _closed_after(sock: socket.socket, started: float, limit: float = TIMEOUT + LATE + 5) -> float:
    """Seconds from ``started`` until the server closed ``sock`` (reading nothing else)."""
    sock.settimeout(limit)
    assert sock.recv(1) == b"", "the server sent something"
    return time.monotonic() - started


def test_the_protocol_class_is_built_as_the_subclass_expects() -> None:
    expect(issubclass(H11Protocol, asyncio.Protocol), "H11Protocol is an asyncio.Protocol")
    params = inspect.signature(H11Protocol.__init__).parameters
    expect({"config", "server_state", "app_state", "_loop"} <= set(params), "H11Protocol(config, server_state, ...)")
    for name in ("connection_made", "data_received", "connection_lost"):
        expect(getattr(H11Protocol, name) is not getattr(asyncio.Protocol, name), f"H11Protocol.{name}")
    config = uvicorn.Config(_app, http=partial(GuardedH11Protocol, header_timeout=1.0))
    config.load()
    expect(isinstance(config.http_protocol_class, partial), "Config(http=...) takes a callable as it is")
    expect(
        {"startup", "shutdown"} <= {n for n, f in inspect.getmembers(uvicorn.Server, inspect.iscoroutinefunction)},
        "uvicorn.Server.startup and shutdown are coroutines",
    )
    expect(list(inspect.signature(uvicorn.Server.startup).parameters) == ["self", "sockets"], "startup(sockets)")
    expect(list(inspect.signature(uvicorn.Server.shutdown).parameters) == ["self", "sockets"], "shutdown(sockets)")
    upgrade = getattr(H11Protocol, "handle_websocket_upgrade", None)
    expect(upgrade is not None, "H11Protocol.handle_websocket_upgrade")
    expect(list(inspect.signature(upgrade).parameters) == ["self", "event"], "handle_websocket_upgrade(event)")


def test_cycle_is_none_then_one_per_request_and_completes() -> None:
    protocols: list[_Recording] = []

    def make(**kwargs: Any) -> _Recording:
        protocol = _Recording(header_timeout=TIMEOUT, **kwargs)
        protocol.seen = []
        protocols.append(protocol)
        return protocol

    with _Server(make) as running, running.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        time.sleep(0.05)
        sock.sendall(b"\r\n")
        assert _response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert _response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(0.05)
    (protocol,) = protocols
    seen = protocol.seen
    expect(seen[0][1] is None, "self.cycle is None until a request's head is complete")
    expect(isinstance(seen[1][1], RequestResponseCycle), "self.cycle is the request's RequestResponseCycle")
    expect(isinstance(seen[2][1], RequestResponseCycle) and seen[2][1] is not seen[1][1], "a new cycle per request")
    expect(seen[1][1].response_complete and seen[2][1].response_complete, "cycle.response_complete")  # type: ignore[union-attr]
    expect(protocol.conn is not None and hasattr(protocol.conn, "send"), "self.conn, the h11.Connection")


def test_a_head_that_does_not_come_in_time_closes_the_connection(server: _Server) -> None:
    started = time.monotonic()
    with server.connect() as idle, server.connect() as dribbling:
        dribbling.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(TIMEOUT / 2)
        dribbling.sendall(b"Host: t\r\n")  # a byte now and then does not buy more time
        assert TIMEOUT * 0.9 <= _closed_after(dribbling, started) < TIMEOUT + LATE
        assert TIMEOUT * 0.9 <= _closed_after(idle, started) < TIMEOUT + LATE


def test_the_clock_stops_at_the_head_and_starts_again_for_the_next(server: _Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /?sleep=%.1f HTTP/1.1\r\nHost: t\r\n\r\n" % (TIMEOUT * 2))  # a slow app is not a slow head
        assert _response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT / 2)  # idle between requests: uvicorn's keep-alive timeout (5 s) governs that
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        assert TIMEOUT * 0.9 <= _closed_after(sock, started) < TIMEOUT + LATE


def test_the_server_says_when_it_serves_and_when_it_stops() -> None:
    calls: list[bool] = []
    with _Server(partial(GuardedH11Protocol, header_timeout=TIMEOUT), calls.append):
        assert calls == [True]
    assert calls == [True, False]


def test_an_upgraded_connection_is_not_timed_as_a_head(server: _Server) -> None:
    """After the head that asks for a WebSocket, the connection is the WebSocket's: still open
    well past the head's deadline, and answered."""
    with server.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        expect(sock.recv(100) == b"upgraded\n", "handle_websocket_upgrade hands the connection to config.ws")
        time.sleep(TIMEOUT * 2)
        sock.sendall(b"still here")
        sock.settimeout(2)
        assert sock.recv(100) == b"still here"


def test_asyncio_keeps_a_listening_socket_in_its_selector() -> None:
    """What the fair accept's stand-aside relies on: the loop's selector holds the listening
    socket with the loop's own accept callback as its key's data; taken out for a while, the
    socket is watched again as it was (and a connection then is accepted); a socket closed
    meanwhile is left alone."""

    async def check() -> None:
        loop = asyncio.get_running_loop()
        selector = selector_of(loop)
        expect(selector is not None, "asyncio's default event loop keeps a selectors selector as loop._selector")
        assert selector is not None
        accepted = asyncio.Event()
        server = await loop.create_server(lambda: _Accepted(accepted), "127.0.0.1", 0)
        (sock,) = server.sockets
        raw = socket.socket(fileno=sock.fileno())  # the same descriptor, as the fair socket is
        try:
            key = selector.get_key(sock.fileno())
            expect(key.events & selectors.EVENT_READ and key.data is not None, "the listening socket's selector key")
            unwatch_for(raw, 0.1)
            expect(sock.fileno() not in selector.get_map(), "selector.unregister takes the socket out")
            await asyncio.sleep(0.3)
            expect(selector.get_key(sock.fileno()).data == key.data, "the key put back keeps the accept callback")
            with socket.create_connection(sock.getsockname()[:2]):
                await asyncio.wait_for(accepted.wait(), 5)
        finally:
            raw.detach()
            server.close()
            await server.wait_closed()

    asyncio.run(check())


class _Accepted(asyncio.Protocol):
    def __init__(self, accepted: asyncio.Event) -> None:
        self.accepted = accepted

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.accepted.set()
        transport.close()
