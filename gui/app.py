"""``alertmail-settings``: opens the E-mail Options dialog.

Start-up is kept short: ``keyring``, ``tomlkit``, ``smtplib``, ``ssl``, the
dispatcher and ``sqlite3`` are imported after the first frame, when the
dialog needs them, and the queue database is opened only then. The
settings file is read with the standard library's ``tomllib``.

Stored addresses are checked with ``email_validator`` right after the first
frame, not while loading.

The dialog opens at the tab given with ``--tab``. Without it, a first run
(no settings file yet) opens the Mail Server tab, and later runs open the
tab shown when the dialog was last closed, at the size it had then
(see ``window_state``).

Three environment variables serve the start-up benchmark and its tests:

- ``ALERTMAIL_BENCH_FIRST_FRAME``: at the first paint of the dialog, write
  ``first-frame <time.perf_counter()>`` and a newline to standard output.
- ``ALERTMAIL_BENCH_QUIT``: quit right after the first frame.
- ``ALERTMAIL_REPORT_MODULES=<file>``: at the first paint, write the names of
  the modules imported so far to ``<file>``, one a line.
"""

from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

TABS = ("general", "primary", "secondary", "queue")


def parse_args(argv: list[str] | None) -> SimpleNamespace:
    """Parse the command line of ``alertmail-settings``.

    The usual forms (nothing, ``--tab NAME``, ``--tab=NAME``) are read
    directly: importing ``argparse`` costs the first frame about 7 ms.
    Anything else, ``--help`` and every error included, goes to argparse.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        return SimpleNamespace(tab=None)
    if len(arguments) == 2 and arguments[0] == "--tab" and arguments[1] in TABS:
        return SimpleNamespace(tab=arguments[1])
    if len(arguments) == 1 and arguments[0].startswith("--tab=") and arguments[0][6:] in TABS:
        return SimpleNamespace(tab=arguments[0][6:])

    import argparse

    parser = argparse.ArgumentParser(
        prog="alertmail-settings", description="Open the E-mail Options dialog of alertmail."
    )
    parser.add_argument(
        "--tab", choices=TABS, default=None,
        help="the tab to show first (default: the tab shown when the dialog was last closed)",
    )
    return SimpleNamespace(**vars(parser.parse_args(arguments)))


def _report_first_frame() -> None:
    if os.environ.get("ALERTMAIL_BENCH_FIRST_FRAME"):
        sys.stdout.write(f"first-frame {time.perf_counter()}\n")
        sys.stdout.flush()
    report = os.environ.get("ALERTMAIL_REPORT_MODULES")
    if report:
        with open(report, "w", encoding="utf-8") as stream:
            stream.write("\n".join(sorted(sys.modules)) + "\n")
    if os.environ.get("ALERTMAIL_BENCH_QUIT"):
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.exit(0)


def main(argv: list[str] | None = None) -> int:
    """Open the dialog at the requested tab; return the exit status."""
    args = parse_args(argv)

    from PySide6.QtWidgets import QApplication, QMessageBox

    from alertmail.core.errors import ConfigFileError
    from alertmail.core.store import load_settings

    from .dialog import EmailOptionsDialog
    from .window_state import load_window_state

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("alertmail")
    # No application display name: Qt would append it to every window
    # title, and the dialog's title is exactly "E-mail Options".
    # The desktop file name lets Wayland match the window to the menu entry.
    app.setDesktopFileName("alertmail-settings")

    try:
        loaded = load_settings(defer_address_checks=True)
    except ConfigFileError as error:
        print(f"alertmail-settings: {error}", file=sys.stderr)
        QMessageBox.critical(None, "E-mail Options", f"The settings could not be opened: {error}")
        return 1

    remembered = load_window_state()
    tab = args.tab
    if tab is None:
        tab = "primary" if not loaded.exists else remembered.tab or "general"
    dialog = EmailOptionsDialog(loaded, first_tab=tab)
    if remembered.size is not None:
        dialog.resize_within_screen(remembered.size)
    dialog.first_frame.connect(_report_first_frame)
    dialog.finished.connect(app.quit)
    dialog.show()
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
