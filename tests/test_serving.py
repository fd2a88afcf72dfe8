"""Taking turns on the shared listening socket (the whole server is tested in test_browser.py),
and a real server cutting off clients that send their request heads too slowly."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from opennews.cli import build_parser
from opennews.web.params import MAX_NAME, MAX_QUERY, MAX_QUERY_STRING
from opennews.web.serving import HEADER_TIMEOUT, LONGEST_PAUSE, PATIENCE, _FairSocket, _Held
from webhome import WebHome, serving

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
    """The socket stays readable while a connection waits: an event loop that kept watching it would
    ask the worker that defers again at once (measured: some 11,000 times in PATIENCE, 0.25 s,
    against 13 standing aside)."""
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


# -- slow request heads ----------------------------------------------------------------


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (it never sends these clients anything)."""
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _answer(sock: socket.socket) -> bytes:
    """One whole response (its head and Content-Length bytes of body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(h[15:]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_serve_takes_a_header_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["serve"]).header_timeout == HEADER_TIMEOUT == 5.0
    assert build_parser().parse_args(["serve", "--header-timeout", "2.5"]).header_timeout == 2.5
    assert build_parser().parse_args(["serve", "--header-timeout", "0"]).header_timeout == 0
    for wrong in ("-1", "nan", "inf", "-inf", "five"):  # each would silently turn the deadline off
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", "--header-timeout", wrong])
        assert "--header-timeout" in capsys.readouterr().err


def test_slow_and_incomplete_request_heads_are_cut_off_while_others_are_served(web_home: WebHome) -> None:
    """Eight clients dribbling header bytes, one sending nothing and one dribbling its second
    request on a kept-alive connection are all closed once the deadline passes, while ordinary
    requests, and a head sent in pieces within the deadline, are answered meanwhile. Two
    workers: the protocol reaches each spawned worker."""
    deadline = 1.0
    late = 6.0  # seconds past the deadline a close may come on a loaded machine (two shared cores)
    with serving(web_home.path, workers=2, options=["--header-timeout", str(deadline)]) as base:
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        started = time.monotonic()
        clients = [socket.create_connection(address, timeout=5) for _ in range(9)]
        for client in clients[:8]:
            client.sendall(b"GET /api/stats HTTP/1.1\r\nHost: test\r\n")
        with httpx.Client(base_url=base, timeout=5) as kept:
            assert kept.get("/healthz").status_code == 200
        again = socket.create_connection(address, timeout=5)
        again.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert _answer(again).startswith(b"HTTP/1.1 200")
        again_started = time.monotonic()
        again.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request's head starts its own clock
        for client in [*clients, again]:
            client.settimeout(0.01)
        closed: dict[int, float] = {}
        served = 0
        while len(closed) < 10 and time.monotonic() - started < deadline + late + 5:
            for i, client in enumerate([*clients, again]):
                if i not in closed and _closed(client):
                    closed[i] = time.monotonic() - (again_started if i == 9 else started)
                elif i not in closed and i != 8:
                    with contextlib.suppress(OSError):
                        client.sendall(b"X")  # a byte of a header line now and then
            assert httpx.get(base + "/healthz", timeout=5).status_code == 200  # others are served
            served += len(closed) < 10  # while slow clients hold connections
            time.sleep(0.1)
        for client in [*clients, again]:
            client.close()
        assert sorted(closed) == list(range(10)), f"still open: {set(range(10)) - set(closed)}"
        assert all(deadline * 0.9 <= t < deadline + late for t in closed.values()), closed
        assert served >= 1
        with socket.create_connection(address, timeout=5) as patient:  # slow, but within the deadline
            for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: test\r\n", b"\r\n"):
                patient.sendall(piece)
                time.sleep(deadline / 4)
            assert _answer(patient).startswith(b"HTTP/1.1 200")


def test_the_longest_valid_query_reaches_the_app_through_a_real_server(web_home: WebHome) -> None:
    """The OpenAPI document allows q, source and category of their full length in any character:
    500 four-byte characters each are 18,000 bytes percent-encoded, past the 16 KiB that h11 lets
    an incomplete request head take by default. Sent in pieces, as a network delivers it (on
    loopback one read takes it whole and h11 never sees it incomplete), the server takes it and
    the app answers."""
    wide = "\U00020000"  # 𠀀, four bytes in UTF-8
    query = urlencode({"q": wide * MAX_QUERY, "source": wide * MAX_NAME, "category": wide * MAX_NAME})
    assert 16 * 1024 < len(query) <= MAX_QUERY_STRING
    browser = (
        b"User-Agent: Mozilla/5.0 " + b"x" * 300 + b"\r\nAccept-Language: vi-VN,vi;q=0.9\r\nCookie: a=" + b"b" * 2000
    )
    with serving(web_home.path) as base:
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        for path in ("/api/search?", "/?", "/api/export?"):
            head = b"GET %s%s HTTP/1.1\r\nHost: test\r\n%s\r\nConnection: close\r\n\r\n" % (
                path.encode(),
                query.encode(),
                browser,
            )
            with socket.create_connection(address, timeout=10) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                answer = b""
                with contextlib.suppress(OSError):  # a server that refuses the head closes the connection
                    for at in range(0, len(head), 1448):  # an Ethernet frame's worth at a time
                        sock.sendall(head[at : at + 1448])
                        time.sleep(0.01)
                    while chunk := sock.recv(65536):
                        answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 "), (path, answer[:300])
        api = httpx.get(base + "/api/search?" + query, timeout=30).json()
        assert api["total"] == 0 and api["filters"]["source"] == wide * MAX_NAME
