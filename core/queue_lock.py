"""The mailer lock: only one mailer sends from a queue at a time.

The lock is an operating-system lock on ``mailer.lock`` in the data folder:
``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows. The operating system
releases it when the holding process exits for any reason, SIGKILL included,
so a killed mailer never leaves a stale lock behind.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from . import store

LOCK_NAME = "mailer.lock"

log = logging.getLogger(__name__)

if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class QueueLock:
    """An exclusive, non-blocking lock that marks the one running mailer.

    ``path`` defaults to ``mailer.lock`` in the data folder. The lock belongs
    to this object: a second ``QueueLock`` on the same file, in this process
    or another, does not get it while the first holds it (POSIX ``flock``
    locks belong to the open file, not to the process). Use it as a context
    manager or call ``acquire`` and ``release``.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else store.data_dir() / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; return False when another holder has it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            locked = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            log.info("mailer lock %s is held by another process", self.path)
            return False

        # The process id in the file is for people looking at the folder; the
        # lock itself is the OS lock, never the file's content.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        log.info("mailer lock %s acquired by process %d", self.path, os.getpid())
        return True

    def release(self) -> None:
        """Give the lock up; does nothing when it is not held."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)
        log.info("mailer lock %s released", self.path)

    def __enter__(self) -> QueueLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
