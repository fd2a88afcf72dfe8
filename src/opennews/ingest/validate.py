"""Turning found records into articles, in parallel, skipping what is already known.

Parsing and cleaning cost more than writing, so batches of records are validated
in worker processes while the main process reads input and writes the archive.
Before that, each record's raw bytes are fingerprinted: when the archive has
already stored an article from exactly those bytes, the record is unchanged and
is neither parsed nor validated again, which makes re-ingesting a dump cheap.

The workers belong to the run: they ignore Ctrl-C (the parent decides how they
stop), are killed mid-batch when the run is interrupted, and die with the parent
when it is killed outright, so no stray validator outlives an ingest.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from ..archive import Row, to_row
from ..article import ValidationError, make_article
from .readers.jsondoc import parse_ndjson_line
from .records import Found, Reject, excerpt

__all__ = ["Checked", "Validator", "fingerprint", "validate_batch"]

#: Bump when cleaning or mapping changes, so old fingerprints stop matching.
PIPELINE_VERSION = b"opennews-1"


def fingerprint(found: Found, salt: bytes) -> bytes:
    """16 bytes that change whenever the record (or how we would read it) changes."""
    h = hashlib.blake2b(digest_size=16, person=PIPELINE_VERSION.ljust(16, b"\0")[:16])
    h.update(salt)
    h.update(b"\0")
    if found.raw is not None:
        h.update(found.raw)
    else:
        h.update(orjson.dumps(found.fields, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS))
    return h.digest()


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome for one record: an article, or a reject; plus an encoding note."""

    article: Row | None
    reject: Reject | None = None
    encoding: str | None = None


def validate_batch(
    items: Sequence[tuple[str, dict[str, Any] | None, bytes | None]], default_source: str | None, max_depth: int = 0
) -> list[Checked]:
    """Parse (if raw) and validate each record; module-level so workers can run it.

    Whatever goes wrong with one record (a ValueError from parsing, a ValidationError,
    or anything a shape nobody foresaw raises) is that record's reject: a batch never
    fails, so one hostile line cannot stop a run.
    """
    out: list[Checked] = []
    for where, fields, raw in items:
        note = None
        if fields is None:
            try:
                fields, note = parse_ndjson_line(raw or b"", max_depth)
            except ValueError as exc:
                out.append(Checked(None, Reject(where, str(exc), excerpt(raw or b""))))
                continue
            except Exception as exc:
                why = f"could not be read: {type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
                out.append(Checked(None, Reject(where, why, excerpt(raw or b""))))
                continue
        try:
            out.append(Checked(to_row(make_article(fields, default_source=default_source)), None, note))
        except Exception as exc:
            why = str(exc) if isinstance(exc, ValidationError) else f"could not be read: {type(exc).__name__}: {exc}"
            out.append(Checked(None, Reject(where, why[:300], _title_of(fields)), note))
    return out


def _title_of(fields: object) -> str:
    """The record's title for its reject, if one can be had: the record is hostile, so
    looking must not raise in turn."""
    try:
        title = dict.get(fields, "title") if isinstance(fields, dict) else None
        return str(title)[:160] if title else ""
    except Exception:
        return ""


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies; a no-op elsewhere.

    Without it a ``kill -9`` (or the OOM killer) on an ingest leaves its workers
    blocked forever on a queue nobody writes to. The signal follows the *thread*
    that forked the worker; the pool forks all its workers from the thread that
    first submits a batch, which is the thread running the ingest.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _worker_init(parent: int) -> None:
    """Set up a worker process: deaf to Ctrl-C, SIGTERM and SIGHUP, and dead as soon as
    its parent is.

    A terminal sends Ctrl-C (and SIGHUP when it closes) to the whole process group;
    if workers raised KeyboardInterrupt or died too, each would print a traceback
    and the pool would break under the parent while it is still stopping cleanly.
    """
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes now, even in the middle of a batch.

    ProcessPoolExecutor has no public way to stop a running task, so this reads
    two private attributes, here only: ``_processes`` (pid → Process) to kill and
    reap the workers, and the parent's copy of the result pipe's write end, which
    is closed once they are gone. A worker killed while sending a result leaves
    half a message in that pipe; with every write end closed the pool's manager
    thread reads end-of-file and winds down instead of waiting for the rest forever.
    """
    processes = list((pool._processes or {}).values())  # type: ignore[attr-defined]
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=1.0)
    if all(p.exitcode is not None for p in processes):
        results = pool._result_queue  # type: ignore[attr-defined]
        if results is not None:
            results._writer.close()


class Validator:
    """Runs :func:`validate_batch` inline or in a small process pool, in order."""

    def __init__(self, default_source: str | None, workers: int, *, max_depth: int = 0) -> None:
        self.default_source = default_source
        self.workers = workers
        self.max_depth = max_depth
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, items: list[tuple[str, dict[str, Any] | None, bytes | None]], *, big: bool
    ) -> Future[list[Checked]]:
        """Validate a batch. Small jobs run inline: a pool only pays off for streams."""
        if big and self.workers > 1 and self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
            )
        if self._pool is not None:
            return self._pool.submit(validate_batch, items, self.default_source, self.max_depth)
        done: Future[list[Checked]] = Future()
        done.set_result(validate_batch(items, self.default_source, self.max_depth))
        return done

    def close(self) -> None:
        """Shut the pool down once every submitted batch has been collected."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop at once: drop queued batches and kill the workers mid-batch.

        For Ctrl-C or an error, when nothing the workers return will be written;
        waiting for their running batches could take seconds with big batches.
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
