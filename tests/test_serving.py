"""Taking turns on the shared listening socket (the whole server is tested in test_browser.py)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from opennews.web.serving import LONGEST_PAUSE, PATIENCE, _FairSocket, _Held

Listening = tuple[_FairSocket, list[socket.socket]]


@pytest.fixture()
def listening() -> Iterator[Listening]:
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen(8)
    fair = _FairSocket(fileno=plain.detach())
    fair.setblocking(False)
    clients: list[socket.socket] = []
    yield fair, clients
    for client in clients:
        client.close()
    fair.close()


def _connect(fair: _FairSocket, clients: list[socket.socket]) -> None:
    clients.append(socket.create_connection(fair.getsockname()))


def test_a_worker_takes_a_connection_on_its_turn_and_counts_it(listening: Listening) -> None:
    fair, clients = listening
    fair.held = _Held([0, 0], 0)
    _connect(fair, clients)
    conn, _ = fair.accept()
    conn.close()
    assert list(fair.held.counts) == [1, 0]
    fair.held.release()
    assert list(fair.held.counts) == [0, 0]


def test_a_worker_holding_more_waits_then_takes_a_connection_nobody_took(listening: Listening) -> None:
    fair, clients = listening
    fair.held = _Held([1, 0, -1], 0)  # the second worker holds fewer; the third is not serving
    _connect(fair, clients)
    started = time.monotonic()
    while True:
        try:
            conn, _ = fair.accept()
            break
        except BlockingIOError:
            assert time.monotonic() - started < PATIENCE * 4, "never took it"
            time.sleep(0.01)
    conn.close()
    assert time.monotonic() - started >= PATIENCE * 0.9  # it left the other worker its turn first
    assert list(fair.held.counts) == [2, 0, -1]


def test_workers_not_serving_are_not_waited_for(listening: Listening) -> None:
    fair, clients = listening
    fair.held = _Held([3, -1], 0)
    _connect(fair, clients)
    time.sleep(0.05)
    conn, _ = fair.accept()
    conn.close()


def test_a_closing_worker_stays_out_of_turn_taking_as_its_connections_end() -> None:
    held = _Held([2, 0], 0)
    held.serve(False)  # shutting down, still holding two connections
    held.release()
    assert list(held.counts) == [-1, 0]  # the other worker is not told to defer to it
    held.serve(True)
    assert list(held.counts) == [1, 0]


class _Counting(_FairSocket):
    calls = 0

    def accept(self) -> tuple[socket.socket, Any]:
        self.calls += 1
        return super().accept()


async def _serve_one(counts: list[int], *, turn_after: float | None = None) -> tuple[int, float]:
    """One worker's event loop serving the fair socket while one connection waits: the accept()
    calls it made and the seconds until it took the connection. ``turn_after``: the other worker
    takes a connection of its own then (making it this worker's turn)."""
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen(8)
    fair = _Counting(fileno=plain.detach())
    fair.held = _Held(counts, 0)
    taken = asyncio.Event()

    class Closing(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            taken.set()
            transport.close()

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Closing, sock=fair)
    try:
        with socket.create_connection(fair.getsockname()):
            started = time.monotonic()
            if turn_after is not None:
                await asyncio.sleep(turn_after)
                counts[1] += 2
            await asyncio.wait_for(taken.wait(), PATIENCE * 8)
            return fair.calls, time.monotonic() - started
    finally:
        server.close()
        await server.wait_closed()


def test_a_worker_whose_turn_it_is_not_does_not_spin_on_the_waiting_connection() -> None:
    """The socket stays readable while a connection waits: the event loop used to ask the worker
    that defers again at once, some 11,000 times in PATIENCE (0.25 s); it stands aside now (13)."""
    calls, waited = asyncio.run(_serve_one([1, 0]))
    assert calls < 200, f"{calls} accept() calls while one connection waited {waited * 1000:.0f} ms"
    assert PATIENCE * 0.9 <= waited < PATIENCE * 4  # it still took the connection nobody took


def test_a_worker_standing_aside_takes_the_connection_soon_after_its_turn_comes() -> None:
    _, waited = asyncio.run(_serve_one([1, 0], turn_after=0.05))
    assert waited < 0.05 + LONGEST_PAUSE + 0.1 < PATIENCE * 0.9, f"taken after {waited * 1000:.0f} ms"


def test_the_socket_closed_while_its_worker_stands_aside_is_not_watched_again() -> None:
    class Refusing(_FairSocket):
        refused: asyncio.Event

        def accept(self) -> tuple[socket.socket, Any]:
            try:
                return super().accept()
            except BlockingIOError:
                self.refused.set()
                raise

    async def close_while_aside() -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: errors.append(context))
        plain = socket.socket()
        plain.bind(("127.0.0.1", 0))
        plain.listen(8)
        fair = Refusing(fileno=plain.detach())
        fair.held, fair.refused = _Held([1, 0], 0), asyncio.Event()
        server = await loop.create_server(asyncio.Protocol, sock=fair)
        with socket.create_connection(fair.getsockname()):
            await fair.refused.wait()  # standing aside from now
            server.close()
            await server.wait_closed()
            await asyncio.sleep(LONGEST_PAUSE * 2)  # past the pause
        return errors

    assert asyncio.run(close_while_aside()) == []
