"""What the HTTP benchmarks (``web.py``, ``feeds.py``) share: the load loop, the bare floor server,
and starting, waiting for and weighing server processes.

One copy, so that the benchmarks load a server the same way and their numbers stay
comparable. Each benchmark keeps its own summary of the samples, because what counts as
an error differs: ``web.py`` counts anything but a 200 as one, while a 304 is what
``feeds.py`` measures.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def hammer(
    urls: list[str], connections: int, duration: float, warmup: float, headers: dict[str, str] | None = None
) -> list[tuple[int, float]]:
    """Keep ``connections`` keep-alive connections busy cycling through ``urls`` for ``warmup`` +
    ``duration`` seconds; return (status, latency ms) of each request started after the warm-up.

    A failed request counts as status 0, so that errors are samples too and not lost.
    """
    import httpx

    samples: list[tuple[int, float]] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:
        start = time.perf_counter()
        measure_from, stop = start + warmup, start + warmup + duration

        async def worker(offset: int) -> None:
            i = offset
            while (t0 := time.perf_counter()) < stop:
                url = urls[i % len(urls)]
                i += connections
                try:
                    r = await client.get(url)
                    await r.aread()
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                if t0 >= measure_from:
                    samples.append((status, (time.perf_counter() - t0) * 1000))

        await asyncio.gather(*(worker(k) for k in range(connections)))
    return samples


def serve_floor(app: str, port: int, workers: int) -> None:
    """Serve ``app`` (``"module:factory"``, a module in this folder) under the same uvicorn settings
    as ``opennews serve`` (incl. its protocol class), so that the floor differs only in the app."""
    import uvicorn

    from opennews.web.serving import NoDelayH11Protocol

    uvicorn.run(
        app,
        factory=True,
        app_dir=str(HERE),
        host="127.0.0.1",
        port=port,
        workers=workers,
        http=NoDelayH11Protocol,
        log_level="warning",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no answer from {url} in {timeout:.0f} s")


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak RSS (MiB) summed over a process and its descendants (Linux /proc)."""
    pids = [pid]
    i = 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*/children"):
            pids.extend(int(c) for c in task.read_text().split())
        i += 1
    rss = hwm = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, hwm / 1024
