"""Desktop integration: remembered size and tab, the first run, the window title, icon and desktop file name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QLabel

from alertmail import resources
from alertmail.core.queue_schema import database_path
from alertmail.core.store import config_path, load_settings, state_dir
from alertmail.gui import app
from alertmail.gui.dialog import DEFAULT_SIZE, EmailOptionsDialog
from alertmail.gui.notices import FIRST_RUN_HINT
from alertmail.gui.window_state import WindowState, load_window_state, save_window_state, state_path
from gui_support import click, open_dialog, set_field, write_sample_file


def run_main(qtbot, monkeypatch, *args: str) -> EmailOptionsDialog:
    """Run alertmail-settings in this process until its first frame; return its dialog."""
    monkeypatch.setenv("ALERTMAIL_BENCH_QUIT", "1")
    before = set(QApplication.topLevelWidgets())
    assert app.main(list(args)) == 0
    dialogs = [
        widget for widget in QApplication.topLevelWidgets()
        if isinstance(widget, EmailOptionsDialog) and widget not in before and widget.isVisible()
    ]
    assert len(dialogs) == 1
    qtbot.addWidget(dialogs[0])
    return dialogs[0]


def shown_dialog(qtbot) -> EmailOptionsDialog:
    """Open the dialog as alertmail-settings builds it, without a tab, and wait for its deferred work."""
    dialog = EmailOptionsDialog(load_settings(defer_address_checks=True))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()
    qtbot.waitUntil(lambda: dialog.queue_tab.active, timeout=5000)
    return dialog


# --- remembered size and tab ------------------------------------------------------------


def test_close_remembers_size_and_tab(qtbot):
    dialog = open_dialog(qtbot, tab="secondary")
    dialog.resize(720, 700)
    qtbot.waitUntil(lambda: dialog.size() == QSize(720, 700))

    dialog.reject()

    assert json.loads(state_path().read_text(encoding="utf-8")) == {"width": 720, "height": 700, "tab": "secondary"}
    assert [path.name for path in state_dir().iterdir()] == ["dialog.json"]


def test_main_opens_remembered_tab_and_size(qtbot, monkeypatch):
    write_sample_file()
    save_window_state(WindowState((720, 700), "queue"))

    dialog = run_main(qtbot, monkeypatch)

    assert dialog.current_tab == "queue"
    assert dialog.size() == QSize(720, 700)


def test_tab_option_wins_over_remembered_tab(qtbot, monkeypatch):
    write_sample_file()
    save_window_state(WindowState((720, 700), "queue"))

    dialog = run_main(qtbot, monkeypatch, "--tab", "secondary")

    assert dialog.current_tab == "secondary"
    assert dialog.size() == QSize(720, 700)


def test_remembered_size_clamped_to_screen(qtbot, monkeypatch):
    write_sample_file()
    save_window_state(WindowState((9000, 8000), "general"))
    available = QApplication.primaryScreen().availableGeometry()

    dialog = run_main(qtbot, monkeypatch)

    assert dialog.width() <= available.width()
    assert dialog.height() <= available.height()
    assert dialog.width() > DEFAULT_SIZE[0]


@pytest.mark.parametrize(
    "data",
    [b"{", b"[]", b'{"width": "wide", "height": true, "tab": 3}', b'{"tab": ["queue"]}', b"\xff\xfe\x00", b""],
    ids=["truncated", "list", "wrong-types", "unhashable-tab", "binary", "empty"],
)
def test_broken_state_file_ignored(qtbot, monkeypatch, data):
    write_sample_file()
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_bytes(data)

    dialog = run_main(qtbot, monkeypatch)

    assert load_window_state() == WindowState()
    assert dialog.current_tab == "general"
    assert dialog.size() == QSize(*DEFAULT_SIZE)


def test_state_not_writable_does_not_stop_close(qtbot):
    state_dir().parent.mkdir(parents=True, exist_ok=True)
    state_dir().write_text("a file where the folder should be", encoding="utf-8")
    dialog = open_dialog(qtbot)

    with qtbot.waitSignal(dialog.rejected):
        dialog.reject()

    assert not dialog.isVisible()
    assert state_dir().read_text(encoding="utf-8") == "a file where the folder should be"


def test_state_written_atomically(tmp_path):
    path = tmp_path / "state" / "dialog.json"
    save_window_state(WindowState((640, 640), "general"), path)
    save_window_state(WindowState((800, 600), "queue"), path)

    assert load_window_state(path) == WindowState((800, 600), "queue")
    assert [entry.name for entry in path.parent.iterdir()] == ["dialog.json"]


# --- first run ----------------------------------------------------------------------------


def test_first_run_opens_mail_server_with_hint(qtbot, monkeypatch):
    save_window_state(WindowState((720, 700), "queue"))

    dialog = run_main(qtbot, monkeypatch)

    hint = dialog.findChild(QLabel, "firstRunHint")
    assert dialog.current_tab == "primary"
    assert hint.isVisible()
    assert hint.text() == FIRST_RUN_HINT


def test_first_run_without_tab_opens_mail_server(qtbot):
    dialog = shown_dialog(qtbot)

    assert dialog.current_tab == "primary"
    assert dialog.findChild(QLabel, "firstRunHint").isVisible()


def test_first_run_cancel_creates_no_file(qtbot):
    dialog = shown_dialog(qtbot)
    set_field(dialog, "primary.host", "smtp.example.com")

    with qtbot.waitSignal(dialog.rejected):
        click(qtbot, dialog, "cancelButton")

    assert not config_path().exists()
    assert not config_path().parent.exists() or list(config_path().parent.iterdir()) == []
    assert not database_path().exists()


def test_first_run_hint_gone_after_apply(qtbot):
    dialog = shown_dialog(qtbot)
    set_field(dialog, "primary.host", "smtp.example.com")

    click(qtbot, dialog, "applyButton")

    assert config_path().exists()
    assert not dialog.findChild(QLabel, "firstRunHint").isVisible()


def test_no_hint_with_settings_file(qtbot):
    write_sample_file()

    dialog = shown_dialog(qtbot)

    assert dialog.current_tab == "general"
    assert not dialog.findChild(QLabel, "firstRunHint").isVisible()


# --- title, icon, desktop file name -------------------------------------------------------

TITLE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["ALERTMAIL_BENCH_QUIT"] = "1"
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication
    from alertmail.gui import app

    app.main([])
    dialog = [widget for widget in QApplication.topLevelWidgets() if widget.objectName() == "emailOptionsDialog"][0]
    # An application display name that was never set follows the application name.
    QCoreApplication.setApplicationName("probe")
    print(QGuiApplication.applicationDisplayName())
    print(QGuiApplication.desktopFileName())
    print(dialog.windowTitle())
    print(dialog.windowHandle().title())
    """
)


def test_window_title_is_exactly_email_options():
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.run(
        [sys.executable, "-c", TITLE_SCRIPT], capture_output=True, text=True, timeout=60, env=environment
    )

    assert process.returncode == 0, process.stderr[-2000:]
    display_name, desktop_file, title, window_title = process.stdout.splitlines()
    assert display_name == "probe"
    assert desktop_file == "alertmail-settings"
    assert title == "E-mail Options"
    assert window_title == "E-mail Options"


def test_window_icon_set_after_first_frame(qtbot):
    write_sample_file()
    dialog = EmailOptionsDialog(load_settings(), first_tab="general")
    qtbot.addWidget(dialog)
    before = dialog.windowIcon()

    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()

    sizes = {size.width() for size in dialog.windowIcon().availableSizes()}
    assert before.isNull()
    assert sizes == set(resources.ICON_SIZES)
    assert dialog.findChild(QLabel, "firstRunHint").isHidden()
