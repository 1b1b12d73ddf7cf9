"""The password field: masked, never filled from the keyring, saved only when typed or cleared."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox, QStyle, QStyleOptionFrame, QWidget

from alertmail.core.secrets import SERVICE, store_password
from alertmail.core.store import config_path, load_settings
from gui_support import click, field, open_dialog, set_field, write_sample_file
from keyring_backends import ReadOnlyKeyring, install


def stored_password(server: str = "primary") -> str | None:
    return keyring.get_password(SERVICE, server)


def use_smtp_auth(dialog) -> None:
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "notify@example.com")


@pytest.fixture
def sample_with_auth(qtbot):
    """A settings file whose primary server logs in with SMTP AUTH."""
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    use_smtp_auth(dialog)
    click(qtbot, dialog, "okButton")
    return load_settings().settings


def test_stored_password_shows_placeholder(qtbot, sample_with_auth):
    store_password("primary", "S3cret!")
    dialog = open_dialog(qtbot, tab="primary")
    edit = field(dialog, "primary.password")
    backend = keyring.get_keyring().name

    assert edit.text() == ""
    assert edit.placeholderText() == "Stored \N{EM DASH} type to replace"
    assert backend in dialog.findChild(QLabel, "keyringLabel_primary").text()
    assert edit.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.findChild(QWidget, "clearPassword_primary").isEnabled()


def test_no_stored_password_placeholder(qtbot, sample_with_auth):
    dialog = open_dialog(qtbot, tab="primary")

    assert field(dialog, "primary.password").placeholderText() == "No password stored"
    assert not dialog.findChild(QWidget, "clearPassword_primary").isEnabled()


def test_show_toggle_unmasks_typed_text(qtbot, sample_with_auth):
    dialog = open_dialog(qtbot, tab="primary")
    edit = field(dialog, "primary.password")
    set_field(dialog, "primary.password", "S3cret!")

    click(qtbot, dialog, "showPassword_primary")
    assert edit.echoMode() == QLineEdit.EchoMode.Normal
    click(qtbot, dialog, "showPassword_primary")
    assert edit.echoMode() == QLineEdit.EchoMode.Password


def test_keyring_label_names_backend(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    label = dialog.findChild(QLabel, "keyringLabel_primary")

    assert keyring.get_keyring().name in label.text()


def test_keyring_label_without_backend(qtbot):
    keyring.set_keyring(fail.Keyring())
    dialog = open_dialog(qtbot, tab="primary")
    label = dialog.findChild(QLabel, "keyringLabel_primary")

    assert "No keyring backend" in label.text()
    assert "cannot be saved" in label.text()


def test_typed_password_enables_apply(qtbot, sample_with_auth):
    dialog = open_dialog(qtbot, tab="primary")
    assert not dialog.apply_button.isEnabled()

    set_field(dialog, "primary.password", "S3cret!")
    assert dialog.apply_button.isEnabled()
    set_field(dialog, "primary.password", "")
    assert not dialog.apply_button.isEnabled()


def test_password_survives_later_saves(qtbot, sample_with_auth):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.password", "S3cret!")
    click(qtbot, dialog, "okButton")
    assert stored_password() == "S3cret!"

    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 587)
    click(qtbot, dialog, "okButton")
    assert load_settings().settings["primary.port"] == 587
    assert stored_password() == "S3cret!"

    dialog = open_dialog(qtbot, tab="primary")
    click(qtbot, dialog, "okButton")
    assert stored_password() == "S3cret!"

    dialog = open_dialog(qtbot, tab="primary")
    click(qtbot, dialog, "clearPassword_primary")
    assert dialog.apply_button.isEnabled()
    click(qtbot, dialog, "okButton")
    assert stored_password() is None

    text = config_path().read_text(encoding="utf-8")
    assert "S3cret!" not in text
    assert "Stored in" not in text


def test_clear_then_apply_updates_placeholder(qtbot, sample_with_auth):
    store_password("primary", "S3cret!")
    dialog = open_dialog(qtbot, tab="primary")

    click(qtbot, dialog, "clearPassword_primary")
    assert field(dialog, "primary.password").placeholderText() == "Removed when you press OK or Apply"
    assert stored_password() == "S3cret!"
    click(qtbot, dialog, "applyButton")

    assert stored_password() is None
    assert field(dialog, "primary.password").placeholderText() == "No password stored"
    assert not dialog.apply_button.isEnabled()


def test_typed_password_replaces_stored(qtbot, sample_with_auth):
    store_password("primary", "Old-password")
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.password", "Pässwörd€1")
    click(qtbot, dialog, "applyButton")

    assert stored_password() == "Pässwörd€1"
    assert field(dialog, "primary.password").text() == ""
    assert field(dialog, "primary.password").placeholderText().startswith("Stored ")


def test_rejected_write_keeps_old_password(qtbot, sample_with_auth, test_keyring):
    store_password("primary", "S3cret!")
    install(ReadOnlyKeyring, test_keyring)
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 2525)
    set_field(dialog, "primary.password", "New-password")

    with qtbot.waitSignal(dialog.password_not_saved) as rejected:
        click(qtbot, dialog, "okButton")

    server, message = rejected.args
    assert server == "primary"
    assert "other settings were saved" in message
    assert "Access denied by the keyring daemon" in message
    assert "password stored before is unchanged" in message
    assert load_settings().settings["primary.port"] == 2525
    assert stored_password() == "S3cret!"
    assert dialog.isVisible()
    box = dialog.findChild(QMessageBox, "passwordErrorBox")
    assert box is not None
    assert box.text() == message
    box.accept()


def test_without_backend_typed_password_reported(qtbot, sample_with_auth):
    keyring.set_keyring(fail.Keyring())
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.timeout_s", 12)
    set_field(dialog, "primary.password", "S3cret!")

    with qtbot.waitSignal(dialog.password_not_saved) as rejected:
        click(qtbot, dialog, "applyButton")

    assert "no keyring backend is available" in rejected.args[1]
    assert load_settings().settings["primary.timeout_s"] == 12
    assert "S3cret!" not in config_path().read_text(encoding="utf-8")


def text_room(edit: QLineEdit) -> int:
    """Return the width in pixels that ``edit`` has for its text or placeholder."""
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    contents = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, edit)
    # QLineEdit keeps 2 pixels free on either side of its text.
    return contents.width() - 4


def test_placeholders_fit_at_default_size(qtbot, sample_with_auth):
    store_password("primary", "S3cret!")
    dialog = open_dialog(qtbot, tab="primary")
    edit = field(dialog, "primary.password")
    qtbot.waitUntil(lambda: edit.width() > 0)
    placeholders = [edit.placeholderText()]

    click(qtbot, dialog, "clearPassword_primary")
    placeholders.append(edit.placeholderText())

    for text in placeholders:
        assert edit.fontMetrics().horizontalAdvance(text) <= text_room(edit), text
    assert placeholders == ["Stored \N{EM DASH} type to replace", "Removed when you press OK or Apply"]
