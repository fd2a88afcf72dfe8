"""A running server follows the archive, whichever process changed it.

Every half second a thread looks at the archive's change-log position (one indexed
query). When it moved, or an earlier look found copies behind, it asks whether the
index, the static feeds or the dumps are behind the archive; if they are and no sync
is running, it starts ``opennews sync --if-idle`` as a child process: the heavy work
runs outside the serving process (its own interpreter, so no request waits on the
GIL for it), and the home's sync lock makes sure that the command that changed the
archive and the server never bring the same copies up to date at once.

The server's in-memory answers do not wait for any of this: they follow the archive's
position directly (see ``Backend.state``).

Several machines may serve one PostgreSQL archive (``--database``), each node with its
own home: each node's follower watches the shared change log and syncs only its own
home (the sync lock is a file in that home), so a change made on any machine reaches
every node, and a node that was down finds its copies behind at its first look and
catches up. The look keeps one read-only connection open and asks one question of it
(``MAX(seq)`` of the log, an index's last entry), where it used to open the archive
three times per look (each a pooled connection checked and the schema looked up).
Measured (bench/nodes.py, 2 busy cores): 0.16 ms per look, and an idle node's
processes use 0.4 % of a core in all.
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

__all__ = ["INTERVAL", "Follower", "child_environment"]

log = logging.getLogger("opennews.web")

#: Seconds between looks at the change log.
INTERVAL = 0.5


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of the child sync: this one, with the archive this server reads
    (the database URLs, or none: the SQLite file of the home given on the command line)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENNEWS_DATABASE_URL", "OPENNEWS_DATABASE_READ_URL")}
    return env | settings.environment()


class Follower:
    def __init__(self, settings: Settings, *, interval: float = INTERVAL) -> None:
        self.home = Home(settings)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._seen = -1
        self._pending = True  # look once at start: a server may start on a lagging home
        self._archive: Archive | None = None  # the look's own connection, kept between looks

    def start(self) -> None:
        if os.environ.get("OPENNEWS_FOLLOW", "1") == "0":
            return
        self._thread = threading.Thread(target=self._run, name="opennews-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        child = self._child
        if child is not None and child.poll() is None:
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

    def _child_done(self) -> bool:
        child = self._child
        if child is None:
            return True
        if child.poll() is None:
            return False
        if child.returncode:
            err = child.stderr.read().decode(errors="replace").strip() if child.stderr else ""
            log.warning("sync exited with %s: %s", child.returncode, err[-500:])
        if child.stderr:
            child.stderr.close()
        self._child = None
        return True

    def check(self) -> bool:
        """One look; True if a sync was started."""
        if not self._child_done():
            return False
        seq = self.last_seq()
        if seq is None:
            return False
        if seq == self._seen and not self._pending:
            return False
        self._seen = seq
        if not self.home.behind():
            self._pending = False
            return False
        self._pending = True  # look again after this sync (or after the one holding the lock)
        if not self.home.sync_lock.try_acquire():
            return False
        self.home.sync_lock.release()
        command = [sys.executable, "-m", "opennews", "--home", str(self.home.settings.home), "sync", "--if-idle"]
        self._child = subprocess.Popen(
            [*command, "--quiet"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=child_environment(self.home.settings),
        )
        log.info("the archive moved to change %s; bringing the copies up to date (pid %s)", seq, self._child.pid)
        return True
