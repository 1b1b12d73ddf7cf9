"""Send now without a running mailer: one batch from a worker thread.

``SendNowWorker`` is a QObject moved to a ``QThread``. It reads the
settings file as the mailer does, opens its own ``Queue`` in that thread
(an SQLite connection belongs to the thread that opened it), takes the
``QueueLock`` for the batch, runs ``run_batch`` and reports the
``BatchReport`` in a signal. Cancelling goes through the
dispatcher's ``CancelToken``, which shuts the socket down, so a batch
blocked on the network ends within about a second.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from alertmail.core.errors import AlertmailError

from .worker_runner import WorkerRunner

log = logging.getLogger(__name__)

MAILER_RUNNING = "a mailer is running"
"""The ``failed`` payload when another process holds the mailer lock."""


class SendNowWorker(QObject):
    """Worker that sends the queued messages as one batch, in the runner's ``QThread``."""

    finished = Signal(object)
    """The ``BatchReport`` of the batch."""

    failed = Signal(str)
    """A sentence saying why no batch ran; ``MAILER_RUNNING`` when a mailer holds the lock."""

    done = Signal()
    """Emitted with no payload after ``finished`` or ``failed``; quits the thread."""

    def __init__(self, cancel: Any) -> None:
        super().__init__()
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        """Take the mailer lock, send one batch and report it."""
        try:
            self._run_locked()
        except AlertmailError as error:
            log.warning("send now failed: %s", error)
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001 - the thread must always report and end
            log.exception("send now failed unexpectedly")
            self.failed.emit(f"the batch stopped on an unexpected error: {type(error).__name__}: {error}")
        finally:
            self.done.emit()

    def _run_locked(self) -> None:
        from alertmail.core import store
        from alertmail.core.cli_mailer import usable_settings
        from alertmail.core.mailer import run_batch
        from alertmail.core.queue import Queue
        from alertmail.core.queue_lock import QueueLock
        from alertmail.core.secrets import read_password

        # The saved file, read as the mailer reads it: a server whose stored
        # values are invalid is not used with defaults in their place.
        loaded = store.load_settings(keep_aside=False)
        if loaded.unreadable:
            log.warning("send now: %s", loaded.problem)
            self.failed.emit(f"{loaded.problem} Nothing was sent.")
            return
        settings = usable_settings(loaded)
        if not settings["mailer.enabled"]:
            self.failed.emit("the mailer is stopped (mailer.enabled = false); nothing was sent")
            return
        lock = QueueLock()
        if not lock.acquire():
            self.failed.emit(MAILER_RUNNING)
            return
        try:
            with Queue(max_attempts=settings["mailer.max_attempts"]) as queue:
                log.info("send now: one batch from the dialog")
                report = run_batch(settings, queue, password_for=read_password, cancel=self._cancel)
        finally:
            lock.release()
        log.info("send now: %s", report.summary())
        self.finished.emit(report)


class SendNowRunner(WorkerRunner):
    """Runner of one Send now batch at a time, which waits for its thread before it goes away."""

    def start(self, connect) -> bool:
        """Start a batch with the saved settings; return False when one is already running.

        ``connect(worker)`` connects the worker's signals before the thread starts.
        """
        if self.running:
            return False
        from alertmail.core.dispatch import CancelToken

        cancel = CancelToken()
        worker = SendNowWorker(cancel)
        connect(worker)
        self._launch(worker, cancel, "sendNowThread")
        return True

    def stop(self) -> None:
        """Cancel the running batch and block until its thread has finished."""
        if self.running:
            log.info("send now cancelled")
        super().stop()
