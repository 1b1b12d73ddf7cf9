"""The durable message queue: an SQLite database in the data folder.

``alertmail send`` adds messages; the mailer claims them in batches, delivers
them and records each outcome; the dialog and ``alertmail queue`` list, retry
and delete them. Every state change is its own transaction, so a process
killed at any moment leaves each message either before or after the change,
never half-way. Several processes may open the queue at once; a writer waits
for another writer's transaction instead of failing.

A message moves through these states::

    queued --claim_batch--> sending --mark_sent--------> sent
       ^                       |----mark_failed------> failed
       |                       |----mark_deferred----> queued, or failed at max_attempts
       |                       |----mark_uncertain---> queued, or failed at max_attempts
       +--recover_interrupted--+  (a mailer killed while sending)
    failed --retry--> queued

One mailer at a time claims messages: it holds
``alertmail.core.queue_lock.QueueLock`` while it runs. ``alertmail send``
does not import that module.

Each ``Queue`` object owns one SQLite connection, which only the thread that
opened it may use, so each thread opens its own ``Queue``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from . import settings as declared
from .lazy_logging import get_logger
from .queue_records import (
    COLUMNS,
    STATES,
    MessageNotFoundError,
    QueueError,
    QueuedMessage,
    check_kind,
    check_recipients,
    check_sender,
    check_subject,
    describe_refused,
    new_message_id,
    now,
    recipients_from_settings,
    refused_json,
    sender_from_settings,
)
from .queue_schema import database_error, database_errors, database_path, open_database, transaction
from .settings import Settings

__all__ = ["Queue", "QueueError", "QueuedMessage", "MessageNotFoundError"]

DEFAULT_MAX_ATTEMPTS = declared.setting("mailer.max_attempts").default

log = get_logger(__name__)


class Queue:
    """The message queue in one SQLite database; a context manager that closes it.

    ``path`` defaults to ``queue.sqlite3`` in the data folder. ``max_attempts``
    is the number of tries without success after which ``mark_deferred`` and
    ``mark_uncertain`` park a message as failed (the ``mailer.max_attempts``
    setting). ``busy_timeout_s`` replaces the default wait for another
    process's write transaction; ``None`` keeps the default. Raises ``QueueError`` when the database
    cannot be opened, and when it was written by a newer alertmail. Every
    method that takes an id raises ``MessageNotFoundError`` when no message
    has it, for example one deleted from the command line while the mailer
    was sending it.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        busy_timeout_s: float | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else database_path()
        self.max_attempts = max_attempts
        self.busy_timeout_s = busy_timeout_s
        self._db = open_database(self.path)
        if busy_timeout_s is not None:
            # A shorter wait for another process's write transaction, for
            # callers such as the dialog that must not block for long.
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")

    def _transaction(self):
        return transaction(self._db)

    def _database_errors(self, action: str):
        return database_errors(self.path, action)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- adding and reading ---------------------------------------------------

    def add(self, kind: str, subject: str, body: str, settings: Settings) -> int:
        """Queue a message to the recipients of ``kind`` ("errors" or "reports"); return its id.

        The sender and recipients are taken from ``settings`` now and stored
        with the message, and a Message-ID is made. Raises ``SettingError``,
        and stores nothing, when the kind has no recipients (naming
        ``general.errors_to`` or ``general.reports_to``), when no From address
        is set, or when the subject is empty or contains a line break.

        Addresses are not checked again, because ``settings`` checked them
        when they were assigned. Those loaded with deferred address checks
        must contain an '@' here and get their full check in ``to_outgoing``.
        """
        check_kind(kind)
        check_subject(subject)
        if not isinstance(body, str):
            raise TypeError("the body must be text")
        sender, address = sender_from_settings(settings)
        recipients = recipients_from_settings(kind, settings)
        message_id = new_message_id(address)
        stamp = now()
        with self._database_errors("storing the message"), self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO messages (kind, sender, recipients, subject, body, message_id,"
                " queued_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, sender, json.dumps(recipients, ensure_ascii=False), subject, body,
                 message_id, stamp, stamp),
            )
            new_id = cursor.lastrowid
        log.info("message %d queued (%s, %s, %d recipients)", new_id, kind, message_id, len(recipients))
        return new_id

    def get(self, message_id: int) -> QueuedMessage:
        """Return the message with id ``message_id``, or raise ``MessageNotFoundError``."""
        with self._database_errors("reading it"):
            row = self._db.execute(f"SELECT {COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise MessageNotFoundError(message_id)
        return QueuedMessage.from_row(row)

    def list(self, states: Iterable[str] | None = None) -> list[QueuedMessage]:
        """Return the messages in ``states`` (every state when ``None``), oldest first."""
        query = f"SELECT {COLUMNS} FROM messages"
        parameters: tuple[str, ...] = ()
        if states is not None:
            parameters = tuple(_check_states(states))
            query += f" WHERE state IN ({', '.join('?' * len(parameters))})"
        with self._database_errors("reading it"):
            rows = self._db.execute(query + " ORDER BY id", parameters).fetchall()
        return [QueuedMessage.from_row(row) for row in rows]

    def count(self, state: str | None = None) -> int:
        """Return the number of messages in ``state``, or of all messages when ``None``."""
        with self._database_errors("reading it"):
            if state is None:
                return self._db.execute("SELECT count(*) FROM messages").fetchone()[0]
            _check_states([state])
            return self._db.execute("SELECT count(*) FROM messages WHERE state = ?", (state,)).fetchone()[0]

    # --- the mailer's side ------------------------------------------------------

    def claim_batch(self, limit: int | None = None) -> list[QueuedMessage]:
        """Mark up to ``limit`` queued messages "sending" in one transaction and return them.

        Messages with fewer attempts come first, then the oldest, so one
        message that keeps failing never holds up the others. Call it only
        while holding the ``QueueLock``.
        """
        query = f"SELECT {COLUMNS} FROM messages WHERE state = 'queued' ORDER BY attempts, id"
        parameters: tuple[int, ...] = ()
        if limit is not None:
            query += " LIMIT ?"
            parameters = (limit,)
        stamp = now()
        with self._database_errors("claiming messages"), self._transaction() as db:
            rows = db.execute(query, parameters).fetchall()
            ids = [(stamp, row[0]) for row in rows]
            db.executemany("UPDATE messages SET state = 'sending', updated_at = ? WHERE id = ?", ids)
        # The rows as they are now: state and updated_at replaced in the row,
        # which costs far less than NamedTuple._replace on each record.
        claimed = [QueuedMessage.from_row((*row[:7], "sending", *row[8:12], stamp, row[13])) for row in rows]
        if claimed:
            log.info("claimed %d messages for sending: %s", len(claimed), ", ".join(str(m.id) for m in claimed))
        return claimed

    def mark_sent(self, message_id: int, refused: dict | None = None) -> None:
        """Record that the server accepted the message (2xx to its data).

        ``refused`` maps recipients the server rejected while accepting the
        others to ``(code, text)``; they are stored and shown as the last error.
        """
        stamp = now()
        self._update(
            message_id,
            "state = 'sent', attempts = attempts + 1, last_error = ?, refused = ?, updated_at = ?, sent_at = ?",
            (describe_refused(refused), refused_json(refused), stamp, stamp),
        )
        log.debug("message %d sent", message_id)

    def mark_failed(self, message_id: int, error: str, refused: dict | None = None) -> None:
        """Park the message as failed with ``error`` (the server's reply); it stays until retried or deleted."""
        self._update(
            message_id,
            "state = 'failed', attempts = attempts + 1, last_error = ?, refused = ?, updated_at = ?",
            (error, refused_json(refused), now()),
        )
        log.warning("message %d failed: %s", message_id, error)

    def mark_deferred(self, message_id: int, error: str) -> str:
        """Count a try that got no 2xx (a 4xx reply, a lost connection) and queue the message again.

        When the attempts reach ``max_attempts`` the message is parked as
        failed instead. Returns the new state, "queued" or "failed".
        """
        return self._count_attempt(message_id, error, "deferred")

    def mark_uncertain(self, message_id: int, error: str) -> str:
        """Count a try whose outcome is unknown and queue the message to be sent again.

        The connection broke after the message data went out, so the server
        may have delivered it. Sending it again, with the same Message-ID,
        makes delivery at least once. Parks it as failed at ``max_attempts``
        like ``mark_deferred``; returns the new state.
        """
        return self._count_attempt(message_id, error, "uncertain")

    def _count_attempt(self, message_id: int, error: str, outcome: str) -> str:
        with self._database_errors("recording the attempt"), self._transaction() as db:
            row = db.execute("SELECT attempts FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise MessageNotFoundError(message_id)
            attempts = row[0] + 1
            state = "failed" if attempts >= self.max_attempts else "queued"
            last_error = error
            if state == "failed":
                last_error = f"gave up after {attempts} attempts: {error}"
            db.execute(
                "UPDATE messages SET state = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?",
                (state, attempts, last_error, now(), message_id),
            )
        if state == "failed":
            log.warning("message %d %s, parked as failed after %d attempts: %s", message_id, outcome, attempts, error)
        else:
            log.info("message %d %s (attempt %d of %d): %s", message_id, outcome, attempts, self.max_attempts, error)
        return state

    def release(self, message_id: int, reason: str) -> None:
        """Queue a claimed message again without counting an attempt.

        For a message that was never tried: no server could be used, or the
        session ended before its turn. ``reason`` becomes its last error.
        """
        self._update(
            message_id,
            "state = 'queued', last_error = ?, updated_at = ?",
            (reason, now()),
            allowed=("sending", "queued"),
            action="released",
        )
        log.info("message %d kept in the queue, not tried: %s", message_id, reason)

    def recover_interrupted(self) -> int:
        """Queue again the messages a killed mailer left "sending"; return how many.

        Their fate is unknown, so they are sent again (at least once). Call
        it when the mailer starts, after it has taken the ``QueueLock``, so
        no live mailer's messages are taken from it.
        """
        with self._database_errors("recovering interrupted messages"), self._transaction() as db:
            cursor = db.execute(
                "UPDATE messages SET state = 'queued', updated_at = ?,"
                " last_error = 'the mailer stopped while sending this message; it is sent again'"
                " WHERE state = 'sending'",
                (now(),),
            )
            recovered = cursor.rowcount
        if recovered:
            log.warning("%d messages left 'sending' by a stopped mailer are queued again", recovered)
        return recovered

    # --- the administrator's side ---------------------------------------------------

    def retry(self, message_id: int) -> None:
        """Queue a failed or queued message again with its attempts reset to 0.

        Raises ``QueueError`` for a message that is being sent or was sent.
        """
        self._update(
            message_id,
            "state = 'queued', attempts = 0, last_error = NULL, refused = '{}', updated_at = ?",
            (now(),),
            allowed=("queued", "failed"),
            action="retried",
        )
        log.info("message %d queued again by request, attempts reset", message_id)

    def delete(self, message_id: int) -> None:
        """Delete a message in any state, or raise ``MessageNotFoundError``."""
        with self._database_errors("deleting the message"), self._transaction() as db:
            if db.execute("DELETE FROM messages WHERE id = ?", (message_id,)).rowcount == 0:
                raise MessageNotFoundError(message_id)
        log.info("message %d deleted", message_id)

    def update_fields(
        self,
        message_id: int,
        *,
        to: str | list[str] | None = None,
        sender: str | None = None,
        subject: str | None = None,
    ) -> QueuedMessage:
        """Change the recipients, sender or subject of a queued or failed message.

        Values are validated as ``add`` validates them (``to`` as a recipients
        field or list, ``sender`` as ``Name <address>`` or an address) and
        ``SettingError`` leaves the message unchanged. The Message-ID is kept.
        Returns the updated message.
        """
        current = self.get(message_id)
        changes: dict[str, str] = {}
        if to is not None:
            changes["recipients"] = json.dumps(check_recipients(current.kind, to), ensure_ascii=False)
        if sender is not None:
            changes["sender"] = check_sender(sender)
        if subject is not None:
            changes["subject"] = check_subject(subject)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes) + ", updated_at = ?"
            self._update(
                message_id, assignments, (*changes.values(), now()),
                allowed=("queued", "failed"), action="edited",
            )
            log.info("message %d edited: %s", message_id, ", ".join(changes))
        return self.get(message_id)

    def _update(
        self,
        message_id: int,
        assignments: str,
        parameters: tuple,
        *,
        allowed: tuple[str, ...] | None = None,
        action: str = "updated",
    ) -> None:
        """Run one ``UPDATE`` of a message in its own transaction.

        With ``allowed``, a message in another state raises ``QueueError``.
        """
        if allowed is None:
            # Without a state to check, the UPDATE alone is the transaction:
            # the connection is in autocommit mode, so SQLite commits the one
            # statement atomically and syncs it as any other commit. This
            # spares the mailer three statements for each message's result.
            # try/except rather than database_errors(), because the mailer
            # records each result from a thread that shares the interpreter
            # lock with the SMTP session, and a generator-based context
            # manager adds Python work to every result.
            try:
                cursor = self._db.execute(
                    f"UPDATE messages SET {assignments} WHERE id = ?", (*parameters, message_id)
                )
            except (sqlite3.Error, OSError) as error:
                raise database_error(self.path, "updating the message", error) from error
            if cursor.rowcount == 0:
                raise MessageNotFoundError(message_id)
            return
        with self._database_errors("updating the message"), self._transaction() as db:
            row = db.execute("SELECT state FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise MessageNotFoundError(message_id)
            if row[0] not in allowed:
                raise QueueError(
                    f"message {message_id} is {row[0]} and cannot be {action}; "
                    f"only {' or '.join(allowed)} messages can"
                )
            db.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*parameters, message_id))


def _check_states(states: Iterable[str]) -> list[str]:
    checked = list(states)
    for state in checked:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: use one of {', '.join(STATES)}")
    return checked
