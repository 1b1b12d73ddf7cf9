"""The dialog's fields are bound to the settings model; Apply, Restore Defaults, OK and Cancel follow it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox, QWidget

from alertmail.core import settings as declared
from alertmail.core.settings import USUAL_PORTS, Settings
from alertmail.core.store import config_path, load_settings, save_settings
from gui_support import click, field, open_dialog, set_field, write_sample_file

SHOWN_GENERAL_KEYS = {
    "general.errors_to",
    "general.reports_to",
    "general.from_address",
    "general.from_name",
}


def test_binding_covers_shown_settings(qtbot):
    dialog = open_dialog(qtbot)
    bound = set(dialog.bindings)
    declared_keys = set(declared.keys())
    server_keys = {key for key in declared_keys if key.partition(".")[0] in declared.SERVERS}

    assert bound <= declared_keys
    assert server_keys <= bound
    assert SHOWN_GENERAL_KEYS <= bound
    named = {widget.objectName() for widget in dialog.findChildren(QWidget)} & declared_keys
    assert named == bound
    for key, binding in dialog.bindings.items():
        assert binding.widget.objectName() == key


def test_form_shows_saved_settings(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)

    assert field(dialog, "general.errors_to").text() == "ops@example.com"
    assert field(dialog, "general.from_name").text() == "Network Alerts"
    assert field(dialog, "primary.host").text() == "127.0.0.1"
    assert field(dialog, "primary.port").value() == 25
    assert dialog.working == load_settings().settings


def test_apply_enabled_only_while_changed(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    assert not dialog.apply_button.isEnabled()

    set_field(dialog, "primary.port", 2525)
    assert dialog.apply_button.isEnabled()
    set_field(dialog, "primary.port", 25)
    assert not dialog.apply_button.isEnabled()

    set_field(dialog, "general.from_name", "Night shift")
    assert dialog.apply_button.isEnabled()
    set_field(dialog, "general.from_name", "Network Alerts")
    assert not dialog.apply_button.isEnabled()


def test_edit_updates_working_copy_only(qtbot):
    original = write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.timeout_s", 45)

    assert dialog.working["primary.timeout_s"] == 45
    assert dialog.saved_settings["primary.timeout_s"] == 30
    assert config_path().read_bytes() == original


def test_apply_saves_and_keeps_comments(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 2525)

    with qtbot.waitSignal(dialog.saved) as saved:
        click(qtbot, dialog, "applyButton")

    text = config_path().read_text(encoding="utf-8")
    assert saved.args[0]["primary.port"] == 2525
    assert load_settings().settings["primary.port"] == 2525
    assert "# Kept by the administrator: this comment must survive." in text
    assert "# the relay in the server room" in text
    assert not dialog.apply_button.isEnabled()
    assert dialog.isVisible()


def test_ok_applies_and_closes(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="general")
    set_field(dialog, "general.from_address", "noc@example.com")

    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog, "okButton")

    assert not dialog.isVisible()
    assert load_settings().settings["general.from_address"] == "noc@example.com"


def test_ok_without_changes_writes_nothing(qtbot):
    original = write_sample_file()
    before = config_path().stat().st_mtime_ns
    dialog = open_dialog(qtbot)

    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog, "okButton")

    assert config_path().read_bytes() == original
    assert config_path().stat().st_mtime_ns == before


def test_first_run_ok_creates_file(qtbot):
    assert not config_path().parent.exists()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.host", "smtp.example.com")

    click(qtbot, dialog, "okButton")

    assert config_path().exists()
    assert load_settings().settings["primary.host"] == "smtp.example.com"


def test_cancel_discards_edits(qtbot):
    original = write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 587)
    set_field(dialog, "general.errors_to", "other@example.com")

    with qtbot.waitSignal(dialog.rejected):
        click(qtbot, dialog, "cancelButton")

    assert config_path().read_bytes() == original
    assert sorted(path.name for path in config_path().parent.iterdir()) == ["alertmail.toml"]


def test_escape_discards_edits(qtbot):
    original = write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 587)

    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    assert not dialog.isVisible()
    assert config_path().read_bytes() == original


def test_restore_defaults_fills_form_saves_nothing(qtbot):
    original = write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    assert dialog.restore_button.isEnabled()

    click(qtbot, dialog, "restoreDefaultsButton")

    assert dialog.working == Settings()
    assert field(dialog, "primary.host").text() == ""
    assert field(dialog, "general.errors_to").text() == ""
    assert field(dialog, "primary.port").value() == declared.setting("primary.port").default
    assert not dialog.restore_button.isEnabled()
    assert config_path().read_bytes() == original


def test_restore_defaults_enabled_while_form_differs(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    assert not dialog.restore_button.isEnabled()

    set_field(dialog, "primary.timeout_s", 31)
    assert dialog.restore_button.isEnabled()
    set_field(dialog, "primary.timeout_s", declared.setting("primary.timeout_s").default)
    assert not dialog.restore_button.isEnabled()


def test_spin_boxes_take_declared_ranges(qtbot):
    dialog = open_dialog(qtbot)
    spins = [binding for binding in dialog.bindings.values() if isinstance(binding.widget, QSpinBox)]

    assert {binding.key for binding in spins} >= {"primary.port", "secondary.pop_port", "primary.timeout_s"}
    for binding in spins:
        assert binding.widget.minimum() == binding.declared.minimum
        assert binding.widget.maximum() == binding.declared.maximum


def test_security_moves_untouched_port(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    assert field(dialog, "primary.port").value() == USUAL_PORTS["none"]

    set_field(dialog, "primary.security", "starttls")
    assert field(dialog, "primary.port").value() == 587
    set_field(dialog, "primary.security", "tls")
    assert field(dialog, "primary.port").value() == 465
    set_field(dialog, "primary.security", "none")
    assert field(dialog, "primary.port").value() == 25
    assert dialog.working["primary.port"] == 25


def test_security_keeps_port_chosen_by_hand(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 2525)

    set_field(dialog, "primary.security", "starttls")

    assert field(dialog, "primary.port").value() == 2525
    assert dialog.working["primary.port"] == 2525


def test_use_this_server_off_disables_the_rest(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    others = ["host", "port", "timeout_s", "security", "auth", "username", "pop_host", "pop_port"]
    assert field(dialog, "primary.host").isEnabled()
    assert dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()

    set_field(dialog, "primary.enabled", False)

    for name in others:
        assert not field(dialog, f"primary.{name}").isEnabled(), name
    assert not field(dialog, "primary.password").isEnabled()
    assert not dialog.findChild(QWidget, "testEmailButton_primary").isEnabled()
    assert field(dialog, "primary.enabled").isEnabled()


def test_auth_type_enables_credentials_and_pop(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    credentials = ["primary.username", "primary.password"]
    pop = ["primary.pop_host", "primary.pop_port"]

    for key in credentials + pop:
        assert not field(dialog, key).isEnabled(), key

    set_field(dialog, "primary.auth", "smtp")
    for key in credentials:
        assert field(dialog, key).isEnabled(), key
    for key in pop:
        assert not field(dialog, key).isEnabled(), key

    set_field(dialog, "primary.auth", "pop_before_smtp")
    for key in credentials + pop:
        assert field(dialog, key).isEnabled(), key


def test_save_of_new_file_round_trips(qtbot):
    save_settings(Settings({"secondary.enabled": True, "secondary.host": "::1", "secondary.port": 2526}))
    dialog = open_dialog(qtbot, tab="secondary")

    assert field(dialog, "secondary.enabled").isChecked()
    assert field(dialog, "secondary.host").text() == "::1"
    assert field(dialog, "secondary.port").value() == 2526


def type_port(qtbot, dialog, key: str, text: str) -> None:
    """Replace the port in the field of ``key`` by typing ``text``, as a user would."""
    spin = field(dialog, key)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    assert spin.value() == int(text)


def test_security_keeps_typed_usual_port(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    type_port(qtbot, dialog, "primary.port", "25")

    set_field(dialog, "primary.security", "starttls")

    assert field(dialog, "primary.port").value() == 25
    assert dialog.working["primary.port"] == 25


def test_security_keeps_port_typed_and_typed_back(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    type_port(qtbot, dialog, "primary.port", "2525")
    type_port(qtbot, dialog, "primary.port", "25")

    set_field(dialog, "primary.security", "tls")

    assert dialog.working["primary.port"] == 25


def test_security_moves_loaded_usual_port(qtbot):
    save_settings(Settings({"secondary.enabled": True, "secondary.host": "::1",
                            "secondary.security": "starttls", "secondary.port": 587}))
    dialog = open_dialog(qtbot, tab="secondary")

    set_field(dialog, "secondary.security", "tls")

    assert field(dialog, "secondary.port").value() == 465
    assert dialog.working["secondary.port"] == 465


def test_security_keeps_loaded_unusual_port(qtbot):
    save_settings(Settings({"primary.host": "::1", "primary.security": "starttls", "primary.port": 25}))
    dialog = open_dialog(qtbot, tab="primary")

    set_field(dialog, "primary.security", "tls")

    assert dialog.working["primary.port"] == 25


def test_port_edit_tracked_per_server(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    type_port(qtbot, dialog, "primary.port", "25")
    dialog.select_tab("secondary")
    set_field(dialog, "secondary.enabled", True)

    set_field(dialog, "secondary.security", "starttls")
    set_field(dialog, "primary.security", "starttls")

    assert dialog.working["secondary.port"] == 587
    assert dialog.working["primary.port"] == 25


def test_restore_defaults_forgets_port_edits(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    type_port(qtbot, dialog, "primary.port", "2525")

    click(qtbot, dialog, "restoreDefaultsButton")
    set_field(dialog, "primary.security", "starttls")

    assert field(dialog, "primary.port").value() == 587
    assert dialog.working["primary.port"] == 587
