"""One worker at a time on a thread of its own, for Test Email and Send now.

A worker is a ``QObject`` with a ``run`` slot and a ``done`` signal that it
emits last. The runner moves it to a new ``QThread``, starts it, and waits
for the thread to end before it lets go of it. Cancelling goes through the
dispatcher's ``CancelToken``, which shuts the socket down, because a flag
cannot interrupt a blocked read; ``QThread.terminate()`` is never used.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


class WorkerRunner(QObject):
    """Runner of one worker at a time, which waits for its thread before it goes away."""

    running_changed = Signal(bool)
    """True when a worker starts, False when its thread has finished."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        # The worker has no Qt parent, so this reference keeps it alive until its thread ends.
        self._worker: QObject | None = None
        self._cancel: Any = None

    @property
    def running(self) -> bool:
        """True from the start of a worker until its thread has finished."""
        return self._thread is not None

    @property
    def thread(self) -> QThread | None:
        """The thread of the running worker, or ``None``."""
        return self._thread

    def _launch(self, worker: QObject, cancel: Any, thread_name: str) -> None:
        """Run ``worker`` on a new thread; ``cancel`` is the ``CancelToken`` it watches."""
        from PySide6.QtCore import Qt

        thread = QThread()
        thread.setObjectName(thread_name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; a direct call ends the thread's event loop
        # even while the GUI thread is blocked in stop().
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker, self._cancel = thread, worker, cancel
        thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> bool:
        """Cancel the running worker; return False when none runs. It ends within a second."""
        if self._cancel is None or not self.running:
            return False
        self._cancel.cancel()
        return True

    def stop(self) -> None:
        """Cancel the running worker and block until its thread has finished."""
        thread = self._thread
        if thread is None:
            return
        self.cancel()
        thread.quit()
        thread.wait()
        self._release(thread)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._release(self.sender())

    def _release(self, thread: QObject | None) -> None:
        # A stale notice from a thread that stop() already released is ignored.
        if thread is None or thread is not self._thread:
            return
        # finished is emitted just before the thread ends; wait for the end itself.
        self._thread.wait()
        self._thread = self._worker = self._cancel = None
        thread.deleteLater()
        self.running_changed.emit(False)
