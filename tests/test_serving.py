"""Taking turns on the shared listening socket (the whole server is tested in test_browser.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from opennews.web.serving import PATIENCE, _FairSocket, _Held

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
