"""Commits message results to the queue from a thread of its own, off the SMTP path.

The mailer hands each message's result to a ``ResultWriter`` while it waits
for the server's reply to the next message's first command, and goes on
with that message's commands while the writer commits the result (one
transaction with an ``fsync``). Before it sends that message's data, the
mailer calls ``wait_committed`` (``mailer._deliver`` explains why).

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
    ``record`` raises, the thread stops and later items are not recorded.
    ``wait_committed`` then raises the exception, and ``error`` contains it
    once ``wait_committed`` or ``close`` has seen it. ``close`` waits for
    the items submitted before it and ends the thread. Call every method
    from one thread, the one that submits.
    """

    def __init__(self, open_queue: Callable[[], Queue], record: Callable[[Queue, Item], None]) -> None:
        self._open_queue = open_queue
        self._record = record
        # Two SimpleQueues, items in and one acknowledgement out per item:
        # the thread shares the interpreter lock with the SMTP session, and a
        # SimpleQueue hands an item over with less Python work than a Condition.
        self._items: SimpleQueue[tuple[bool, Item | None]] = SimpleQueue()
        self._acknowledgements: SimpleQueue[BaseException | None] = SimpleQueue()
        self._submitted = 0
        self._acknowledged = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="alertmail-result-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Item) -> None:
        """Hand ``item`` to the thread and return at once."""
        self._submitted += 1
        self._items.put((True, item))

    def wait_committed(self) -> None:
        """Wait until every item submitted so far is recorded; raise the thread's error if it stopped."""
        while self.error is None and self._acknowledged < self._submitted:
            failure = self._acknowledgements.get()
            if failure is not None:
                self.error = failure
            else:
                self._acknowledged += 1
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Wait for the items submitted so far and end the thread; ``error`` is ``None`` when all were recorded."""
        self._items.put((False, None))
        self._thread.join()
        while not self._acknowledgements.empty():
            failure = self._acknowledgements.get()
            if failure is not None and self.error is None:
                self.error = failure

    def _run(self) -> None:
        try:
            queue = self._open_queue()
        except BaseException as error:  # handed to the thread that waits
            self._acknowledgements.put(error)
            return
        try:
            while True:
                more, item = self._items.get()
                if not more:
                    return
                try:
                    self._record(queue, item)  # type: ignore[arg-type]
                except BaseException as error:  # handed to the thread that waits
                    self._acknowledgements.put(error)
                    return
                self._acknowledgements.put(None)
        finally:
            queue.close()
