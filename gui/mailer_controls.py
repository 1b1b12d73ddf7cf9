"""The mailer's status line and its Start mailer, Stop mailer and Send now buttons.

Start and Stop mailer save ``mailer.enabled`` alone in the settings file at
once, through the dialog, so they never save or drop another unsaved edit.
Send now requests a batch from a running mailer, or, without one, sends one
batch from a worker thread of this dialog.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from alertmail.core.settings import Settings

from .fields import WrappedLabel
from .queue_send import MAILER_RUNNING, SendNowRunner, SendNowWorker

log = logging.getLogger(__name__)

# A started mailer process is shown as starting until it holds the lock or this many seconds pass.
START_GRACE_S = 15.0

START_HELP = (
    "Let the mailer send (mailer.enabled = true, saved at once) and start the mailer process "
    "'alertmail mailer run' when none runs. The process keeps running after the dialog closes."
)
STOP_HELP = (
    "Stop sending (mailer.enabled = false, saved at once). A running mailer process stays, "
    "keeps the queue and sends nothing until Start mailer."
)
SEND_NOW_HELP = (
    "Send the queued messages at once with the saved settings: a running mailer is asked to send "
    "its next batch now; without one, this dialog sends one batch itself."
)
STOPPED_HELP = "The mailer is stopped: press Start mailer to send again."


class SettingsHost(Protocol):
    """The dialog's interface to the controls: its saved settings, and saving one key at once."""

    @property
    def saved_settings(self) -> Settings: ...

    def write_setting_now(self, key: str, value: Any) -> str | None:
        """Save ``key`` in the settings file now; return why it failed, or ``None``."""


def _button(text: str, object_name: str, tooltip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setToolTip(tooltip)
    button.setAutoDefault(False)
    return button


class MailerControls(QWidget):
    """The status line of the mailer and the buttons that start, stop and hurry it."""

    message = Signal(str, bool)
    """A sentence for the user, and True when it reports an error."""

    queue_changed = Signal()
    """Emitted with no payload when a batch of this dialog ended, so the queue is read again."""

    def __init__(self, host: SettingsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mailerControls")
        self._host = host
        self._usable = False
        self._mailer_running = False
        self._process: Any = None
        self._process_started = 0.0
        self.runner = SendNowRunner(self)
        self.runner.running_changed.connect(self._on_batch_running)

        self.status_line = WrappedLabel("Reading the queue\N{HORIZONTAL ELLIPSIS}")
        self.status_line.setObjectName("mailerStatus")
        self.status_line.setWordWrap(True)
        self.status_line.setAccessibleName("Mailer status")
        self.start_button = _button("&Start mailer", "startMailerButton", START_HELP)
        self.stop_button = _button("Sto&p mailer", "stopMailerButton", STOP_HELP)
        self.send_now_button = _button("Send &now", "sendNowButton", SEND_NOW_HELP)
        self.start_button.clicked.connect(self.start_mailer)
        self.stop_button.clicked.connect(self.stop_mailer)
        self.send_now_button.clicked.connect(self.send_now)

        buttons = QHBoxLayout()
        for button in self.buttons():
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_line)
        layout.addLayout(buttons)
        self.update_buttons()

    def buttons(self) -> list[QPushButton]:
        """Return Start mailer, Stop mailer and Send now, in tab order."""
        return [self.start_button, self.stop_button, self.send_now_button]

    @property
    def mailer_process(self):
        """The ``subprocess.Popen`` of the last mailer started from here, or ``None``."""
        return self._process

    @property
    def batch_running(self) -> bool:
        """True while a Send now batch of this dialog runs."""
        return self.runner.running

    def set_usable(self, usable: bool) -> None:
        """Enable the buttons once the queue could be opened."""
        self._usable = usable
        self.update_buttons()

    # --- the status line -------------------------------------------------------------

    def refresh(self) -> None:
        """Probe the mailer lock, read the mailer's status, and update the line and buttons."""
        from alertmail.core.status import StatusFile, mailer_running

        from .mailer_status import describe_status

        saved = self._host.saved_settings
        batch = self.runner.running
        # While this dialog's batch holds the mailer lock, a probe would find it taken.
        self._mailer_running = False if batch else mailer_running()
        text = describe_status(
            self._mailer_running,
            saved["mailer.enabled"],
            StatusFile().read() if self._mailer_running else None,
            interval_s=saved["mailer.send_interval_s"],
            batch_running=batch,
        )
        note = self._process_note()
        if note and not self._mailer_running and not batch:
            text = note
        self.status_line.setText(text)
        self.update_buttons()

    def _process_note(self) -> str | None:
        """Return what the mailer process started here does while it has no lock yet."""
        if self._process is None:
            return None
        code = self._process.poll()
        if code is not None:
            return (
                f"The mailer started from this dialog stopped at once (exit status {code}). "
                "Run 'alertmail mailer run' in a terminal to see why."
            )
        if time.monotonic() - self._process_started < START_GRACE_S:
            return "Starting the mailer\N{HORIZONTAL ELLIPSIS}"
        return None

    def update_buttons(self) -> None:
        """Enable the buttons that apply to the saved settings and the mailer's state."""
        enabled = self._host.saved_settings["mailer.enabled"]
        starting = self._process is not None and self._process.poll() is None and not self._mailer_running
        self.start_button.setEnabled(self._usable and not (enabled and (self._mailer_running or starting)))
        self.stop_button.setEnabled(self._usable and enabled)
        self.send_now_button.setEnabled(self._usable and enabled and not self.runner.running)
        self.send_now_button.setToolTip(SEND_NOW_HELP if enabled else STOPPED_HELP)

    # --- Start mailer, Stop mailer ------------------------------------------------------

    @Slot()
    def start_mailer(self) -> None:
        """Save mailer.enabled = true and start a mailer process when none runs."""
        from alertmail.core.status import mailer_running

        from .mailer_status import start_mailer_process

        problem = self._host.write_setting_now("mailer.enabled", True)
        if problem:
            self.message.emit(f"The mailer was not started: {problem}", True)
            return
        if mailer_running():
            self.message.emit("The running mailer sends the queue again.", False)
        else:
            try:
                self._process = start_mailer_process()
            except OSError as error:
                log.error("mailer process could not be started: %s", error)
                self.message.emit(f"The mailer process could not be started: {error}", True)
            else:
                self._process_started = time.monotonic()
                self.message.emit(
                    f"Mailer started (process {self._process.pid}); it keeps running after the dialog closes.",
                    False,
                )
        self.refresh()

    @Slot()
    def stop_mailer(self) -> None:
        """Save mailer.enabled = false; a running mailer process stays and sends nothing."""
        problem = self._host.write_setting_now("mailer.enabled", False)
        if problem:
            self.message.emit(f"The mailer was not stopped: {problem}", True)
            return
        self.message.emit("Mailer stopped: the queue is kept and nothing is sent until Start mailer.", False)
        self.refresh()

    # --- Send now --------------------------------------------------------------------------

    @Slot()
    def send_now(self) -> None:
        """Ask a running mailer to send now, or send one batch from a worker thread."""
        from alertmail.core.status import mailer_running

        if mailer_running():
            self._request_send_now()
            return
        if self.runner.start(self._connect_worker):
            self.message.emit("Sending the queued messages\N{HORIZONTAL ELLIPSIS}", False)
            self.refresh()

    def _connect_worker(self, worker: SendNowWorker) -> None:
        worker.finished.connect(self._on_batch_finished)
        worker.failed.connect(self._on_batch_failed)

    def _request_send_now(self) -> None:
        from alertmail.core.status import StatusFile

        try:
            StatusFile().request_send_now()
        except OSError as error:
            self.message.emit(f"The running mailer could not be asked to send now: {error}", True)
            return
        log.info("send now requested from the running mailer")
        self.message.emit("A mailer is running; it was asked to send the queue now.", False)

    @Slot(object)
    def _on_batch_finished(self, report: Any) -> None:
        if report.empty and not report.reason:
            self.message.emit("The queue had no message to send.", False)
        else:
            problem = bool(report.reason or report.kept or report.failed)
            self.message.emit(f"Send now: {report.summary()}.", problem)

    @Slot(str)
    def _on_batch_failed(self, reason: str) -> None:
        if reason == MAILER_RUNNING:
            self._request_send_now()
        else:
            self.message.emit(f"Send now failed: {reason}", True)

    @Slot(bool)
    def _on_batch_running(self, running: bool) -> None:
        if running:
            self.update_buttons()
        else:
            self.queue_changed.emit()

    def stop(self) -> None:
        """Cancel a running Send now batch and wait for its thread."""
        self.runner.stop()
