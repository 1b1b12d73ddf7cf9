"""Test Email: sends the two test messages from a worker thread.

``TestEmailWorker`` is a QObject moved to a ``QThread``; the thread's
``started`` signal runs it and its ``done`` signal quits the thread. Results
and errors travel in signal payloads. A blocked socket read cannot be
interrupted by a flag, so cancelling goes through the dispatcher's
``CancelToken``, which shuts the socket down.

The dispatcher modules (SMTP, TLS, keyring) are imported inside the worker
when a test starts, never when the dialog opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from alertmail.core.errors import AlertmailError, SettingError
from alertmail.core.settings import Settings, setting

from .worker_runner import WorkerRunner

log = logging.getLogger(__name__)

class TestEmailWorker(QObject):
    """Worker that sends the test messages of one server, in the test's ``QThread``."""

    __test__ = False  # pytest must not collect this product class as a test case

    line = Signal(str)
    """One line of the SMTP conversation, credentials already redacted."""

    finished = Signal(object)
    """The ``DeliveryReport`` of the test, emitted when the session ended."""

    failed = Signal(str)
    """A sentence saying why the test could not run (for example, no From address)."""

    done = Signal()
    """Emitted with no payload after ``finished`` or ``failed``; quits the thread."""

    def __init__(self, settings: Settings, server: str, unsaved: Mapping[str, str], cancel: Any) -> None:
        """Prepare a test of ``server``.

        ``unsaved`` maps keyring entries to secrets typed or loaded but not
        saved, and to ``""`` for one that is to be removed.
        """
        super().__init__()
        self._settings = settings
        self._server = server
        self._unsaved = dict(unsaved)
        self._cancel = cancel

    def _password_for(self, entry: str) -> str:
        """Return the secret of keyring entry ``entry``, the unsaved one when there is one, else the stored one.

        ``entry`` is the server name for a password, and a name from
        ``oauth_config.secret_entry`` for an OAuth 2.0 secret.
        """
        noun = None
        if self._settings[f"{self._server}.auth"] == "oauth2":
            from alertmail.core.oauth_config import secret_noun

            noun = secret_noun(self._settings[f"{self._server}.oauth_provider"])
        if entry in self._unsaved:
            if self._unsaved[entry]:
                return self._unsaved[entry]
            from alertmail.core.errors import PasswordReadError

            raise PasswordReadError(
                f"the {noun or 'password'} of the {self._server} server is to be removed when you "
                "press OK or Apply, so the test has none"
            )
        from alertmail.core.secrets import read_password

        return read_password(entry)

    @Slot()
    def run(self) -> None:
        """Build the test messages, deliver them through the server, and report."""
        try:
            from alertmail.core.failover import deliver
            from alertmail.core.messages import build_test_messages
            from alertmail.core.transcript import Transcript

            messages = build_test_messages(self._settings, self._server)
            report = deliver(
                self._settings,
                messages,
                choice=self._server,
                password_for=self._password_for,
                transcript=Transcript(on_line=self.line.emit),
                cancel=self._cancel,
            )
        except SettingError as error:
            log.info("test e-mail through the %s server not started: %s", self._server, error)
            self.failed.emit(f"{setting(error.key).plain_label}: {error.reason}")
        except AlertmailError as error:
            log.warning("test e-mail through the %s server failed: %s", self._server, error)
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001 - the thread must always report and end
            log.exception("test e-mail through the %s server failed unexpectedly", self._server)
            self.failed.emit(f"the test stopped on an unexpected error: {type(error).__name__}: {error}")
        else:
            self.finished.emit(report)
        finally:
            self.done.emit()


def describe_report(report: Any) -> list[str]:
    """Return one plain line per test message, then how the session ended if it failed.

    A message that got a result reads like "Errors: delivered to 2
    recipients". When no session opened, the one line names the failed
    step and the server's reply.
    """
    from alertmail.core.errors import DeliveryCancelled

    lines = [f"{_kind_title(result.kind)}: {result.summary()}" for result in report.results]
    error = report.error
    if isinstance(error, DeliveryCancelled):
        lines.append("Test cancelled.")
    elif error is not None:
        prefix = "Session ended" if report.results else "Not sent"
        lines.append(f"{prefix}: {error.describe()}")
    if not lines:
        lines.append("Nothing was sent.")
    return lines


def _kind_title(kind: str) -> str:
    from alertmail.core.messages import RECIPIENT_KEYS

    key = RECIPIENT_KEYS.get(kind)
    return setting(key).plain_label if key else kind


class TestEmailRunner(WorkerRunner):
    """Runner of one Test Email at a time, which waits for the test's thread before it goes away."""

    __test__ = False

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server: str | None = None

    def start(
        self,
        settings: Settings,
        server: str,
        unsaved: Mapping[str, str],
        connect: Callable[[TestEmailWorker], None],
    ) -> bool:
        """Start a test of ``server``; return False when one is already running.

        ``unsaved`` maps keyring entries to the secrets typed or loaded in
        the form, which the test uses in place of the stored ones.
        ``connect(worker)`` connects the worker's signals before the thread starts.
        """
        if self.running:
            return False
        from alertmail.core.dispatch import CancelToken

        cancel = CancelToken()
        worker = TestEmailWorker(settings, server, unsaved, cancel)
        connect(worker)
        self.server = server
        log.info("test e-mail through the %s server started", server)
        self._launch(worker, cancel, f"testEmailThread_{server}")
        return True

    def cancel(self) -> bool:
        """Cancel the running test; the dispatcher ends it within a second."""
        if self.running:
            log.info("test e-mail through the %s server cancelled", self.server)
        return super().cancel()
