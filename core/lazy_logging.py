"""Module loggers that import ``logging`` only when they emit a record.

``alertmail send`` runs often and should start fast, and importing
``logging`` is a noticeable part of its start-up. A ``LazyLogger`` behaves
as ``logging.getLogger(name)`` does for every record that logging would
emit, but it imports ``logging`` only for such a record:

- Once ``logging`` is imported, by anyone, every call goes to the real logger.
- Before that, nothing can have configured a handler or a level, so logging's
  defaults apply: a record below WARNING is dropped and a WARNING or above
  goes to ``logging.lastResort`` on stderr. The lazy logger drops the former
  without importing ``logging`` and imports it for the latter.

A program that configures logging at start-up can postpone that too with
``defer_setup``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

# The values of logging.DEBUG, INFO, WARNING, ERROR, which this module
# cannot read without importing logging.
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40

_deferred_setup: Callable[[], None] | None = None
_deferred_level = WARNING


def defer_setup(setup: Callable[[], None], level: int) -> None:
    """Run ``setup`` before the first record at ``level`` or above, instead of now.

    ``setup`` must configure the loggers so that they drop every record
    below ``level``, because lazy loggers drop those records without
    running it. Records of loggers that are not lazy do not run it.
    """
    global _deferred_setup, _deferred_level
    _deferred_setup = setup
    _deferred_level = level


def _run_deferred_setup() -> None:
    global _deferred_setup
    setup, _deferred_setup = _deferred_setup, None
    if setup is not None:
        setup()


class LazyLogger:
    """A module logger that imports ``logging`` on its first record that logging would emit.

    It has the ``debug``, ``info``, ``warning``, ``error``, ``exception`` and
    ``isEnabledFor`` methods of ``logging.Logger``, with the same arguments.
    """

    __slots__ = ("name", "_logger")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: Any = None

    def _real_logger(self, level: int) -> Any:
        """Return the ``logging.Logger``, or ``None`` when a record at ``level`` is dropped anyway."""
        if self._logger is not None and _deferred_setup is None:
            return self._logger
        if _deferred_setup is not None:
            if level < _deferred_level:
                return None
            _run_deferred_setup()
        elif "logging" not in sys.modules and level < WARNING:
            return None
        import logging

        self._logger = logging.getLogger(self.name)
        return self._logger

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - the name of logging.Logger's method
        """True when a record at ``level`` would be emitted."""
        logger = self._real_logger(level)
        return logger is not None and logger.isEnabledFor(level)

    def _log(self, level: int, message: str, args: tuple, **options: Any) -> None:
        logger = self._real_logger(level)
        if logger is not None:
            # stacklevel 3 names the caller of debug(), info() and so on in
            # the record, as a plain logger would, instead of this module.
            logger.log(level, message, *args, stacklevel=3, **options)

    def debug(self, message: str, *args: Any, **options: Any) -> None:
        """Log ``message % args`` at DEBUG level."""
        self._log(DEBUG, message, args, **options)

    def info(self, message: str, *args: Any, **options: Any) -> None:
        """Log ``message % args`` at INFO level."""
        self._log(INFO, message, args, **options)

    def warning(self, message: str, *args: Any, **options: Any) -> None:
        """Log ``message % args`` at WARNING level."""
        self._log(WARNING, message, args, **options)

    def error(self, message: str, *args: Any, **options: Any) -> None:
        """Log ``message % args`` at ERROR level."""
        self._log(ERROR, message, args, **options)

    def exception(self, message: str, *args: Any, **options: Any) -> None:
        """Log ``message % args`` at ERROR level with the exception being handled."""
        options.setdefault("exc_info", True)
        self._log(ERROR, message, args, **options)


def get_logger(name: str) -> LazyLogger:
    """Return a lazy logger for ``name``, usually the module's ``__name__``."""
    return LazyLogger(name)
