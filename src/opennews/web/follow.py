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
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading

from ..home import Home
from ..settings import Settings

__all__ = ["INTERVAL", "Follower"]

log = logging.getLogger("opennews.web")

#: Seconds between looks at the change log.
INTERVAL = 0.5


class Follower:
    def __init__(self, settings: Settings, *, interval: float = INTERVAL) -> None:
        self.home = Home(settings)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._seen = -1
        self._pending = True  # look once at start: a server may start on a lagging home

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

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a look that failed is retried at the next tick; serving goes on
                log.exception("following the archive failed")

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
        if not self._child_done() or not self.home.exists():
            return False
        with self.home.archive(readonly=True) as archive:
            seq = archive.last_seq()
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
            [*command, "--quiet"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        log.info("the archive moved to change %s; bringing the copies up to date (pid %s)", seq, self._child.pid)
        return True
