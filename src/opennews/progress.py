"""Ingest progress for people: a bar on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .ingest.pipeline import IngestReport, InputReport, Progress

__all__ = ["BarProgress", "LineProgress", "progress_for"]


def _counts(report: IngestReport) -> str:
    return (
        f"added {report.total('added'):,} · updated {report.total('updated'):,} · "
        f"unchanged {report.total('unchanged'):,} · rejected {report.rejects_total:,}"
    )


class BarProgress(Progress):
    """A tqdm bar over the bytes of the inputs, with running counts."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar = None

    def start(self, total_bytes: int | None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, file=self.stream, dynamic_ncols=True)

    def input_started(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description(name[-40:], refresh=False)

    def advance(self, nbytes: int, report: IngestReport) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_counts(report), refresh=False)
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LineProgress(Progress):
    """One line per input, and a line every ``every`` seconds for long ones."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream = stream
        self.every = every
        self.last = time.monotonic()

    def input_started(self, name: str) -> None:
        self.last = time.monotonic()

    def advance(self, nbytes: int, report: IngestReport) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            print(f"… {_counts(report)}", file=self.stream, flush=True)

    def input_done(self, item: InputReport) -> None:
        detail = ", ".join(x for x in (item.format, item.compression, item.encoding) if x)
        print(
            f"read {item.name} ({detail}): {item.read:,} records, {item.rejected:,} rejected",
            file=self.stream,
            flush=True,
        )


def progress_for(stream: TextIO = sys.stderr, *, quiet: bool = False) -> Progress:
    if quiet:
        return Progress()
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
