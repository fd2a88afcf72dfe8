"""What the HTTP benchmarks (``web.py``, ``feeds.py``) share: the load loop, the bare floor server,
and starting, waiting for and weighing server processes.

One copy, so that the benchmarks load a server the same way and their numbers stay
comparable. Each benchmark keeps its own summary of the samples, because what counts as
an error differs: ``web.py`` counts anything but a 200 as one, while a 304 is what
``feeds.py`` measures.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

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


#: wrk's script: each thread cycles through its share of the paths, counts the answers by
#: status, and the main thread prints one JSON line with everything when the run is done.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  step = tonumber(args[2])
  at = id
  statuses = {}
end

function request()
  local path = paths[(at % #paths) + 1]
  at = at + step
  return wrk.format("GET", path)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do counts[key] = (counts[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(counts) do parts[#parts + 1] = string.format('"%s": %d', key, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), table.concat(parts, ", ")))
end
"""


def wrk_path() -> str | None:
    """wrk (Debian package ``wrk``): an event-driven load generator in C, so that the load
    takes less of the CPUs it shares with the server than Python's httpx does."""
    return shutil.which("wrk")


def wrk_load(urls: list[str], connections: int, duration: float, warmup: float, headers: dict[str, str]) -> dict:
    """Keep ``connections`` keep-alive connections busy cycling through ``urls`` (all on one
    host) with wrk: a ``warmup`` run, then ``duration`` seconds measured.

    Returns requests, errors (socket errors and any status but 200), requests/s, latency
    p50/p95/p99 in ms (of every request, as wrk measures them) and the count of each status.
    """
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    first = urlsplit(urls[0])
    base = f"{first.scheme}://{first.netloc}"
    threads = max(1, min(2, connections))
    cycle = [u.removeprefix(base) or "/" for u in urls]
    with tempfile.TemporaryDirectory() as tmp:
        script, paths = Path(tmp) / "cycle.lua", Path(tmp) / "paths.txt"
        script.write_text(WRK_SCRIPT)

        def run(seconds: float, skip: int) -> dict:
            # The measured run carries on where the warm-up stopped, so it asks new URLs too.
            paths.write_text("\n".join(cycle[skip % len(cycle) :] + cycle[: skip % len(cycle)]) + "\n")
            cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
            for name, value in headers.items():
                cmd += ["-H", f"{name}: {value}"]
            cmd += ["-s", str(script), base, "--", str(paths), str(threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            line = next((x for x in out.splitlines() if x.startswith("WRK-JSON ")), None)
            if line is None:
                raise RuntimeError(f"wrk printed no result:\n{out}")
            return json.loads(line.removeprefix("WRK-JSON "))

        done = run(warmup, 0)["requests"] if warmup > 0 else 0
        raw = run(duration, done)
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    errors = raw["socket_errors"] + sum(n for status, n in statuses.items() if status != 200)
    return {
        "requests": raw["requests"],
        "errors": errors,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p95": raw["p95_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "statuses": statuses,
    }


def serve_floor(app: str, port: int, workers: int) -> None:
    """Serve ``app`` (``"module:factory"``, a module in this folder) the way ``opennews serve`` does
    (same process model, protocol class and uvicorn settings), so that the floor differs only in the app."""
    from opennews.web.serving import run

    run(app, host="127.0.0.1", port=port, workers=workers, app_dir=str(HERE), log_level="warning", access_log=False)


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


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (Linux /proc)."""
    pids = [pid]
    i = 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*/children"):
            pids.extend(int(c) for c in task.read_text().split())
        i += 1
    return pids


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def tree_memory_mb(pid: int, *fields: str) -> list[float]:
    """``fields`` of /proc/PID/status ("VmRSS", "VmHWM", "RssAnon", "RssFile"...) in MiB,
    each summed over a process and its descendants.

    RssFile counts file-backed pages (memory-mapped index files): they live in the
    operating system's page cache, shared by every process that maps them and dropped
    under pressure, so RSS (which counts them once per process) overstates what a server
    really holds; RssAnon is its private memory.
    """
    sums = dict.fromkeys(fields, 0)
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                key = line.split(":", 1)[0]
                if key in sums:
                    sums[key] += int(line.split()[1])
        except OSError:
            continue
    return [kb / 1024 for kb in sums.values()]
