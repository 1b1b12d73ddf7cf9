"""The dialog survives a long editing session in a process of its own.

A binding that loses a reference on each call only fails once the count
reaches zero, which a test process with many references of its own may never
reach. This test types into a fresh dialog process, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit

    from alertmail.core.store import load_settings
    from alertmail.gui.dialog import EmailOptionsDialog

    app = QApplication(sys.argv[:1])
    dialog = EmailOptionsDialog(load_settings(), first_tab="general")
    dialog.show()

    def edit():
        dialog.build_all_pages()
        for key in ("general.from_name", "primary.host", "primary.username"):
            dialog.select_tab(key.partition(".")[0])
            field = dialog.findChild(QLineEdit, key)
            for _ in range(4):
                QTest.keyClicks(field, "a" * 100)
                field.clear()
        dialog.reject()
        app.quit()

    QTimer.singleShot(0, edit)
    app.exec()
    print("clean exit", flush=True)
    """
)


def test_long_editing_session_exits_cleanly():
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=environment
    )

    assert "Fatal Python error" not in process.stderr
    assert process.returncode == 0, process.stderr[-2000:]
    assert process.stdout.strip() == "clean exit"
