"""The General tab's mailer and mail log fields, View log and Delete log files."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QSpinBox, QWidget

from alertmail.core.maillog import log_path
from alertmail.core.settings import setting
from alertmail.core.store import load_settings
from gui_queue_support import answer_box
from gui_support import click, field, open_dialog, set_field, write_sample_file

NEW_KEYS = ("mailer.send_interval_s", "mailer.max_attempts", "general.log_enabled", "general.log_verbose")


def write_log(text: str, *rotated: str) -> None:
    """Write the mail log file and rotated copies ``mail.log.1`` and on."""
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    for number, old in enumerate(rotated, start=1):
        path.with_name(f"{path.name}.{number}").write_text(old, encoding="utf-8")


@pytest.mark.parametrize("key", NEW_KEYS)
def test_new_fields_bound_from_declarations(qtbot, key):
    dialog = open_dialog(qtbot)
    declared = setting(key)

    widget = field(dialog, key)

    assert dialog.bindings[key].widget is widget
    assert widget.accessibleName() == declared.plain_label
    assert widget.toolTip() == declared.help
    if declared.kind == "int":
        assert isinstance(widget, QSpinBox)
        assert (widget.minimum(), widget.maximum()) == (declared.minimum, declared.maximum)
        assert dialog.findChild(QLabel, f"label:{key}").text() == declared.label
    else:
        assert isinstance(widget, QCheckBox)
        assert widget.text() == declared.label


def test_mailer_enabled_not_on_general_tab(qtbot):
    dialog = open_dialog(qtbot)

    assert dialog.general_tab.findChild(QWidget, "mailer.enabled") is None
    assert "mailer.enabled" not in dialog.bindings


def test_new_fields_show_file_and_save(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)
    assert field(dialog, "mailer.send_interval_s").value() == 20
    assert field(dialog, "general.log_enabled").isChecked()

    set_field(dialog, "mailer.send_interval_s", 90)
    set_field(dialog, "mailer.max_attempts", 3)
    set_field(dialog, "general.log_verbose", True)
    assert dialog.apply_button.isEnabled()
    click(qtbot, dialog, "applyButton")

    saved = load_settings().settings
    assert saved["mailer.send_interval_s"] == 90
    assert saved["mailer.max_attempts"] == 3
    assert saved["general.log_verbose"] is True
    assert "this comment must survive" in load_settings().path.read_text()
    assert not dialog.apply_button.isEnabled()


def test_edit_undone_disables_apply(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot)

    set_field(dialog, "mailer.max_attempts", 4)
    assert dialog.apply_button.isEnabled()
    set_field(dialog, "mailer.max_attempts", setting("mailer.max_attempts").default)

    assert not dialog.apply_button.isEnabled()


def test_verbose_follows_keep_log(qtbot):
    dialog = open_dialog(qtbot)
    verbose = field(dialog, "general.log_verbose")
    assert verbose.isEnabled()

    set_field(dialog, "general.log_enabled", False)
    assert not verbose.isEnabled()

    set_field(dialog, "general.log_enabled", True)
    assert verbose.isEnabled()


def test_view_log_shows_content(qtbot):
    write_log("2024-05-01 10:00:00 INFO alertmail.mailer: batch through the primary server: 1 sent\n")
    dialog = open_dialog(qtbot)

    click(qtbot, dialog, "viewLogButton")

    viewer = dialog.findChild(QWidget, "logViewer")
    qtbot.waitUntil(viewer.isVisible, timeout=5000)
    text = viewer.findChild(QPlainTextEdit, "logText")
    assert "batch through the primary server: 1 sent" in text.toPlainText()
    assert text.isReadOnly()
    assert str(log_path()) in viewer.findChild(QLabel, "logPath").text()

    write_log("a new line after rotation\n")
    click(qtbot, viewer, "reloadLogButton")

    assert text.toPlainText() == "a new line after rotation\n"
    viewer.close()


def test_view_log_without_log(qtbot):
    dialog = open_dialog(qtbot)

    click(qtbot, dialog, "viewLogButton")

    viewer = dialog.findChild(QWidget, "logViewer")
    qtbot.waitUntil(viewer.isVisible, timeout=5000)
    note = viewer.findChild(QLabel, "logPath").text()
    assert note.startswith("There is no mail log yet at ")
    assert str(log_path()) in note
    assert not viewer.findChild(QPlainTextEdit, "logText").isVisible()
    viewer.close()


def test_delete_log_after_confirmation(qtbot):
    write_log("current\n", "older\n", "oldest\n")
    dialog = open_dialog(qtbot)
    tab = dialog.general_tab

    click(qtbot, dialog, "deleteLogButton")
    answer_box(qtbot, tab, "deleteLogConfirm", None)
    assert log_path().exists()

    click(qtbot, dialog, "deleteLogButton")
    answer_box(qtbot, tab, "deleteLogConfirm", "confirmDeleteLogButton")

    qtbot.waitUntil(lambda: not log_path().exists(), timeout=5000)
    assert not log_path().with_name("mail.log.1").exists()
    assert not log_path().with_name("mail.log.2").exists()
    assert tab.findChild(QLabel, "logMessage").text() == "Deleted the mail log (3 files)."


def test_delete_log_when_none(qtbot):
    dialog = open_dialog(qtbot)

    click(qtbot, dialog, "deleteLogButton")
    answer_box(qtbot, dialog.general_tab, "deleteLogConfirm", "confirmDeleteLogButton")

    label = dialog.general_tab.findChild(QLabel, "logMessage")
    qtbot.waitUntil(label.isVisible, timeout=5000)
    assert label.text() == "There was no mail log to delete."


def test_help_lists_new_fields(qtbot):
    dialog = open_dialog(qtbot)

    entries = dict(dialog.general_tab.help_entries())

    for key in NEW_KEYS:
        assert entries[setting(key).plain_label] == setting(key).help
    assert "View log" in entries
    assert "Delete log files" in entries
