"""uvicorn's parts that web/uvicorn_internals.py relies on are still there and behave as they were
read: an upgrade that changes one fails here, naming it, instead of leaving slow clients holding
connections again or a worker out of the fair accept.

A real uvicorn server runs in a thread of this process on 127.0.0.1, with a tiny ASGI app, so
that the protocol objects themselves can be looked at while real sockets talk to them.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

from opennews.web.uvicorn_internals import GuardedH11Protocol, NotifyingServer
from webhome import free_port

TIMEOUT = 0.4  # the head deadline these tests run with


def expect(ok: object, what: str) -> None:
    if not ok:
        pytest.fail(f"uvicorn internals changed: {what}; see web/uvicorn_internals.py", pytrace=False)


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


class _Server:
    def __init__(self, protocol: Callable[..., Any], on_serving: Callable[[bool], None] | None = None) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            _app, host="127.0.0.1", port=self.port, http=protocol, loop="asyncio", lifespan="off", log_level="error"
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


def _closed_after(sock: socket.socket, started: float, limit: float = 5) -> float:
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
        assert TIMEOUT * 0.9 <= _closed_after(dribbling, started) < TIMEOUT + 1
        assert TIMEOUT * 0.9 <= _closed_after(idle, started) < TIMEOUT + 1


def test_the_clock_stops_at_the_head_and_starts_again_for_the_next(server: _Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /?sleep=%.1f HTTP/1.1\r\nHost: t\r\n\r\n" % (TIMEOUT * 2))  # a slow app is not a slow head
        assert _response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT / 2)  # idle between requests: uvicorn's keep-alive timeout (5 s) governs that
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        assert TIMEOUT * 0.9 <= _closed_after(sock, started) < TIMEOUT + 1


def test_the_server_says_when_it_serves_and_when_it_stops() -> None:
    calls: list[bool] = []
    with _Server(partial(GuardedH11Protocol, header_timeout=TIMEOUT), calls.append):
        assert calls == [True]
    assert calls == [True, False]
