"""A read-only window on the mail log file.

The log is read when the window opens and again on Reload; it is never
written from here. The rotating log keeps each file under 1 MiB, so the
whole current file is read at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def read_log(path: Path) -> tuple[str, str]:
    """Return ``(text, note)``: the log's content and a sentence about it.

    ``text`` is empty when there is no log file, and ``note`` then tells the user.
    Bytes that are not UTF-8 are shown as replacement characters.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "", (
            f"There is no mail log yet at {path}. The mailer writes one while "
            "Keep a mail log is on and it runs."
        )
    except OSError as error:
        log.warning("mail log %s could not be read: %s", path, error)
        return "", f"The mail log {path} could not be read: {error.strerror or error}."
    if not data:
        return "", f"The mail log {path} is empty."
    return data.decode("utf-8", "replace"), f"{path} ({len(data):,} bytes)"


class LogViewer(QDialog):
    """A window showing the mail log, with a Reload button."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logViewer")
        self.setWindowTitle("Mail Log")
        self.path = path
        self.resize(720, 480)

        self.note = QLabel()
        self.note.setObjectName("logPath")
        self.note.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("logText")
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Mail log")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.reload_button = QPushButton("&Reload")
        self.reload_button.setObjectName("reloadLogButton")
        self.reload_button.setToolTip("Read the log file again.")
        buttons.addButton(self.reload_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.reload_button.clicked.connect(self.reload)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        """Read the log file again and show its end."""
        from PySide6.QtCore import Qt

        content, note = read_log(self.path)
        self.note.setText(note)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setPlainText(content)
        self.text.setVisible(bool(content))
        self.text.moveCursor(QTextCursor.MoveOperation.End)
