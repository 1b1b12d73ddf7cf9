"""What the running mailer is doing, for the dialog and the command line.

The mailer writes a small JSON file, ``mailer-status.json`` in the data
folder, whenever its state changes: its process id, the state ("starting",
"waiting", "sending", "idle", "disabled" or "stopped"), a sentence that gives
the reason, and the time. Whether a mailer runs at all is decided by the mailer
lock, not by this file, so a killed mailer's stale file is never believed.

A request to send now is a file, ``send-now``, in the same folder: the
dialog creates it, and the waiting mailer removes it and sends a batch.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import store

STATUS_NAME = "mailer-status.json"
SEND_NOW_NAME = "send-now"


class StatusFile:
    """The mailer's status file and send-now request, in the data folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else store.data_dir() / STATUS_NAME
        self.send_now_path = self.path.with_name(SEND_NOW_NAME)

    def write(self, state: str, message: str) -> None:
        """Record ``state`` and the sentence that explains it; errors are ignored.

        The status is informative only, so a full disk must not stop the mailer.
        """
        record = {"pid": os.getpid(), "state": state, "message": message, "time": time.time()}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(record), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass

    def read(self) -> dict | None:
        """Return the last recorded status, or ``None`` when there is none."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def request_send_now(self) -> None:
        """Ask the running mailer to send its next batch at once."""
        self.send_now_path.parent.mkdir(parents=True, exist_ok=True)
        self.send_now_path.touch()

    def take_send_now(self) -> bool:
        """Remove a pending send-now request; True when there was one."""
        try:
            self.send_now_path.unlink()
        except FileNotFoundError:
            return False
        except OSError:
            return False
        return True


def mailer_running(lock_path: Path | None = None) -> bool:
    """True when a mailer holds the mailer lock of the queue.

    Probes the lock without waiting. A mailer that starts while the probe
    holds the lock cannot take it and exits, so the probe neither creates,
    writes nor logs anything and holds the lock only between two system
    calls. A missing lock file means that no mailer ever ran.
    """
    from .queue_lock import LOCK_NAME, _try_lock, _unlock

    path = Path(lock_path) if lock_path is not None else store.data_dir() / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)
