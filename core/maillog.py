"""The rotating mail log in platformdirs' user log folder.

The mailer logs its start, stop, every batch and every error it catches to
the ``alertmail`` logger; this module attaches a rotating file to that logger.
With verbose logging the SMTP conversation is added from the
``alertmail.transcript`` logger, whose lines are redacted before they are
logged.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from . import store

LOG_NAME = "mail.log"
# Each file is rotated at 1 MiB and five old files are kept, so the log uses
# at most about 6 MiB however long the mailer runs.
MAX_BYTES = 1024 * 1024
BACKUP_COUNT = 5

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_path() -> Path:
    """Return the path of the current mail log file."""
    return store.log_dir() / LOG_NAME


class _TranscriptFilter(logging.Filter):
    """Let transcript lines through only when verbose logging is on."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("alertmail.transcript"):
            return self.verbose
        return True


class _ReopeningRotatingHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file that is opened again when someone deletes or moves it.

    The dialog's Delete log removes the file while the mailer runs; without
    this, the mailer would go on writing to the deleted file.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None and self._file_replaced():
            self.stream.close()
            self.stream = None  # FileHandler opens the file again on the next write
            _create_private(Path(self.baseFilename))
        super().emit(record)

    def _file_replaced(self) -> bool:
        try:
            on_disk = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        opened = os.fstat(self.stream.fileno())
        return (on_disk.st_dev, on_disk.st_ino) != (opened.st_dev, opened.st_ino)


def _create_private(path: Path) -> None:
    """Create ``path`` readable by its owner only, unless it exists."""
    # The log names servers, users and recipients.
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class MailLog:
    """A rotating log file attached to the ``alertmail`` logger while open."""

    def __init__(self, *, enabled: bool, verbose: bool, path: Path | None = None) -> None:
        self.path = path or log_path()
        self._handler: logging.Handler | None = None
        self._filter = _TranscriptFilter(verbose)
        if enabled:
            self.open()

    def open(self) -> None:
        """Start writing to the log file (creating its folder)."""
        if self._handler is not None:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(self.path)
        handler = _ReopeningRotatingHandler(
            self.path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.setLevel(logging.DEBUG)
        handler.addFilter(self._filter)
        logger = logging.getLogger("alertmail")
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.DEBUG:
            logger.setLevel(logging.DEBUG if self._filter.verbose else logging.INFO)
        self._handler = handler

    def configure(self, *, enabled: bool, verbose: bool) -> None:
        """Apply changed log settings without a restart."""
        self._filter.verbose = verbose
        if enabled:
            self.open()
            logging.getLogger("alertmail").setLevel(logging.DEBUG if verbose else logging.INFO)
        else:
            self.close()

    def close(self) -> None:
        """Stop writing to the log file."""
        if self._handler is None:
            return
        logging.getLogger("alertmail").removeHandler(self._handler)
        self._handler.close()
        self._handler = None


def delete_log(path: Path | None = None) -> list[Path]:
    """Delete the mail log and its rotated copies; return what was deleted."""
    path = path or log_path()
    deleted = []
    candidates = [path] + [path.with_name(f"{path.name}.{number}") for number in range(1, BACKUP_COUNT + 1)]
    for candidate in candidates:
        try:
            candidate.unlink()
        except FileNotFoundError:
            continue
        deleted.append(candidate)
    return deleted
