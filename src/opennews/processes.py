"""Telling whether the process that started a run is still there.

An ingest killed outright (``kill -9``, the machine losing power) cannot write its
own end into the run log, so its run would read "running" forever. A run therefore
records who runs it: the machine, its boot, the process id and the process's start
time. A process id alone is not enough (ids are reused, and a restart reuses the low
ones first); with the boot and the start time beside it, a mark names one process
once. Whoever later reads the log can tell a run still going from one whose process
is gone, on the same machine; a run from another machine is taken at its word.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

__all__ = ["alive", "own_mark"]


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of ``/proc/PID/stat``),
    ``"-"`` where there is no ``/proc``, None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "-"
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # dead, only waiting for its parent to read its status
        return None
    return fields[19]


def own_mark() -> str:
    """This process, as ``host boot pid start``."""
    pid = os.getpid()
    return f"{socket.gethostname()} {_boot_id()} {pid} {_start_ticks(pid) or '-'}"


def alive(mark: str | None) -> bool:
    """Whether the process a mark names may still run: False only when it is known gone
    (same machine, and a reboot since, or no process with that id and start time)."""
    if not mark:
        return True
    try:
        host, boot, pid_text, ticks = mark.split(" ")
        pid = int(pid_text)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    if boot != "-" and _boot_id() != "-" and boot != _boot_id():
        return False
    now = _start_ticks(pid)
    if now is None:
        return False
    if now != "-" and ticks != "-":
        return now == ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
