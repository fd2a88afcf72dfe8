"""What the command line prints: run summaries, sync summaries, progress by phase.

Progress goes to stderr (a bar on a terminal, plain lines in logs), results to stdout,
so ``opennews export > dump.ndjson`` and ``opennews stats --json | jq`` behave.
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any, TextIO

from ..search.indexer import SilentPhases

if TYPE_CHECKING:
    from ..ingest import IngestReport
    from ..sync import SyncReport

__all__ = [
    "BarPhases",
    "LinePhases",
    "QuietPhases",
    "open_out",
    "phases_for",
    "print_report",
    "print_sync",
    "print_table",
]


def print_table(rows: list[tuple[str, ...]], out: TextIO | None = None) -> None:
    """Rows (the first a header) in columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out or sys.stdout)


def print_report(report: IngestReport, elapsed: float, out: TextIO) -> None:
    n = len(report.inputs)
    print(f"Ingest run {report.run_id}: {n:,} input{'s' if n != 1 else ''} in {elapsed:.1f} s", file=out)
    print(
        f"  added {report.total('added'):,} · updated {report.total('updated'):,} · "
        f"unchanged {report.total('unchanged'):,} · rejected {report.rejects_total:,}",
        file=out,
    )
    for item in report.inputs:
        if item.encoding and item.encoding not in ("utf-8",):
            print(f"  {item.name}: decoded as {item.encoding}", file=out)
    if report.rejects_total:
        print(f"Rejected ({report.rejects_total:,}; every one is listed in {report.rejects_path}):", file=out)
        for rej in report.rejects[:20]:
            print(f"  {rej.input} {rej.where}: {rej.reason}", file=out)
        if report.rejects_total > 20:
            print(f"  … and {report.rejects_total - 20:,} more", file=out)


def print_sync(report: SyncReport, out: TextIO, *, idle: str = "") -> None:
    """One line per copy that moved; a line saying another sync does the work when busy;
    ``idle`` (if given) when nothing had to move."""
    if report.busy:
        print(f"Sync: {report.busy}; it brings the copies up to date", file=out)
        return
    if idle and not report.parts:
        print(f"{idle} (change {report.target})", file=out)
    for part in report.parts:
        moved = f"change {part.before or 0} → {part.after}"
        print(f"{part.name.capitalize()}: {part.detail} in {part.seconds:.1f} s ({moved})", file=out)


def open_out(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdout.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=6)  # type: ignore[return-value]
    return open(path, "wb")


class QuietPhases(SilentPhases):
    """No progress; only what a waiting command must say (what it waits for) reaches stderr."""

    def say(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


class LinePhases(QuietPhases):
    """Plain lines for logs: each phase once when it starts, and a count every ``every`` seconds."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream = stream
        self.every = every
        self.name = ""
        self.done = 0
        self.total: int | None = None
        self.last = time.monotonic()
        self.shown: set[str] = set()

    def phase(self, name: str, total: int | None = None) -> None:
        if name != self.name:
            if name not in self.shown:  # batches repeat their phases: each is named once
                print(f"{name} …", file=self.stream, flush=True)
                self.shown.add(name)
            self.name, self.done, self.total, self.last = name, 0, total, time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            of = f" of {self.total:,}" if self.total else ""
            print(f"… {self.name}: {self.done:,}{of}", file=self.stream, flush=True)

    def say(self, message: str) -> None:
        print(message, file=self.stream, flush=True)


class BarPhases(QuietPhases):
    """A tqdm bar per phase; a phase without steps (writing segments, committing) still shows
    its elapsed time, refreshed every second, so a long merge never looks frozen."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: Any = None
        self.name = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                if self.bar is not None:
                    self.bar.refresh()

    def phase(self, name: str, total: int | None = None) -> None:
        from tqdm import tqdm

        with self._lock:
            if name == self.name and self.bar is not None:
                return
            if self.bar is not None:
                self.bar.close()
            self.name = name
            self.bar = tqdm(total=total, desc=name, unit="doc", file=self.stream, dynamic_ncols=True, leave=False)

    def advance(self, n: int) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.update(n)

    def say(self, message: str) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.write(message, file=self.stream)
            else:
                print(message, file=self.stream, flush=True)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None


def phases_for(stream: TextIO = sys.stderr, *, quiet: bool = False) -> QuietPhases:
    if quiet:
        return QuietPhases()
    return BarPhases(stream) if stream.isatty() else LinePhases(stream)
