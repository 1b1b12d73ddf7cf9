"""Invalid values are marked at the field, named in the summary line, and hold back OK, Apply and Test Email."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

from alertmail.core.store import config_path
from gui_support import field, open_dialog, set_field, write_sample_file

INJECTED = "alerts@example.com\r\nRCPT TO:<x@example.net>"


def error_text(dialog, key: str) -> str | None:
    """Return the reason shown under the field of ``key``, or None when its row is hidden."""
    label = dialog.findChild(QLabel, f"error:{key}")
    page = dialog.tab_widget.currentWidget()
    return label.text() if label.isVisibleTo(page) else None


def test_enabled_server_without_host_marked(qtbot):
    dialog = open_dialog(qtbot, tab="primary")

    reason = error_text(dialog, "primary.host")
    assert reason is not None
    assert "server name or address is required" in reason
    assert "Server Name / Address" in dialog.summary.text()
    assert "border" in field(dialog, "primary.host").styleSheet()
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()


def test_fixing_host_clears_mark(qtbot):
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.host", "smtp.example.com")

    assert error_text(dialog, "primary.host") is None
    assert field(dialog, "primary.host").styleSheet() == ""
    assert dialog.summary.text() == ""
    assert dialog.ok_button.isEnabled()
    assert dialog.apply_button.isEnabled()


def test_recipients_separators_only_rejected(qtbot):
    original = write_sample_file()
    dialog = open_dialog(qtbot)

    set_field(dialog, "general.errors_to", " ; , ")

    reason = error_text(dialog, "general.errors_to")
    assert reason is not None
    assert "no address" in reason
    assert dialog.summary.text().startswith("General")
    assert "no address" in dialog.summary.text()
    assert dialog.working["general.errors_to"] == ["ops@example.com"]
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert config_path().read_bytes() == original


@pytest.mark.parametrize(
    "tab, key",
    [
        ("general", "general.from_address"),
        ("general", "general.errors_to"),
        ("general", "general.from_name"),
        ("primary", "primary.host"),
    ],
)
def test_pasted_line_break_never_reaches_model(qtbot, tab, key):
    original = write_sample_file()
    dialog = open_dialog(qtbot, tab=tab)
    before = dialog.working[key]
    edit = field(dialog, key)
    QGuiApplication.clipboard().setText(INJECTED)

    edit.selectAll()
    edit.paste()

    assert edit.text() == INJECTED
    assert "line breaks" in error_text(dialog, key)
    assert dialog.working[key] == before
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert dialog.apply() is False
    assert config_path().read_bytes() == original


def test_line_break_in_username_blocks_saving(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "notify@example.com")
    QGuiApplication.clipboard().setText("notify\nAUTH PLAIN x")

    field(dialog, "primary.username").selectAll()
    field(dialog, "primary.username").paste()

    assert "line breaks" in error_text(dialog, "primary.username")
    assert dialog.working["primary.username"] == "notify@example.com"
    assert not dialog.ok_button.isEnabled()


def test_line_break_in_password_blocks_saving(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "notify@example.com")
    QGuiApplication.clipboard().setText("S3cret!\r\nQUIT")

    field(dialog, "primary.password").paste()

    assert "line breaks" in error_text(dialog, "primary.password")
    assert not dialog.ok_button.isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()


def test_host_with_port_points_to_port_field(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.host", "localhost:2525")

    reason = error_text(dialog, "primary.host")
    assert "Port field" in reason
    assert "Port field" in dialog.summary.text()
    assert dialog.working["primary.host"] == "127.0.0.1"
    assert not dialog.ok_button.isEnabled()


def test_host_forms_accepted(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")

    for text, stored in [(" 127.0.0.1 ", "127.0.0.1"), ("::1", "::1"), ("[::1]", "::1")]:
        set_field(dialog, "primary.host", text)
        assert error_text(dialog, "primary.host") is None, text
        assert dialog.working["primary.host"] == stored, text


def test_invalid_from_address_marked(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)

    set_field(dialog, "general.from_address", "alerts at example.com")

    assert "not a valid e-mail address" in error_text(dialog, "general.from_address")
    assert dialog.working["general.from_address"] == "alerts@example.com"
    assert not dialog.ok_button.isEnabled()


def test_general_problem_blocks_both_tests(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "secondary.enabled", True)
    set_field(dialog, "secondary.host", "127.0.0.1")
    assert dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()

    set_field(dialog, "general.reports_to", ";")

    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()


def test_server_problem_blocks_only_its_test(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="secondary")
    set_field(dialog, "secondary.enabled", True)
    set_field(dialog, "secondary.host", "127.0.0.1")

    set_field(dialog, "primary.host", "smtp.example.com:25")

    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert dialog.findChild(QWidget, "testEmailButton_secondary").isEnabled()
    assert not dialog.ok_button.isEnabled()


def test_summary_names_first_problem(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.host", "")
    set_field(dialog, "general.from_address", "not-an-address")

    assert dialog.summary.text().startswith("General")
    assert "From address" in dialog.summary.text()


def test_auth_username_required(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.auth", "smtp")

    assert "user name is required" in error_text(dialog, "primary.username")
    assert not dialog.ok_button.isEnabled()
    set_field(dialog, "primary.username", "notify@example.com")
    assert error_text(dialog, "primary.username") is None
    assert dialog.ok_button.isEnabled()


def test_smtp_auth_without_encryption_warns(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    warning = dialog.findChild(QLabel, "authWarning_primary")
    page = dialog.tab_widget.currentWidget()
    assert not warning.isVisibleTo(page)

    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "notify@example.com")

    assert warning.isVisibleTo(page)
    assert "unencrypted" in warning.text()
    assert dialog.ok_button.isEnabled()
    assert dialog.apply_button.isEnabled()

    set_field(dialog, "primary.security", "starttls")
    assert not warning.isVisibleTo(page)


def test_valid_file_shows_no_problems(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)

    assert dialog.problems() == []
    assert dialog.summary.text() == ""
    assert not dialog.summary.isVisible()
