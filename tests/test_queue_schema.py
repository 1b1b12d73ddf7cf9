"""Opening the queue database file: several connections creating the same new queue at once."""

from __future__ import annotations

import sqlite3
import threading

from alertmail.core.queue_records import QueueError
from alertmail.core.queue_schema import SCHEMA_VERSION, open_database

# Without a retry of the switch to WAL mode, 5 to 8 rounds in 100 failed
# with "database is locked" (measured on a 2-core machine), so 150 rounds
# fail almost surely when the retry is missing.
ROUNDS = 150
OPENERS = 3
JOIN_TIMEOUT_S = 60


def open_at_once(path, count: int) -> list[object]:
    """Open ``path`` from ``count`` threads released together; return each outcome.

    An outcome is the journal mode and schema version seen by that
    connection, or the error it raised.
    """
    barrier = threading.Barrier(count)
    outcomes: list[object] = []

    def open_one() -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_S)
            db = open_database(path)
            try:
                mode = db.execute("PRAGMA journal_mode").fetchone()[0]
                version = db.execute("PRAGMA user_version").fetchone()[0]
            finally:
                db.close()
            outcomes.append((mode, version))
        except (QueueError, sqlite3.Error, threading.BrokenBarrierError) as error:
            outcomes.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_concurrent_creation_never_locked(tmp_path):
    failures = []
    for round_number in range(ROUNDS):
        path = tmp_path / f"queue-{round_number}.sqlite3"
        outcomes = open_at_once(path, OPENERS)
        assert len(outcomes) == OPENERS
        failures.extend(outcome for outcome in outcomes if isinstance(outcome, Exception))
        assert all(outcome == ("wal", SCHEMA_VERSION) for outcome in outcomes
                   if not isinstance(outcome, Exception)), outcomes

    assert failures == []


def test_existing_queue_opens_again(tmp_path):
    path = tmp_path / "queue.sqlite3"
    open_database(path).close()

    outcomes = open_at_once(path, OPENERS)

    assert outcomes == [("wal", SCHEMA_VERSION)] * OPENERS
