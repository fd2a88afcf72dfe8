"""The ingest pipeline: inputs → readers → validation → archive, in batches.

Bad input never stops a run and is never silently dropped: every record that
can't be kept becomes a Reject (input, where, why) that is counted, shown at the
end, and appended to the rejects file next to the archive. Whatever a reader
raises (a RecursionError, a MemoryError, a bug meeting a shape nobody foresaw)
ends only that input, as a reject; the records read before it are kept. What
an input may make us do is bounded (:class:`~opennews.settings.IngestLimits`).

Ctrl-C, SIGTERM or SIGHUP (or any error) stops a run at once: the validator
workers are killed, the run is logged as interrupted (failed, for an error), and
every batch committed before stays. A batch being written when the signal comes
is finished first (milliseconds), so the archive, the rejects file and the run
log agree on every batch.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..archive import Archive, Row
from ..settings import IngestLimits
from .reading import is_record, read_all
from .records import Found, Reject
from .stopping import Stopped, interrupt_after, stop_on_signals
from .validate import Checked, Validator, fingerprint

__all__ = ["IngestOptions", "IngestReport", "InputReport", "Progress", "Run", "Stopped", "ingest"]


@dataclass
class IngestOptions:
    batch_size: int = 500
    limits: IngestLimits = field(default_factory=IngestLimits)
    default_source: str | None = None
    format: str | None = None  # force a reader instead of detecting
    workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))  # validating processes


@dataclass(eq=False)
class InputReport:
    name: str
    format: str | None = None
    encoding: str | None = None
    compression: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    read: int = 0  # records the readers found in this input, kept or rejected

    def counts(self) -> dict[str, object]:
        """The columns of this input's line in the run log."""
        return {k: v for k, v in self.__dict__.items() if k not in ("name", "read")}

    @property
    def accepted(self) -> int:
        return self.added + self.updated + self.unchanged


@dataclass
class IngestReport:
    run_id: int
    rejects_path: Path
    inputs: list[InputReport] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)  # the first few, for the summary
    rejects_total: int = 0

    def total(self, name: str) -> int:
        return sum(getattr(i, name) for i in self.inputs)

    @property
    def read_anything(self) -> bool:
        return any(i.accepted for i in self.inputs)


class Progress:
    """Told about progress; the CLI passes a terminal bar or plain lines."""

    def start(self, total_bytes: int | None) -> None: ...
    def input_started(self, name: str) -> None: ...
    def advance(self, nbytes: int, report: IngestReport) -> None: ...
    def input_done(self, item: InputReport) -> None: ...
    def close(self) -> None: ...


class Run:
    """One ingestion run: batches records into the archive and logs rejects.

    Readers feed it with :meth:`take`. Each full batch is fingerprinted (records
    the archive already holds byte for byte are counted unchanged at once), the
    rest is validated (in worker processes for big inputs) and written in one
    transaction together with that batch's rejects, so after a crash the archive
    and the rejects file agree on everything committed.

    End it with :meth:`finish`, or :meth:`abort` when the caller stops early; used
    as a context manager, an exception (Ctrl-C included) aborts it.
    """

    #: Rejects kept in :attr:`IngestReport.rejects` (every one goes to the rejects file): the
    #: first few for a summary; the write API answers with more of them (see web/writes.py).
    kept_rejects = 50

    def __init__(
        self,
        archive: Archive,
        *,
        rejects_path: Path,
        options: IngestOptions,
        command: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC).replace(microsecond=0),
    ) -> None:
        self.archive = archive
        self.options = options
        self.now = now
        # The rejects file first: a run logged as started is always ended (finish or abort).
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        self._rejects_file = open(rejects_path, "ab")  # noqa: SIM115 - closed in finish() or abort()
        try:
            self.report = IngestReport(archive.start_run(command), rejects_path)
        except BaseException:
            self._rejects_file.close()
            raise
        self._salt = "\0".join([options.default_source or "", options.format or ""]).encode()
        self._validator = Validator(options.default_source, options.workers, max_depth=options.limits.max_depth)
        self._pending: list[tuple[Found, InputReport]] = []
        self._inflight: deque[tuple[Future[list[Checked]], list[InputReport], list[bytes], list[Reject]]] = deque()
        self._rejects: list[Reject] = []  # found since the last write
        self._touched: list[InputReport] = []
        self._unwritten: dict[InputReport, int] = {}  # records queued or in flight, per input
        self._read_done: deque[InputReport] = deque()  # inputs read to the end, not yet settled
        self._ended = False

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:
            self.abort("interrupted" if issubclass(kind, KeyboardInterrupt) else "failed")

    def begin_input(self, name: str) -> InputReport:
        info = InputReport(name)
        self.report.inputs.append(info)
        self._touched.append(info)
        return info

    def reject(self, rej: Reject, owner: InputReport, into: list[Reject] | None = None) -> None:
        """Count a reject and queue it for the rejects file (with ``into``'s batch if given)."""
        owner.rejected += 1
        self.report.rejects_total += 1
        if len(self.report.rejects) < self.kept_rejects:
            self.report.rejects.append(rej)
        (self._rejects if into is None else into).append(rej)

    def end_input(self, owner: InputReport) -> None:
        """Note that ``owner`` has been read to the end (see :meth:`settled`)."""
        self._read_done.append(owner)

    def settled(self) -> list[InputReport]:
        """Inputs read to the end whose every record is now written or rejected, in order.

        Batches span inputs, so an input's last records may still be queued or
        in a worker when its reader is done; its counts are final only after that.
        """
        out: list[InputReport] = []
        while self._read_done and not self._unwritten.get(self._read_done[0]):
            out.append(self._read_done.popleft())
        return out

    def take(self, found: Found | Reject, owner: InputReport) -> bool:
        """Queue one record; True when a batch was written (for progress)."""
        if isinstance(found, Reject):
            if is_record(found):
                owner.read += 1
            self.reject(Reject(found.where, found.reason, found.excerpt, owner.name), owner)
            return False
        owner.read += 1
        self._unwritten[owner] = self._unwritten.get(owner, 0) + 1
        self._pending.append((found, owner))
        if len(self._pending) >= self.options.batch_size:
            return self._dispatch(big=True)
        return False

    def _dispatch(self, *, big: bool) -> bool:
        items, self._pending = self._pending, []
        digests = [fingerprint(found, self._salt) for found, _ in items]
        known = self.archive.known_fingerprints(digests)
        todo = [(f, o, d) for (f, o), d in zip(items, digests, strict=True) if d not in known]
        skipped = len(items) - len(todo)
        for (_, owner), d in zip(items, digests, strict=True):
            if d in known:
                owner.unchanged += 1
                self._unwritten[owner] -= 1
        if skipped:
            self.archive.count_unchanged(self.report.run_id, skipped)
        job = self._validator.submit([(f.where, f.fields, f.raw) for f, _, _ in todo], big=big)
        rejects, self._rejects = self._rejects, []
        self._inflight.append((job, [o for _, o, _ in todo], [d for _, _, d in todo], rejects))
        wrote = False
        while len(self._inflight) > (self.options.workers if big else 0):
            self._write(*self._inflight.popleft())
            wrote = True
        return wrote

    def _write(
        self, job: Future[list[Checked]], owners: list[InputReport], digests: list[bytes], rejects: list[Reject]
    ) -> None:
        checked_batch = job.result()  # waiting on a worker; Ctrl-C may stop it
        with interrupt_after():
            self._write_checked(checked_batch, owners, digests, rejects)

    def _write_checked(
        self, checked_batch: list[Checked], owners: list[InputReport], digests: list[bytes], rejects: list[Reject]
    ) -> None:
        articles: list[Row] = []
        kept_owners: list[InputReport] = []
        kept_digests: list[bytes] = []
        for checked, owner, digest in zip(checked_batch, owners, digests, strict=True):
            self._unwritten[owner] -= 1
            if checked.encoding and checked.encoding not in (owner.encoding or ""):
                owner.encoding = f"{owner.encoding or 'utf-8'}+{checked.encoding}"
            if checked.article is None:
                assert checked.reject is not None
                rej = checked.reject
                self.reject(Reject(rej.where, rej.reason, rej.excerpt, owner.name), owner, rejects)
                continue
            articles.append(checked.article)
            kept_owners.append(owner)
            kept_digests.append(digest)
        run_id = self.report.run_id
        result = self.archive.upsert_batch(articles, run_id=run_id, rejected=len(rejects), fingerprints=kept_digests)
        for article, owner, status in zip(articles, kept_owners, result.statuses, strict=True):
            if status == "withdrawn":
                why = "article was withdrawn from the archive; not added again"
                self.reject(Reject(f"id {article.id}", why, article.title[:160], owner.name), owner, rejects)
            else:
                setattr(owner, status, getattr(owner, status) + 1)
        when = self.now().isoformat()
        for rej in rejects:
            self._rejects_file.write(orjson.dumps({"run": run_id, "at": when, **rej.to_dict()}) + b"\n")
        self._rejects_file.flush()
        for touched in dict.fromkeys([*self._touched, *kept_owners]):
            self.archive.record_input(run_id, touched.name, **touched.counts())
        del self._touched[:-1]  # the input being read may still change

    def flush(self) -> None:
        """Write everything queued so far (called at the end, or between inputs)."""
        if self._pending or self._rejects or self._touched:
            self._dispatch(big=False)
        while self._inflight:
            self._write(*self._inflight.popleft())

    def finish(self) -> IngestReport:
        """Write what is left, shut the workers down and log the run as done."""
        try:
            self.flush()
            self._validator.close()
        except BaseException as exc:
            self.abort("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            raise
        self._rejects_file.close()
        report = self.report
        self.archive.finish_run(
            report.run_id, "done" if report.read_anything or not report.rejects_total else "nothing-read"
        )
        self._ended = True
        return report

    def abort(self, status: str = "interrupted") -> None:
        """Stop now, after Ctrl-C or an error: what was committed stays, the rest is dropped.

        The workers are killed rather than waited for, the rejects file is closed
        with every line of the committed batches, and the run is logged with
        ``status`` ("interrupted", or "failed" after an error). Safe to call more
        than once, and after :meth:`finish`.
        """
        if self._ended:
            return
        self._ended = True
        self._pending.clear()
        self._inflight.clear()
        try:
            self._validator.abort()
        finally:
            try:
                with suppress(OSError):  # a full disk: the reason we stop, raised already
                    self._rejects_file.close()
            finally:
                # If the log cannot be updated, the reason we stopped matters more; the
                # run then stays "running" in the log, as after a kill -9.
                with suppress(Exception):
                    self.archive.finish_run(self.report.run_id, status)


def ingest(
    archive: Archive,
    paths: list[str],
    *,
    rejects_path: Path,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
    command: str = "ingest",
) -> IngestReport:
    """Read every input into the archive; returns what happened, input by input."""
    options = options or IngestOptions()
    progress = progress or Progress()
    run = Run(archive, rejects_path=rejects_path, options=options, command=f"{command} {' '.join(paths)}")
    try:
        with stop_on_signals(), run:
            read_all(run, paths, progress)
            report = run.finish()
            for item in run.settled():
                progress.input_done(item)
    finally:
        progress.close()
    return report
