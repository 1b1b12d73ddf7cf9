"""alertmail-settings starts light: heavy modules wait until after the first frame."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from alertmail.core.settings import Settings
from alertmail.core.store import load_settings, save_settings
from alertmail.gui import app
from alertmail.gui.dialog import EmailOptionsDialog

# Modules that must not be imported before the dialog's first frame.
DEFERRED = [
    "keyring",
    "email_validator",
    "tomlkit",
    "smtplib",
    "ssl",
    "truststore",
    "poplib",
    "alertmail.core.secrets",
    "alertmail.core.transcript",
    "alertmail.core.messages",
    "alertmail.core.dispatch",
    "alertmail.core.failover",
    "sqlite3",
    "alertmail.core.queue",
    "alertmail.core.queue_schema",
    "alertmail.core.mailer",
]


def run_settings_app(tmp_path: Path, *args: str, **extra_env: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run alertmail-settings until its first frame; return the process and the modules imported by then."""
    report = tmp_path / "modules.txt"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ALERTMAIL_REPORT_MODULES=str(report))
    env.update(extra_env)
    process = subprocess.run(
        [sys.executable, "-m", "alertmail.gui.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = set(report.read_text(encoding="utf-8").split()) if report.exists() else set()
    return process, modules


def test_first_frame_without_heavy_modules(tmp_path):
    process, modules = run_settings_app(tmp_path, "--tab", "primary", ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert "alertmail.gui.dialog" in modules
    assert "PySide6.QtWidgets" in modules
    assert sorted(set(DEFERRED) & modules) == []


def test_first_frame_with_server_settings_file(tmp_path):
    save_settings(Settings({"primary.host": "smtp.example.com", "primary.auth": "smtp", "primary.username": "u"}))

    process, modules = run_settings_app(tmp_path, ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert "alertmail.core.store" in modules
    assert sorted(set(DEFERRED) & modules) == []


def test_first_frame_with_addresses_file(tmp_path):
    save_settings(Settings({"general.errors_to": "ops@example.com", "general.from_address": "a@example.com"}))

    process, modules = run_settings_app(tmp_path, ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert "email_validator" not in modules


def test_invalid_stored_address_reported_after_first_frame(qtbot):
    path = save_settings(Settings({"general.reports_to": "reports@example.com", "primary.host": "relay.example.com"}))
    path.write_text(path.read_text().replace('"reports@example.com"', '"reports at example.com"'))

    dialog = EmailOptionsDialog(load_settings(defer_address_checks=True))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()

    assert dialog.banner.isVisible()
    assert "general.reports_to" in dialog.banner.text()
    assert dialog.working["general.reports_to"] == []
    assert dialog.apply_button.isEnabled(), "the file still holds the invalid value until saved"


def test_bench_line_at_first_frame(tmp_path):
    process, _ = run_settings_app(tmp_path, ALERTMAIL_BENCH_FIRST_FRAME="1", ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert re.fullmatch(r"first-frame \d+\.\d+\n", process.stdout)


def test_no_output_without_bench_variable(tmp_path):
    process, modules = run_settings_app(tmp_path, ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert process.stdout == ""
    assert modules


def test_keyring_checked_after_first_frame(qtbot):
    dialog = EmailOptionsDialog(load_settings())
    qtbot.addWidget(dialog)

    with qtbot.waitSignals([dialog.first_frame, dialog.keyring_checked], order="strict", timeout=5000):
        dialog.show()

    assert "Passwords are kept" in dialog.server_tabs["primary"].password.keyring_label.text()


def shown_dialogs() -> list[EmailOptionsDialog]:
    """Return the dialogs that app.main left on screen."""
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, EmailOptionsDialog) and widget.isVisible()
    ]


def test_first_frame_of_queue_tab_without_sqlite(tmp_path):
    from alertmail.core.queue import Queue

    settings = Settings({"general.errors_to": "ops@example.com", "general.from_address": "a@example.com"})
    save_settings(settings)
    with Queue() as queue:
        queue.add("errors", "link down", "body", settings)

    process, modules = run_settings_app(tmp_path, "--tab", "queue", ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert "alertmail.gui.queue_tab" in modules
    assert sorted(set(DEFERRED) & modules) == []


@pytest.mark.parametrize(
    "tab, page",
    [("general", "generalTab"), ("primary", "primaryTab"), ("secondary", "secondaryTab"), ("queue", "queueTab")],
)
def test_tab_option_selects_page(qtbot, monkeypatch, tab, page):
    monkeypatch.setenv("ALERTMAIL_BENCH_QUIT", "1")

    assert app.main(["--tab", tab]) == 0

    dialogs = shown_dialogs()
    assert len(dialogs) == 1
    dialog = dialogs[0]
    qtbot.addWidget(dialog)
    assert dialog.tab_widget.currentWidget().objectName() == page


def test_unknown_tab_rejected(capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(["--tab", "log"])

    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_lazy_dialog_builds_first_tab_only(qtbot):
    save_settings(Settings({"primary.host": "relay.example.com", "secondary.port": 2525}))
    dialog = EmailOptionsDialog(load_settings(), first_tab="secondary")
    qtbot.addWidget(dialog)

    assert [page.tab_key for page in dialog.pages] == ["secondary"]
    assert dialog.tab_widget.currentIndex() == 2
    assert dialog.bindings["secondary.port"].widget.value() == 2525
    assert "primary.host" not in dialog.bindings


def test_lazy_dialog_builds_rest_after_first_frame(qtbot):
    save_settings(Settings({"primary.host": "relay.example.com", "general.errors_to": "ops@example.com"}))
    dialog = EmailOptionsDialog(load_settings(defer_address_checks=True), first_tab="primary")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()

    assert [page.tab_key for page in dialog.pages] == ["general", "primary", "secondary", "queue"]
    assert dialog.tab_widget.currentIndex() == 1
    assert dialog.bindings["primary.host"].widget.text() == "relay.example.com"
    assert dialog.bindings["general.errors_to"].widget.text() == "ops@example.com"
    assert dialog.tab_widget.widget(0) is dialog.general_tab
    assert not dialog.apply_button.isEnabled()


def test_lazy_page_gets_keyring_state(qtbot, test_keyring):
    test_keyring.set_password("alertmail", "secondary", "S3cret!")
    dialog = EmailOptionsDialog(load_settings(), first_tab="general")
    qtbot.addWidget(dialog)
    dialog.check_keyring()

    dialog.tab_widget.setCurrentIndex(2)

    field = dialog.server_tabs["secondary"].password
    assert dialog.tab_widget.currentWidget() is dialog.server_tabs["secondary"]
    assert field.edit.placeholderText().startswith("Stored ")
    assert field.edit.text() == ""


def test_lazy_dialog_reports_problem_on_unbuilt_tab(qtbot):
    dialog = EmailOptionsDialog(load_settings(), first_tab="general")
    qtbot.addWidget(dialog)

    assert not dialog.ok_button.isEnabled()
    assert dialog.problems()[0][0] == "primary.host"
    assert "Mail Server" in dialog.summary.text()


@pytest.mark.parametrize(
    ("arguments", "tab"),
    [([], None), (["--tab", "queue"], "queue"), (["--tab=secondary"], "secondary"), (["--tab", "primary"], "primary")],
)
def test_command_line_usual_forms(arguments, tab):
    assert app.parse_args(arguments).tab == tab


def test_command_line_errors_go_to_argparse(capsys):
    with pytest.raises(SystemExit) as raised:
        app.parse_args(["--tab", "tertiary"])
    assert raised.value.code == 2
    assert "invalid choice: 'tertiary'" in capsys.readouterr().err
