"""The thread that commits message results: order, waiting, and errors."""

from __future__ import annotations

import threading

import pytest

from alertmail.core.queue import Queue
from alertmail.core.queue_records import QueueError
from alertmail.core.result_writer import ResultWriter


def open_queue(path):
    return lambda: Queue(path)


def test_items_recorded_in_order(tmp_path):
    recorded: list[tuple[int, str]] = []
    threads: set[str] = set()

    def record(queue: Queue, item: int) -> None:
        threads.add(threading.current_thread().name)
        recorded.append((item, str(queue.path)))

    writer = ResultWriter(open_queue(tmp_path / "queue.sqlite3"), record)
    for item in range(5):
        writer.submit(item)
    writer.wait_committed()
    waited = list(recorded)
    writer.close()

    assert waited == [(item, str(tmp_path / "queue.sqlite3")) for item in range(5)]
    assert threads == {"alertmail-result-writer"}
    assert writer.error is None


def test_close_records_items_left(tmp_path):
    recorded: list[int] = []
    writer = ResultWriter(open_queue(tmp_path / "queue.sqlite3"), lambda queue, item: recorded.append(item))

    writer.submit(1)
    writer.submit(2)
    writer.close()

    assert recorded == [1, 2]


def test_record_error_raised_by_wait(tmp_path):
    recorded: list[int] = []

    def record(queue: Queue, item: int) -> None:
        if item == 2:
            raise QueueError("the disk is full")
        recorded.append(item)

    writer = ResultWriter(open_queue(tmp_path / "queue.sqlite3"), record)
    for item in range(1, 5):
        writer.submit(item)
    with pytest.raises(QueueError, match="the disk is full"):
        writer.wait_committed()
    writer.close()

    # Nothing after the failed item is recorded.
    assert recorded == [1]
    assert isinstance(writer.error, QueueError)


def test_open_error_raised_by_wait(tmp_path):
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where the queue's folder should be")
    writer = ResultWriter(open_queue(folder / "queue.sqlite3"), lambda queue, item: None)

    writer.submit(1)
    with pytest.raises(QueueError):
        writer.wait_committed()
    writer.close()

    assert isinstance(writer.error, QueueError)
