"""Test Email: sends the two test messages from a worker thread, shows the conversation, can be cancelled."""

from __future__ import annotations

import base64
import time

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QWidget

from alertmail.core.secrets import store_password
from alertmail.core.settings import Settings
from alertmail.core.store import config_path, data_dir, save_settings
from gui_support import click, field, open_dialog, set_field

pytestmark = pytest.mark.network

PASSWORD = "Pässwörd€1"


def save_for(port: int, **values) -> bytes:
    """Save settings that send through 127.0.0.1:``port``; return the file's bytes."""
    settings = Settings(
        {
            "general.errors_to": "ops@example.com, noc@example.com",
            "general.reports_to": "reports@example.com",
            "general.from_address": "alerts@example.com",
            "primary.host": "127.0.0.1",
            "primary.port": port,
            "primary.timeout_s": 5,
            **values,
        }
    )
    save_settings(settings)
    return config_path().read_bytes()


def result_text(dialog, server: str = "primary") -> str:
    return dialog.findChild(QLabel, f"testResult_{server}").text()


def transcript_text(dialog, server: str = "primary") -> str:
    return dialog.findChild(QPlainTextEdit, f"transcript_{server}").toPlainText()


def run_test(qtbot, dialog, server: str = "primary") -> list[str]:
    """Click Test Email on ``server``'s tab and wait until its thread has finished."""
    with qtbot.waitSignal(dialog.tests.finished, timeout=15000) as finished:
        click(qtbot, dialog, f"testEmailButton_{server}")
    qtbot.waitUntil(lambda: not dialog.tests.running, timeout=5000)
    assert finished.args[0] == server
    return finished.args[1]


def start_hanging_test(qtbot, dialog, server) -> None:
    """Start a test against a server that never greets; wait until it is connected."""
    click(qtbot, dialog, "testEmailButton_primary")
    assert dialog.tests.running
    qtbot.waitUntil(lambda: server.connections == 1, timeout=5000)


def test_delivers_both_messages(qtbot, smtp_server):
    server = smtp_server()
    original = save_for(server.port)
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert [sorted(message.rcpt_tos) for message in server.handler.received] == [
        ["noc@example.com", "ops@example.com"],
        ["reports@example.com"],
    ]
    assert lines == ["Errors: delivered to 2 recipients", "Reports/Stats: delivered to 1 recipient"]
    assert result_text(dialog) == "\n".join(lines)
    transcript = transcript_text(dialog)
    assert "C: EHLO" in transcript
    assert "S: 250" in transcript
    assert "Errors: delivered to 2 recipients" in transcript
    assert config_path().read_bytes() == original


def test_uses_unsaved_form_values(qtbot, smtp_server):
    server = smtp_server()
    original = save_for(1)
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", server.port)
    set_field(dialog, "general.reports_to", "")

    lines = run_test(qtbot, dialog)

    assert lines == ["Errors: delivered to 2 recipients"]
    assert len(server.handler.received) == 1
    assert config_path().read_bytes() == original


def test_partial_refusal_listed(qtbot, smtp_server):
    server = smtp_server(refuse={"gone@example.com": "550 5.1.1 mailbox unavailable"})
    save_for(server.port, **{"general.errors_to": "ops@example.com; gone@example.com"})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert lines[0].startswith("Errors: 1 of 2 recipients refused: gone@example.com 550 5.1.1 mailbox unavailable")
    assert lines[1] == "Reports/Stats: delivered to 1 recipient"
    assert server.handler.received[0].rcpt_tos == ["ops@example.com"]


def test_failure_names_step_and_reply(qtbot, fault_smtp_server):
    server = fault_smtp_server("greeting_554")
    save_for(server.port)
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert len(lines) == 1
    assert lines[0].startswith("Not sent: greeting failed")
    assert "554" in lines[0]


def test_typed_password_used_and_hidden(qtbot, smtp_server):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save_for(server.port, **{"primary.auth": "smtp", "primary.username": "notify@example.com"})
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.password", PASSWORD)

    lines = run_test(qtbot, dialog)

    assert lines == ["Errors: delivered to 2 recipients", "Reports/Stats: delivered to 1 recipient"]
    assert server.auth_attempts[-1][1:] == ("notify@example.com", True)
    transcript = transcript_text(dialog)
    assert PASSWORD not in transcript
    for secret in (
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(b"\0notify@example.com\0" + PASSWORD.encode()).decode(),
    ):
        assert secret not in transcript
    assert keyring.get_password("alertmail", "primary") is None


def test_stored_password_used(qtbot, smtp_server):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save_for(server.port, **{"primary.auth": "smtp", "primary.username": "notify@example.com"})
    store_password("primary", PASSWORD)
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert lines[0] == "Errors: delivered to 2 recipients"
    assert server.auth_attempts[-1][1:] == ("notify@example.com", True)


def test_missing_password_explained(qtbot, smtp_server):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save_for(server.port, **{"primary.auth": "smtp", "primary.username": "notify@example.com"})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert "could not be read from the keyring" in lines[0]
    assert server.handler.received == []


def test_missing_from_address_explained(qtbot, smtp_server):
    server = smtp_server()
    save_for(server.port, **{"general.from_address": ""})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert lines == ["The test could not run: From address: a From address is required to send mail"]
    assert server.connections == 0


def test_cancel_ends_hanging_test(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    save_for(server.port, **{"primary.timeout_s": 60})
    dialog = open_dialog(qtbot, tab="primary")
    start_hanging_test(qtbot, dialog, server)

    started = time.monotonic()
    with qtbot.waitSignal(dialog.tests.finished, timeout=1000) as finished:
        click(qtbot, dialog, "cancelTestButton_primary")
    qtbot.waitUntil(lambda: not dialog.tests.running, timeout=1000)

    assert time.monotonic() - started < 1.0
    assert finished.args[1] == ["Test cancelled."]
    assert dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert not dialog.findChild(QWidget, "cancelTestButton_primary").isEnabled()


def test_close_mid_test_waits_for_thread(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    save_for(server.port, **{"primary.timeout_s": 60})
    dialog = open_dialog(qtbot, tab="primary")
    start_hanging_test(qtbot, dialog, server)
    thread = dialog.tests.runner.thread

    started = time.monotonic()
    dialog.close()

    assert time.monotonic() - started < 1.0
    assert thread.isFinished()
    assert not dialog.tests.running
    assert not dialog.isVisible()


def test_escape_mid_test_cancels(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    original = save_for(server.port, **{"primary.timeout_s": 60})
    dialog = open_dialog(qtbot, tab="primary")
    start_hanging_test(qtbot, dialog, server)
    thread = dialog.tests.runner.thread

    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    assert thread.isFinished()
    assert config_path().read_bytes() == original


def test_one_test_at_a_time(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    save_for(server.port, **{"primary.timeout_s": 60, "secondary.enabled": True, "secondary.host": "127.0.0.1"})
    dialog = open_dialog(qtbot, tab="primary")
    assert dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()
    start_hanging_test(qtbot, dialog, server)

    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()
    assert dialog.findChild(QWidget, "cancelTestButton_primary").isEnabled()
    assert not dialog.findChild(QWidget, "cancelTestButton_secondary").isEnabled()
    assert dialog.tests.start("secondary") is False
    assert server.connections == 1

    with qtbot.waitSignal(dialog.tests.runner.running_changed, timeout=1000):
        dialog.tests.cancel()
    assert dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()


def test_dialog_responsive_during_test(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    save_for(server.port, **{"primary.timeout_s": 60})
    dialog = open_dialog(qtbot, tab="primary")
    start_hanging_test(qtbot, dialog, server)

    set_field(dialog, "primary.timeout_s", 61)
    dialog.select_tab("general")

    assert dialog.working["primary.timeout_s"] == 61
    assert dialog.apply_button.isEnabled()
    assert dialog.tests.running
    with qtbot.waitSignal(dialog.tests.runner.running_changed, timeout=1000):
        dialog.tests.cancel()


def test_test_bypasses_queue(qtbot, smtp_server):
    server = smtp_server()
    save_for(server.port)
    dialog = open_dialog(qtbot, tab="primary")

    run_test(qtbot, dialog)

    assert len(server.handler.received) == 2
    assert not (data_dir() / "queue.sqlite3").exists()


def test_disabled_server_cannot_be_tested(qtbot, smtp_server):
    server = smtp_server()
    save_for(server.port, **{"primary.enabled": False, "secondary.enabled": True, "secondary.host": "127.0.0.1"})
    dialog = open_dialog(qtbot, tab="primary")

    assert not field(dialog, "primary.host").isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert dialog.tests.start("primary") is False
    assert server.connections == 0
