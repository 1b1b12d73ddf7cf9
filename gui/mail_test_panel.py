"""The Test Email buttons, conversation and results of the server tabs.

One test runs at a time: while it runs, the Test Email buttons of both tabs
are disabled and the running tab's Abort test button is enabled.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from .mail_test import TestEmailRunner, TestEmailWorker, describe_report

if TYPE_CHECKING:
    from .dialog import EmailOptionsDialog

log = logging.getLogger(__name__)


class MailTestPanel(QObject):
    """Controller that starts, shows and cancels the Test Email of the dialog's server tabs."""

    finished = Signal(str, list)
    """The server name and the result lines shown when a test ended."""

    def __init__(self, dialog: EmailOptionsDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("mailTestPanel")
        self._dialog = dialog
        self.runner = TestEmailRunner(self)
        self.runner.running_changed.connect(self._on_running_changed)
        self._server: str | None = None
        for server, tab in dialog.server_tabs.items():
            self.attach(server, tab)

    def attach(self, server: str, tab) -> None:
        """Connect the Test Email and Abort test buttons of a newly built server tab."""
        tab.test_button.clicked.connect(lambda _checked=False, name=server: self.start(name))
        tab.cancel_test_button.clicked.connect(self.cancel)

    @property
    def running(self) -> bool:
        """True while a test's thread runs."""
        return self.runner.running

    def can_start(self, server: str, problems: list[tuple[str, str]]) -> bool:
        """True when no test runs and nothing that a test of ``server`` uses is invalid."""
        if self.runner.running:
            return False
        return not any(key.partition(".")[0] in ("general", server) for key, _ in problems)

    def update_cancel_buttons(self) -> None:
        """Enable Abort test on the tab whose test runs."""
        for server, tab in self._dialog.server_tabs.items():
            tab.cancel_test_button.setEnabled(self.runner.running and self._server == server)

    def start(self, server: str) -> bool:
        """Test ``server`` with the values now in the form; return False when it cannot start."""
        dialog = self._dialog
        tab = dialog.server_tabs[server]
        if not dialog.working[f"{server}.enabled"] or not self.can_start(server, dialog.problems()):
            return False
        tab.transcript.clear()
        tab.test_result.setText("Sending the test messages\N{HORIZONTAL ELLIPSIS}")
        tab.test_result.setVisible(True)
        self._server = server
        # The test uses the secrets as the form shows them, saved or not.
        unsaved = tab.password.unsaved()
        if tab.key_field.pending():
            unsaved[tab.key_field.entry] = tab.key_field.pending_text()
        return self.runner.start(dialog.working, server, unsaved, self._connect)

    def _connect(self, worker: TestEmailWorker) -> None:
        # Slots of this GUI-thread object: Qt queues the worker's emissions to them.
        worker.line.connect(self._on_line)
        worker.finished.connect(self._on_report)
        worker.failed.connect(self._on_failed)

    @Slot()
    def cancel(self) -> None:
        """Cancel the running test."""
        self.runner.cancel()

    def stop(self) -> None:
        """Cancel the running test and wait for its thread."""
        self.runner.stop()

    @Slot(bool)
    def _on_running_changed(self, _running: bool) -> None:
        self._dialog.refresh_state()

    def _tab(self):
        return self._dialog.server_tabs.get(self._server or "")

    @Slot(str)
    def _on_line(self, line: str) -> None:
        tab = self._tab()
        if tab is not None:
            tab.transcript.appendPlainText(line)

    @Slot(object)
    def _on_report(self, report: Any) -> None:
        self._show_result(describe_report(report))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_result([f"The test could not run: {message}"])

    def _show_result(self, lines: list[str]) -> None:
        tab = self._tab()
        if tab is None:
            return
        tab.test_result.setText("\n".join(lines))
        tab.test_result.setVisible(True)
        tab.transcript.appendPlainText("")
        for line in lines:
            tab.transcript.appendPlainText(line)
        log.info("test e-mail through the %s server: %s", self._server, "; ".join(lines))
        self.finished.emit(self._server, lines)
