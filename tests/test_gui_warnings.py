"""Warnings, which do not block OK, when the settings let no alert be delivered."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from alertmail.core.store import load_settings
from alertmail.gui.notices import NO_RECIPIENTS_WARNING, NO_SERVER_WARNING
from gui_support import click, open_dialog, set_field, write_sample_file


def shown_text(dialog, name: str) -> str | None:
    """Return the text of the label ``name`` when it is shown on its tab, else ``None``."""
    label = dialog.findChild(QLabel, name)
    assert label is not None, name
    return label.text() if label.isVisibleTo(dialog) else None


def test_no_server_warns_on_server_tabs_and_summary(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    assert shown_text(dialog, "deliveryWarning_primary") is None
    assert shown_text(dialog, "warningSummary") is None

    set_field(dialog, "primary.enabled", False)

    assert shown_text(dialog, "deliveryWarning_primary") == NO_SERVER_WARNING
    assert shown_text(dialog, "warningSummary") == NO_SERVER_WARNING
    dialog.select_tab("secondary")
    assert shown_text(dialog, "deliveryWarning_secondary") == NO_SERVER_WARNING
    assert shown_text(dialog, "deliveryWarning_general") is None


def test_no_server_warning_does_not_block_ok(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.enabled", False)
    assert dialog.ok_button.isEnabled()

    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog, "okButton")

    assert load_settings().settings["primary.enabled"] is False


def test_secondary_alone_is_enough(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="secondary")
    set_field(dialog, "secondary.enabled", True)
    set_field(dialog, "secondary.host", "relay.example.net")

    set_field(dialog, "primary.enabled", False)

    assert shown_text(dialog, "deliveryWarning_secondary") is None
    assert shown_text(dialog, "warningSummary") is None


def test_no_recipients_warns_on_general_tab(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)

    set_field(dialog, "general.errors_to", "")
    assert shown_text(dialog, "deliveryWarning_general") is None
    set_field(dialog, "general.reports_to", "")

    assert shown_text(dialog, "deliveryWarning_general") == NO_RECIPIENTS_WARNING
    assert shown_text(dialog, "warningSummary") == NO_RECIPIENTS_WARNING
    assert dialog.ok_button.isEnabled()
    set_field(dialog, "general.reports_to", "reports@example.com")
    assert shown_text(dialog, "deliveryWarning_general") is None
    assert shown_text(dialog, "warningSummary") is None


def test_both_warnings_in_summary(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)
    set_field(dialog, "general.errors_to", "")
    set_field(dialog, "general.reports_to", "")

    set_field(dialog, "primary.enabled", False)

    assert shown_text(dialog, "warningSummary").splitlines() == [NO_SERVER_WARNING, NO_RECIPIENTS_WARNING]


def test_warnings_beside_error_summary(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "general.errors_to", "")
    set_field(dialog, "general.reports_to", "")

    set_field(dialog, "primary.host", "")

    assert "Server Name / Address" in shown_text(dialog, "problemSummary")
    assert shown_text(dialog, "warningSummary") == NO_RECIPIENTS_WARNING
    assert not dialog.ok_button.isEnabled()
