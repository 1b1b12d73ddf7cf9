"""Enter presses OK from a field and a focused button itself; Tab runs from the tab bar through the page to the buttons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QWidget

from alertmail.core.store import config_path, load_settings
from alertmail.gui.dialog import EmailOptionsDialog
from gui_support import field, open_dialog, set_field, write_sample_file

TABS = ["general", "primary", "secondary", "queue"]


def focus(qtbot, widget: QWidget) -> None:
    """Give ``widget`` the keyboard focus and wait until it has it."""
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (widget, widget.focusProxy()))


def active_dialog(qtbot, tab: str) -> EmailOptionsDialog:
    dialog = open_dialog(qtbot, tab=tab)
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    return dialog


def default_buttons(dialog) -> list[str]:
    return [button.objectName() for button in dialog.findChildren(QPushButton) if button.isDefault()]


@pytest.mark.parametrize("tab", TABS)
def test_only_ok_is_default(qtbot, tab):
    write_sample_file()
    dialog = active_dialog(qtbot, tab)

    for button in dialog.findChildren(QPushButton):
        if button is not dialog.ok_button:
            assert not button.autoDefault(), button.objectName()
        if button.isVisible() and button.isEnabled():
            focus(qtbot, button)
            assert default_buttons(dialog) == ["okButton"], button.objectName()


@pytest.mark.parametrize("name", ["cancelButton", "restoreDefaultsButton"])
def test_enter_on_focused_button_presses_it(qtbot, name):
    original = write_sample_file()
    dialog = active_dialog(qtbot, "general")
    set_field(dialog, "general.from_name", "Changed, not saved")
    button = dialog.findChild(QPushButton, name)
    focus(qtbot, button)

    qtbot.keyClick(button, Qt.Key.Key_Return)

    assert config_path().read_bytes() == original
    if name == "cancelButton":
        assert dialog.result() == QDialog.DialogCode.Rejected
        assert not dialog.isVisible()
    else:
        assert dialog.isVisible()
        assert field(dialog, "general.from_name").text() == ""


def fill_server(dialog, tab: str) -> None:
    """Enable every field of a server tab with valid values."""
    set_field(dialog, f"{tab}.enabled", True)
    set_field(dialog, f"{tab}.host", "smtp.example.com")
    set_field(dialog, f"{tab}.auth", "pop_before_smtp")
    set_field(dialog, f"{tab}.username", "notify")
    set_field(dialog, f"{tab}.pop_host", "pop.example.com")


def open_filled(qtbot, tab: str) -> EmailOptionsDialog:
    dialog = active_dialog(qtbot, tab)
    if tab != "general":
        fill_server(dialog, tab)
    return dialog


@pytest.mark.parametrize("tab", ["general", "primary", "secondary"])
def test_enter_in_every_field_presses_ok(qtbot, tab):
    write_sample_file()
    probe = open_filled(qtbot, tab)
    keys = probe.tab_widget.currentWidget().field_keys()
    assert all(field(probe, key).isEnabled() for key in keys)
    probe.reject()

    for key in keys:
        dialog = open_filled(qtbot, tab)
        set_field(dialog, "general.from_name", f"Night shift {key}")
        focus(qtbot, field(dialog, key))

        with qtbot.waitSignal(dialog.accepted, timeout=2000):
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)

        assert dialog.findChild(QWidget, "helpDialog") is None, key
        assert load_settings().settings["general.from_name"] == f"Night shift {key}"


def test_enter_while_ok_disabled_does_nothing(qtbot):
    dialog = active_dialog(qtbot, "primary")
    set_field(dialog, "primary.host", "smtp.example.com:587")
    assert not dialog.ok_button.isEnabled()
    host = field(dialog, "primary.host")
    focus(qtbot, host)

    qtbot.keyClick(host, Qt.Key.Key_Return)
    qtbot.keyClick(host, Qt.Key.Key_Enter)

    assert dialog.isVisible()
    assert dialog.findChild(QWidget, "helpDialog") is None
    assert dialog.result() == 0
    assert not config_path().exists()


def focus_names(qtbot, dialog, count: int) -> list[str]:
    """Press Tab ``count`` times from the tab bar; return the object names that got focus."""
    tab_bar = dialog.tab_widget.tabBar()
    focus(qtbot, tab_bar)
    names = ["tabBar"]
    for _ in range(count):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if widget is tab_bar:
            names.append("tabBar")
            continue
        while widget is not None and not widget.objectName():
            widget = widget.parentWidget()
        names.append(widget.objectName())
    return names


def enabled_buttons_left_to_right(dialog) -> list[str]:
    buttons = [button for button in dialog.buttons.buttons() if button.isEnabled()]
    return [button.objectName() for button in sorted(buttons, key=lambda button: button.x())]


def test_tab_order_general_tab_to_buttons(qtbot):
    write_sample_file()
    dialog = active_dialog(qtbot, "general")
    fields = [
        "general.errors_to", "general.reports_to", "general.from_address", "general.from_name",
        "mailer.send_interval_s", "mailer.max_attempts", "general.log_enabled", "general.log_verbose",
        "viewLogButton", "deleteLogButton",
    ]
    buttons = enabled_buttons_left_to_right(dialog)

    names = focus_names(qtbot, dialog, len(fields) + len(buttons) + 1)

    assert names == ["tabBar", *fields, *buttons, "tabBar"]


def test_tab_order_server_tab_to_buttons(qtbot):
    write_sample_file()
    dialog = active_dialog(qtbot, "primary")
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "notify")
    fields = [
        "primary.enabled", "primary.host", "primary.port", "primary.timeout_s", "primary.security",
        "primary.auth", "primary.username", "primary.password", "showPassword_primary",
        "testEmailButton_primary", "transcript_primary",
    ]
    buttons = enabled_buttons_left_to_right(dialog)

    names = focus_names(qtbot, dialog, len(fields) + len(buttons))

    assert names == ["tabBar", *fields, *buttons]


def test_tab_order_of_page_built_later(qtbot):
    write_sample_file()
    dialog = EmailOptionsDialog(load_settings(), first_tab="queue")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.keyring_checked, timeout=5000):
        dialog.show()
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    dialog.select_tab("secondary")
    set_field(dialog, "secondary.enabled", True)
    buttons = enabled_buttons_left_to_right(dialog)

    names = focus_names(qtbot, dialog, 6)
    focus(qtbot, dialog.findChild(QWidget, buttons[0]))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)

    assert names == [
        "tabBar", "secondary.enabled", "secondary.host", "secondary.port", "secondary.timeout_s",
        "secondary.security", "secondary.auth",
    ]
    assert QApplication.focusWidget().objectName() == "transcript_secondary"
