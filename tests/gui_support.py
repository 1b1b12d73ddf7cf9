"""Helpers for the dialog tests: open the dialog the way alertmail-settings does, and edit fields."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget

from alertmail.core.store import config_path, load_settings
from alertmail.gui.dialog import EmailOptionsDialog

SAMPLE_FILE = """\
# Kept by the administrator: this comment must survive.
schema = 1

[general]
errors_to = ["ops@example.com"]
reports_to = ["reports@example.com"]
from_address = "alerts@example.com"
from_name = "Network Alerts"

[primary]
enabled = true
host = "127.0.0.1"   # the relay in the server room
port = 25
"""


def write_sample_file() -> bytes:
    """Write a settings file with comments and return its bytes."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SAMPLE_FILE, encoding="utf-8")
    return path.read_bytes()


def open_dialog(qtbot, *, tab: str = "general") -> EmailOptionsDialog:
    """Load the settings file, show the dialog and wait until it asked the keyring."""
    dialog = EmailOptionsDialog(load_settings())
    qtbot.addWidget(dialog)
    dialog.select_tab(tab)
    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()
    return dialog


def field(dialog: EmailOptionsDialog, key: str) -> QWidget:
    """Return the input widget whose object name is ``key``."""
    widget = dialog.findChild(QWidget, key)
    assert widget is not None, f"no widget named {key}"
    return widget


def set_field(dialog: EmailOptionsDialog, key: str, value) -> None:
    """Change a field as a user would: text, number, choice value or tick."""
    widget = field(dialog, key)
    if isinstance(widget, QLineEdit):
        widget.selectAll()
        if value:
            widget.insert(value)
        else:
            widget.clear()
    elif isinstance(widget, QSpinBox):
        widget.setValue(value)
    elif isinstance(widget, QComboBox):
        widget.setCurrentIndex(widget.findData(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(value)
    else:
        raise TypeError(type(widget).__name__)


def click(qtbot, dialog: EmailOptionsDialog, object_name: str) -> None:
    """Click the enabled button called ``object_name``."""
    button = dialog.findChild(QWidget, object_name)
    assert button is not None, f"no button named {object_name}"
    assert button.isEnabled(), f"{object_name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
