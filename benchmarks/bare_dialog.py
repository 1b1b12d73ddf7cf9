"""Baseline for the start-up benchmark: a bare PySide6 "E-mail Options" dialog.

The dialog has the widgets of alertmail's dialog and nothing else: no settings
file, no keyring, no validation, no bindings. Its start-up time and peak
memory are what any PySide6 program with these widgets costs, so
``startup.py`` divides alertmail's numbers by this one's.

It honours the benchmark's two environment variables, as alertmail's dialog does:

- ``ALERTMAIL_BENCH_FIRST_FRAME``: at the dialog's first paint event, write
  ``first-frame <time.perf_counter() value>`` to stdout and flush.
- ``ALERTMAIL_BENCH_QUIT`` (together with the first): quit right after that
  frame and exit 0.

Run it with ``python benchmarks/bare_dialog.py [--size WIDTHxHEIGHT]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

# Size of alertmail's dialog as shown, read off the running dialog under
# QT_QPA_PLATFORM=offscreen (the dialog resizes itself to 560x620).
DEFAULT_SIZE = (560, 620)


class FirstFrameReporter(QObject):
    """Event filter that reports the first paint event of the widget it watches."""

    def __init__(self, quit_after: bool) -> None:
        super().__init__()
        self._quit_after = quit_after
        self._reported = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint and not self._reported:
            self._reported = True
            sys.stdout.write(f"first-frame {time.perf_counter()!r}\n")
            sys.stdout.flush()
            if self._quit_after:
                # The event loop returns once this paint and its flush are done.
                QCoreApplication.exit(0)
        return False


def build_server_tab() -> QWidget:
    """Build one server tab with the fields of a mail server."""
    page = QWidget()
    form = QFormLayout(page)
    form.addRow(QCheckBox("&Use this server"))
    form.addRow("Server &Name / Address:", QLineEdit())
    port = QSpinBox()
    port.setRange(1, 65535)
    port.setValue(25)
    form.addRow("SMTP &Port:", port)
    timeout = QSpinBox()
    timeout.setRange(1, 3600)
    timeout.setValue(30)
    form.addRow("T&imeout (seconds):", timeout)
    security = QComboBox()
    security.addItems(["None", "STARTTLS", "Implicit TLS"])
    form.addRow("Connection &security:", security)
    auth = QComboBox()
    auth.addItems(["None", "SMTP AUTH", "POP before send", "OAuth 2.0"])
    form.addRow("&Authentication type:", auth)
    form.addRow("&Username:", QLineEdit())
    password = QLineEdit()
    password.setEchoMode(QLineEdit.EchoMode.Password)
    form.addRow("Pass&word:", password)
    form.addRow("P&OP Server Name:", QLineEdit())
    pop_port = QSpinBox()
    pop_port.setRange(1, 65535)
    pop_port.setValue(110)
    form.addRow("POP Po&rt:", pop_port)
    # The OAuth 2.0 rows exist but are hidden, as in alertmail's dialog
    # until OAuth 2.0 is chosen.
    provider = QComboBox()
    provider.addItems(["Microsoft 365", "Google Workspace", "Other provider"])
    form.addRow("Identity pro&vider:", provider)
    oauth_fields = [provider]
    for label in ("Tenant ID or do&main:", "Cli&ent ID:", "To&ken URL:", "Scope &for SMTP:", "Mailbo&x:"):
        field = QLineEdit()
        form.addRow(label, field)
        oauth_fields.append(field)
    key_button = QPushButton("Load key &file...")
    form.addRow("Service-account &key:", key_button)
    oauth_fields.append(key_button)
    for field in oauth_fields:
        form.setRowVisible(field, False)
    form.addRow(QPushButton("&Test Email"))
    transcript = QPlainTextEdit()
    transcript.setReadOnly(True)
    form.addRow(transcript)
    return page


def build_general_tab() -> QWidget:
    """Build the General tab: recipients and sender."""
    page = QWidget()
    form = QFormLayout(page)
    for label in ("&Errors:", "&Reports/Stats:", "&From address:", "From &name:"):
        form.addRow(label, QLineEdit())
    return page


def build_queue_tab() -> QWidget:
    """Build the Queue tab: mailer buttons, an empty table and the row buttons."""
    page = QWidget()
    layout = QVBoxLayout(page)
    controls = QHBoxLayout()
    for text in ("&Start mailer", "Stop mail&er", "Send n&ow"):
        controls.addWidget(QPushButton(text))
    layout.addLayout(controls)
    layout.addWidget(QTableView(), 1)
    bottom = QHBoxLayout()
    bottom.addWidget(QPushButton("&Reset state"))
    bottom.addWidget(QPushButton("D&elete"))
    bottom.addWidget(QCheckBox("Sho&w sent"))
    layout.addLayout(bottom)
    return page


def build_dialog(size: tuple[int, int]) -> QDialog:
    """Build the bare dialog: four tabs and the standard button box."""
    dialog = QDialog()
    dialog.setWindowTitle("E-mail Options")
    tabs = QTabWidget()
    tabs.addTab(build_general_tab(), "&General")
    tabs.addTab(build_server_tab(), "&Mail Server")
    tabs.addTab(build_server_tab(), "&Secondary Mail Server")
    tabs.addTab(build_queue_tab(), "&Queue")
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok
        | QDialogButtonBox.StandardButton.Cancel
        | QDialogButtonBox.StandardButton.Apply
        | QDialogButtonBox.StandardButton.RestoreDefaults
        | QDialogButtonBox.StandardButton.Help
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(tabs)
    layout.addWidget(buttons)
    dialog.resize(*size)
    return dialog


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT`` into two positive integers."""
    width, separator, height = text.lower().partition("x")
    if not separator or not width.isdigit() or not height.isdigit():
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT, such as 560x620")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    """Show the bare dialog and run the event loop; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--size", type=parse_size, default=DEFAULT_SIZE,
        help="dialog size in pixels as WIDTHxHEIGHT (default: %(default)s)",
    )
    options = parser.parse_args(argv)

    app = QApplication(sys.argv[:1])
    dialog = build_dialog(options.size)
    if os.environ.get("ALERTMAIL_BENCH_FIRST_FRAME"):
        reporter = FirstFrameReporter(quit_after=bool(os.environ.get("ALERTMAIL_BENCH_QUIT")))
        dialog.installEventFilter(reporter)
    dialog.finished.connect(app.quit)
    dialog.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
