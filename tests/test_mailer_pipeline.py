"""The mailer commits each result while the next message's commands go out, never after its data."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest
from delivery_helpers import make_settings, server_fields
from mailer_support import header

from alertmail.core.mailer import run_batch
from alertmail.core.queue import Queue
from alertmail.core.queue_records import QueueError

pytestmark = pytest.mark.network

MESSAGES = 12
# How long the test holds the queue's write lock after the server accepted a
# message: far longer than the next message's MAIL, RCPT and DATA commands
# take on loopback, so a mailer that did not wait for its commit would send
# the next message's data while the lock is held.
HOLD_S = 0.05


def no_password(server: str) -> str:
    raise AssertionError(f"the test servers need no login, yet the {server} password was read")


class QueueWatch:
    """Reads the queue from the SMTP server's handler, and holds its write lock on request."""

    def __init__(self, path) -> None:
        self.path = path
        self.accepted: list[str] = []
        self.uncommitted_at_data: list[list[str]] = []
        self._holders: list[threading.Thread] = []
        self._locks: list[sqlite3.Connection] = []

    def check_committed(self) -> None:
        """Record which messages accepted earlier are not committed as sent yet."""
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            states = dict(reader.execute("SELECT message_id, state FROM messages").fetchall())
        finally:
            reader.close()
        self.uncommitted_at_data.append([mid for mid in self.accepted if states[mid] != "sent"])

    def hold_write_lock(self, seconds: float | None) -> None:
        """Take the queue's write lock; release it after ``seconds``, or at ``release`` when None."""
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("BEGIN IMMEDIATE")
        self._locks.append(connection)
        if seconds is not None:
            holder = threading.Timer(seconds, self._unlock, (connection,))
            holder.start()
            self._holders.append(holder)

    def _unlock(self, connection: sqlite3.Connection) -> None:
        connection.execute("ROLLBACK")
        connection.close()

    def release(self) -> None:
        """Wait for the timed locks and release the others."""
        for holder in self._holders:
            holder.join(timeout=30)
        assert not any(holder.is_alive() for holder in self._holders)
        for connection in self._locks:
            try:
                connection.execute("ROLLBACK")
                connection.close()
            except sqlite3.ProgrammingError:
                pass  # already released by its timer


def watch_data(server, watch: QueueWatch, on_accept) -> None:
    """Make ``server`` check the queue at each message's data, then call ``on_accept(number)``."""
    original = server.handler.handle_DATA

    async def handle_data(smtp, session, envelope):  # noqa: ANN001 - aiosmtpd's hook
        watch.check_committed()
        reply = await original(smtp, session, envelope)
        watch.accepted.append(header(envelope.original_content, "Message-ID"))
        on_accept(len(watch.accepted))
        return reply

    server.handler.handle_DATA = handle_data


def test_result_committed_before_next_data(smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="alertmail.core.dispatch")
    server = smtp_server()
    settings = make_settings(primary=server_fields(server))
    with Queue() as queue:
        ids = [queue.add("errors", f"alert {number}", "body\n", settings) for number in range(MESSAGES)]
        watch = QueueWatch(queue.path)
        # Each commit waits HOLD_S for the lock, so only the mailer's wait
        # before the next message's data keeps that message from going out.
        watch_data(server, watch, lambda number: watch.hold_write_lock(HOLD_S))
        try:
            report = run_batch(settings, queue, password_for=no_password)
        finally:
            watch.release()
        states = [queue.get(message_id).state for message_id in ids]

    assert report.sent == ids
    assert states == ["sent"] * MESSAGES
    assert len(server.received) == MESSAGES
    assert watch.uncommitted_at_data == [[]] * MESSAGES
    logged = [record.getMessage() for record in caplog.records if record.name == "alertmail.core.dispatch"]
    for message_id in watch.accepted:
        assert f"message {message_id} (errors) through the primary server: delivered to 1 recipient" in logged


def test_failed_commit_stops_next_data(smtp_server):
    server = smtp_server()
    settings = make_settings(primary=server_fields(server))
    with Queue(busy_timeout_s=0.2) as queue:
        ids = [queue.add("errors", f"alert {number}", "body\n", settings) for number in range(6)]
        watch = QueueWatch(queue.path)
        # Once the third message is accepted, its commit finds the queue
        # locked past the busy timeout and fails.
        watch_data(server, watch, lambda number: watch.hold_write_lock(None) if number == 3 else None)
        try:
            with pytest.raises(QueueError, match="database is locked"):
                run_batch(settings, queue, password_for=no_password)
        finally:
            watch.release()
        states = [queue.get(message_id).state for message_id in ids]

        assert len(server.received) == 3
        assert watch.uncommitted_at_data == [[], [], []]
        assert states[:2] == ["sent", "sent"]
        # The third was accepted but not committed, so it is sent again.
        assert states[2] == "sending"
        assert queue.recover_interrupted() == 4
        second = run_batch(settings, queue, password_for=no_password)

    assert second.sent == ids[2:]
    received = [header(message.content, "Message-ID") for message in server.received]
    assert len(received) == 7
    assert len(set(received)) == 6
