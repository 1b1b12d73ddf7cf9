"""Helpers for the Queue tab tests: settings, queued messages, and the tab itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QPushButton

from alertmail.core.queue import Queue
from alertmail.core.settings import Settings
from alertmail.core.store import save_settings
from gui_support import open_dialog


def queue_settings(port: int = 25, **values) -> Settings:
    """Return settings that send through 127.0.0.1:``port``, with ``values`` on top."""
    return Settings(
        {
            "general.errors_to": "ops@example.com, noc@example.com",
            "general.reports_to": "reports@example.com",
            "general.from_address": "alerts@example.com",
            "general.from_name": "Network Alerts",
            "primary.host": "127.0.0.1",
            "primary.port": port,
            "primary.timeout_s": 5,
            **values,
        }
    )


def add_messages(settings: Settings, *subjects: str, kind: str = "errors") -> list[int]:
    """Queue one message per subject; return their ids."""
    with Queue() as queue:
        return [queue.add(kind, subject, f"body of {subject}\n", settings) for subject in subjects]


def add_failed(settings: Settings, subject: str, error: str = "550 5.1.1 mailbox unavailable") -> int:
    """Queue a message and park it as failed with ``error``; return its id."""
    with Queue() as queue:
        message_id = queue.add("reports", subject, "body\n", settings)
        queue.mark_failed(message_id, error)
    return message_id


def open_queue_tab(qtbot, settings: Settings | None = None):
    """Save ``settings`` (default ``queue_settings()``), open the dialog at the Queue tab, wait for its first read."""
    save_settings(settings if settings is not None else queue_settings())
    dialog = open_dialog(qtbot, tab="queue")
    tab = dialog.queue_tab
    qtbot.waitUntil(lambda: tab.active, timeout=5000)
    return dialog, tab


def table_ids(tab) -> list[int]:
    """Return the ids of the messages the table shows, in row order."""
    return [message.id for message in tab.model.messages]


def column_texts(tab, title: str) -> list[str]:
    """Return the texts shown in the column called ``title``, top to bottom."""
    model = tab.model
    column = [model.headerData(number, _horizontal()) for number in range(model.columnCount())].index(title)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def select_ids(tab, *ids: int) -> None:
    """Select the rows of the messages with ``ids``."""
    from PySide6.QtCore import QItemSelectionModel

    selection = tab.table.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for message_id in ids:
        selection.select(tab.model.index(tab.model.row_of(message_id), 0), flags)


def answer_box(qtbot, parent, box_name: str, button_name: str | None) -> None:
    """Click ``button_name`` in the open message box ``box_name``, or Cancel when ``None``."""
    # A box answered before may still exist until its deleteLater runs.
    def open_box() -> QMessageBox | None:
        shown = [box for box in parent.findChildren(QMessageBox, box_name) if box.isVisible()]
        return shown[0] if shown else None

    qtbot.waitUntil(lambda: open_box() is not None, timeout=5000)
    box = open_box()
    if button_name is None:
        button = box.button(QMessageBox.StandardButton.Cancel)
    else:
        button = box.findChild(QPushButton, button_name)
    button.click()


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a mailer process with SIGTERM and wait for it (SIGKILL after 10 s)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_mailer(output: Path) -> subprocess.Popen:
    """Start ``alertmail mailer run`` with the test's folders, its output in the file ``output``.

    Stop it with ``stop_process``.
    """
    with output.open("wb") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "alertmail.core.cli", "mailer", "run"],
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
