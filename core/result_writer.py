"""Commits message results to the queue from a thread of its own, off the SMTP path.

The mailer hands each message's result to a ``ResultWriter`` while it waits
for the server's reply to the next message's first command, and goes on
with that message's commands while the writer commits the result (one
transaction with an ``fsync``). Before it sends that message's data, the
mailer calls ``wait_committed``. See ``mailer.run_batch`` for why.

The writer opens its own ``Queue``, because an SQLite connection serves
only the thread that opened it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Generic, TypeVar

from .queue import Queue

Item = TypeVar("Item")


class ResultWriter(Generic[Item]):
    """A thread that passes each submitted item, in order, to ``record`` with its own ``Queue``.

    ``open_queue`` is called in the thread to open that queue. When it or
    ``record`` raises, the thread stops: ``error`` contains the exception,
    ``wait_committed`` raises it, and later items are not recorded.
    ``close`` waits for the items submitted before it and ends the thread.
    """

    def __init__(self, open_queue: Callable[[], Queue], record: Callable[[Queue, Item], None]) -> None:
        self._open_queue = open_queue
        self._record = record
        # SimpleQueue, because it hands an item over with less work than a
        # Condition, and the mailer submits one item per message.
        self._items: SimpleQueue[tuple[bool, Item | None]] = SimpleQueue()
        self._condition = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._waiting = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="alertmail-result-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> None:
        """Hand ``item`` to the thread and return at once."""
        self._submitted += 1
        self._items.put((True, item))

    def wait_committed(self) -> None:
        """Wait until every item submitted so far is recorded; raise the thread's error if it stopped."""
        target = self._submitted
        with self._condition:
            self._waiting = True
            try:
                while self._done < target and self.error is None:
                    self._condition.wait()
            finally:
                self._waiting = False
            if self.error is not None:
                raise self.error

    def close(self) -> None:
        """Wait for the items submitted so far and end the thread; ``error`` is ``None`` when all were recorded."""
        self._items.put((False, None))
        self._thread.join()

    def _stop(self, error: BaseException) -> None:
        with self._condition:
            self.error = error
            self._condition.notify_all()

    def _run(self) -> None:
        try:
            queue = self._open_queue()
        except BaseException as error:  # handed to the thread that waits
            self._stop(error)
            return
        try:
            while True:
                more, item = self._items.get()
                if not more:
                    return
                try:
                    self._record(queue, item)  # type: ignore[arg-type]
                except BaseException as error:  # handed to the thread that waits
                    self._stop(error)
                    return
                with self._condition:
                    self._done += 1
                    if self._waiting:
                        self._condition.notify_all()
        finally:
            queue.close()
