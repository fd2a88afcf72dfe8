"""A running server follows the archive, whichever process changed it.

Every half second a thread looks at the archive's change-log position (one indexed
query). When it moved, or an earlier look found copies behind, it asks whether the
index, the static feeds or the dumps are behind the archive; for each that is and has
no sync running, it starts ``opennews sync index feeds --if-idle`` or ``opennews sync
dumps --if-idle`` as a child process: the heavy work runs outside the serving process
(its own interpreter, so no request waits on the GIL for it), and the home's two locks
make sure that the command that changed the archive and the server never bring the same
copies up to date at once. Two children, because the dumps take longest and grow with
the archive (the snapshot is rewritten; 1.4 s of a change's 1.8 s of work at 1,000
articles in bench/nodes.py): a new article reaches the index while they are written.

The server's in-memory answers do not wait for any of this: they follow the archive's
position directly (see ``Backend.state``).

Several machines may serve one PostgreSQL archive (``--database``), each node with its
own home: each node's follower watches the shared change log and syncs only its own
home (the sync lock is a file in that home), so a change made on any machine reaches
every node, and a node that was down finds its copies behind at its first look and
catches up. The look keeps one read-only connection open and asks one question of it
(``MAX(seq)`` of the log, an index's last entry), where it used to open the archive
three times per look (each a pooled connection checked and the schema looked up).
Measured (bench/nodes.py, 2 busy cores): 0.13 ms per look, and an idle node's
processes use 0.5 % of a core in all.
LISTEN/NOTIFY would save those two queries a second but not work against a read
replica (a standby cannot LISTEN), need a connection held per node all the same, and
miss what was sent while a node was down; the poll has none of those gaps. The child
sync is given the database URL in its environment (not on its command line, where
``ps`` would show a password).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading

from ..archive import Archive
from ..home import Home
from ..settings import Settings

__all__ = ["INTERVAL", "Follower", "child_environment", "enabled"]

log = logging.getLogger("opennews.web")

#: Seconds between looks at the change log.
INTERVAL = 0.5
#: The copies each child sync brings up to date, by the lock of the home it takes (see Home.sync).
GROUPS = {"index and feeds": ("index", "feeds"), "dumps": ("dumps",)}


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of the child sync: this one, with the archive this server reads
    (the database URLs, or none: the SQLite file of the home given on the command line)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENNEWS_DATABASE_URL", "OPENNEWS_DATABASE_READ_URL")}
    return env | settings.environment()


def enabled() -> bool:
    """Whether a server follows the archive (``OPENNEWS_FOLLOW``, on unless "0": off for a
    home the server must not write, as the benchmarks that sync and time it themselves)."""
    return os.environ.get("OPENNEWS_FOLLOW", "1") != "0"


class Follower:
    def __init__(self, settings: Settings, *, interval: float = INTERVAL) -> None:
        self.home = Home(settings)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One child per lock of the home: the index and feeds, and the dumps (see Home.sync).
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._seen = -1
        self._pending = True  # look once at start: a server may start on a lagging home
        self._archive: Archive | None = None  # the look's own connection, kept between looks

    def start(self) -> None:
        if not enabled():
            return
        self._thread = threading.Thread(target=self._run, name="opennews-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for child in self._children.values():
            if child.poll() is None:
                child.terminate()  # its batches are committed; the next sync finishes the job
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=5)
        self._forget_archive()

    def _forget_archive(self) -> None:
        archive, self._archive = self._archive, None
        if archive is not None:
            with contextlib.suppress(Exception):
                archive.close()

    def last_seq(self) -> int | None:
        """The change log's position (None: no archive yet), on the connection kept open;
        a connection that broke (a server restarted, a network cut) is dropped and the
        next look opens a new one."""
        if self._archive is None:
            if not self.home.exists():
                return None
            self._archive = self.home.archive(readonly=True)
        try:
            return self._archive.last_seq()
        except Exception:
            self._forget_archive()
            raise

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a look that failed is retried at the next tick; serving goes on
                log.exception("following the archive failed")
        self._forget_archive()

    def _running(self, group: str) -> bool:
        """Whether the child syncing ``group`` is still at work (a finished one is reaped)."""
        child = self._children.get(group)
        if child is None:
            return False
        if child.poll() is None:
            return True
        if child.returncode:
            err = child.stderr.read().decode(errors="replace").strip() if child.stderr else ""
            log.warning("sync of the %s exited with %s: %s", group, child.returncode, err[-500:])
        if child.stderr:
            child.stderr.close()
        del self._children[group]
        return False

    def check(self) -> bool:
        """One look; True if a sync was started."""
        seq = self.last_seq()
        if seq is None:
            return False
        running = [group for group in list(self._children) if self._running(group)]
        if seq == self._seen and not self._pending:
            return False
        self._seen = seq
        positions = self.home.positions()
        archive = positions.pop("archive")
        if archive is None:
            return False
        behind = [
            group
            for group, parts in GROUPS.items()
            if any(positions[part] is None or positions[part] < archive for part in parts)  # type: ignore[operator]
        ]
        self._pending = bool(behind)  # look again after these syncs (or after the ones holding the locks)
        started = False
        for group in behind:
            lock = self.home.sync_lock if group == "index and feeds" else self.home.dumps_lock
            if group in running or not lock.try_acquire():
                continue
            lock.release()
            command = [sys.executable, "-m", "opennews", "--home", str(self.home.settings.home), "sync"]
            self._children[group] = subprocess.Popen(
                [*command, *GROUPS[group], "--if-idle", "--quiet"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=child_environment(self.home.settings),
            )
            pid = self._children[group].pid
            log.info("the archive moved to change %s; bringing the %s up to date (pid %s)", seq, group, pid)
            started = True
        return started
