"""The queue database file: its location, connection settings, schema and migrations.

The database uses WAL mode, so readers do not block a writer and a commit
appends to the write-ahead log instead of rewriting pages. Every change runs
in its own ``BEGIN IMMEDIATE`` transaction. A connection waits up to
``BUSY_TIMEOUT_S`` for another process's transaction instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from . import store
from .lazy_logging import get_logger
from .queue_records import QueueError

DATABASE_NAME = "queue.sqlite3"
SCHEMA_VERSION = 1
# Seconds a connection waits for another process's write transaction before
# it gives up with "database is locked".
BUSY_TIMEOUT_S = 30.0
# First pause between tries of the switch to WAL mode; it doubles up to the maximum.
WAL_RETRY_FIRST_S = 0.001
WAL_RETRY_MAX_S = 0.05

log = get_logger(__name__)

_SCHEMA_V1 = (
    """
CREATE TABLE messages (
    -- AUTOINCREMENT: an id printed by 'alertmail send' never names another message later.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('errors', 'reports')),
    sender      TEXT    NOT NULL,
    recipients  TEXT    NOT NULL,              -- JSON list of mailboxes
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,              -- as given; CRLF is made on the wire
    message_id  TEXT    NOT NULL UNIQUE,       -- kept on every resend
    state       TEXT    NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    refused     TEXT    NOT NULL DEFAULT '{}', -- JSON {address: [code, text]}
    queued_at   TEXT    NOT NULL,              -- UTC, ISO 8601
    updated_at  TEXT    NOT NULL,
    sent_at     TEXT
)
""",
    "CREATE INDEX messages_by_state ON messages (state, attempts, id)",
)

# The statements of each step move the database from the version before it
# to the step's version.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: _SCHEMA_V1}


def database_path() -> Path:
    """Return the path of the queue database in the data folder."""
    return store.data_dir() / DATABASE_NAME


def database_error(path: Path, action: str, error: BaseException) -> QueueError:
    """Return the ``QueueError`` for an SQLite or file ``error`` while doing ``action``."""
    return QueueError(f"the queue {path} failed while {action}: {error}")


@contextlib.contextmanager
def database_errors(path: Path, action: str) -> Iterator[None]:
    """Turn an SQLite or file error raised in the block into ``QueueError``.

    ``action`` names what was being done, as in "storing the message".
    """
    try:
        yield
    except (sqlite3.Error, OSError) as error:
        raise database_error(path, action, error) from error


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one write transaction; roll it back when the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _create_private_file(path: Path) -> None:
    """Create an empty database file that only its owner can read (POSIX).

    SQLite gives its -wal and -shm files the permissions of the database file.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def open_database(path: Path) -> sqlite3.Connection:
    """Open the database at ``path``, creating it or moving its schema forward.

    Raises ``QueueError`` when it cannot be opened or was written by a newer
    alertmail.
    """
    with database_errors(path, "opening it"):
        _create_private_file(path)
        # isolation_level=None: no implicit transactions, because every
        # change opens its own with BEGIN IMMEDIATE.
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        with database_errors(path, "opening it"):
            _configure(db)
            migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _configure(db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    mode = _switch_to_wal(db)
    if mode.lower() != "wal":
        raise sqlite3.OperationalError(f"the database cannot use WAL mode (it stays in {mode} mode)")
    # FULL syncs the write-ahead log at every commit. NORMAL would already
    # survive a killed process, but a commit could then be lost to a power
    # cut or an OS crash after 'alertmail send' printed its id. One fsync per
    # commit costs little next to starting the process.
    db.execute("PRAGMA synchronous = FULL")


def _switch_to_wal(db: sqlite3.Connection) -> str:
    """Set WAL journal mode and return the mode the database is in afterwards.

    SQLite does not call the busy handler for this switch: while another
    connection is creating the same new database, the pragma fails at once
    with "database is locked" (SQLITE_BUSY). It is tried again, with growing
    pauses, until ``BUSY_TIMEOUT_S`` has passed.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = WAL_RETRY_FIRST_S
    while True:
        try:
            return db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, WAL_RETRY_MAX_S)


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to ``SCHEMA_VERSION``, every step in one transaction.

    The version is ``PRAGMA user_version``; 0 is a new, empty database.
    """
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    with transaction(db):
        # Read it again under the write lock, because another process may have
        # migrated between the check above and BEGIN IMMEDIATE.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise QueueError(
                f"the queue {path} was written by a newer alertmail (schema {version}, "
                f"this version reads up to {SCHEMA_VERSION}); upgrade alertmail"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step}")
            log.info("queue %s moved to schema version %d", path, step)
