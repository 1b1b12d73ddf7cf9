"""Keyboard use and accessibility: mnemonics, buddies, tab order, accessible names, tooltips, help."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QTabBar,
    QTextBrowser,
    QWidget,
)

from alertmail.core.settings import setting
from gui_support import field, open_dialog, set_field, write_sample_file

PAGES = ["general", "primary", "secondary", "queue"]
# Buttons without a mnemonic and the standard key that presses each.
STANDARD_KEYS = {"okButton": "Return", "cancelButton": "Esc", "helpButton": "F1"}


def mnemonic(text: str) -> str | None:
    """Return the lower-case mnemonic letter of ``text``, or None."""
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def visible_mnemonics(dialog) -> list[tuple[str, str]]:
    """Return ``(letter, text)`` for every mnemonic reachable on the current tab."""
    page = dialog.tab_widget.currentWidget()
    texts = [dialog.tab_widget.tabText(index) for index in range(dialog.tab_widget.count())]
    texts += [button.text() for button in dialog.buttons.buttons()]
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page):
            continue
        if isinstance(widget, QLabel) and widget.buddy() is not None:
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
    return [(mnemonic(text), text) for text in texts if mnemonic(text)]


# The authentication type and identity provider of each server tab case.
SERVER_CASES = [
    pytest.param(server, auth, provider, id=f"{server}-{auth}-{provider}" if provider else f"{server}-{auth}")
    for server in ("primary", "secondary")
    for auth, provider in (
        ("pop_before_smtp", None), ("oauth2", "microsoft365"), ("oauth2", "google"), ("oauth2", "other"),
    )
]


@pytest.mark.parametrize(
    "tab, auth, provider", [("general", None, None), ("queue", None, None), *SERVER_CASES]
)
def test_mnemonics_unique_per_tab(qtbot, tab, auth, provider):
    dialog = open_dialog(qtbot, tab=tab)
    if tab in ("primary", "secondary"):
        set_field(dialog, f"{tab}.enabled", True)
        set_field(dialog, f"{tab}.auth", auth)
    if provider:
        set_field(dialog, f"{tab}.oauth_provider", provider)

    found = visible_mnemonics(dialog)

    texts_by_letter: dict[str, list[str]] = {}
    for letter, text in found:
        texts_by_letter.setdefault(letter, []).append(text)
    duplicates = {letter: texts for letter, texts in texts_by_letter.items() if len(texts) > 1}
    assert duplicates == {}
    assert len(found) >= 8


def test_test_email_is_alt_t(qtbot):
    dialog = open_dialog(qtbot, tab="primary")

    for server in ("primary", "secondary"):
        assert dialog.findChild(QWidget, f"testEmailButton_{server}").text() == "&Test Email"


def test_labels_are_buddies_with_mnemonics(qtbot):
    dialog = open_dialog(qtbot)

    for key, binding in dialog.bindings.items():
        declared = setting(key)
        if declared.kind == "bool":
            assert binding.widget.text() == declared.label
            continue
        label = dialog.findChild(QLabel, f"label:{key}")
        assert label is not None, key
        assert label.text() == declared.label
        assert label.buddy() is binding.widget
        assert mnemonic(label.text()) is not None, key
    for server in ("primary", "secondary"):
        label = dialog.findChild(QLabel, f"label:{server}.password")
        assert label.buddy() is field(dialog, f"{server}.password")
        assert mnemonic(label.text()) == "w"


def test_inputs_have_accessible_names_and_tooltips(qtbot):
    dialog = open_dialog(qtbot)

    for key, binding in dialog.bindings.items():
        declared = setting(key)
        assert binding.widget.accessibleName() == declared.plain_label
        assert binding.widget.toolTip() == declared.help
    for server in ("primary", "secondary"):
        password = field(dialog, f"{server}.password")
        assert password.accessibleName() == "Password"
        assert "keyring" in password.toolTip()
        assert dialog.findChild(QWidget, f"transcript_{server}").accessibleName() == "SMTP conversation"


def focus_sequence(qtbot, dialog, first: QWidget, count: int) -> list[str]:
    """Press Tab ``count`` times from ``first``; return the object names that got focus."""
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is first)
    names = [first.objectName()]
    for _ in range(count):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        while widget is not None and not widget.objectName():
            widget = widget.parentWidget()
        names.append(widget.objectName())
    return names


def test_tab_order_server_tab(qtbot):
    write_sample_file()
    dialog = open_dialog(qtbot, tab="primary")
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    set_field(dialog, "primary.auth", "pop_before_smtp")
    set_field(dialog, "primary.username", "notify")
    set_field(dialog, "primary.pop_host", "127.0.0.1")
    set_field(dialog, "primary.password", "typed")

    names = focus_sequence(qtbot, dialog, field(dialog, "primary.enabled"), 13)

    assert names == [
        "primary.enabled",
        "primary.host",
        "primary.port",
        "primary.timeout_s",
        "primary.security",
        "primary.auth",
        "primary.username",
        "primary.password",
        "showPassword_primary",
        "clearPassword_primary",
        "primary.pop_host",
        "primary.pop_port",
        "testEmailButton_primary",
        "transcript_primary",
    ]


def test_tab_order_general_tab(qtbot):
    dialog = open_dialog(qtbot, tab="general")
    dialog.activateWindow()
    qtbot.waitActive(dialog)

    names = focus_sequence(qtbot, dialog, field(dialog, "general.errors_to"), 3)

    assert names == ["general.errors_to", "general.reports_to", "general.from_address", "general.from_name"]


@pytest.mark.parametrize("tab", PAGES)
def test_help_button_shows_current_tab(qtbot, tab):
    dialog = open_dialog(qtbot, tab=tab)
    page = dialog.tab_widget.currentWidget()

    qtbot.mouseClick(dialog.findChild(QWidget, "helpButton"), Qt.MouseButton.LeftButton)

    help_dialog = dialog.findChild(QWidget, "helpDialog")
    qtbot.waitUntil(help_dialog.isVisible)
    text = help_dialog.findChild(QTextBrowser, "helpText").toPlainText()
    for label, help_text in page.help_entries():
        assert label in text
        assert help_text in text
    help_dialog.close()


def test_f1_opens_help(qtbot):
    dialog = open_dialog(qtbot, tab="secondary")
    dialog.activateWindow()
    qtbot.waitActive(dialog)

    qtbot.keyClick(dialog, Qt.Key.Key_F1)

    help_dialog = dialog.findChild(QWidget, "helpDialog")
    assert help_dialog is not None
    qtbot.waitUntil(help_dialog.isVisible)
    text = help_dialog.findChild(QTextBrowser, "helpText").toPlainText()
    assert setting("secondary.pop_port").help in text
    assert "Secondary Mail Server" in help_dialog.windowTitle()
    help_dialog.close()


def visible_buttons(dialog) -> list[QAbstractButton]:
    """Return the buttons of the current tab and of the button box that are shown."""
    page = dialog.tab_widget.currentWidget()
    buttons = [button for button in page.findChildren(QAbstractButton) if button.isVisibleTo(page)]
    buttons = [button for button in buttons if not isinstance(button.parentWidget(), QTabBar)]
    return buttons + [button for button in dialog.buttons.buttons() if button.isVisible()]


@pytest.mark.parametrize("tab, auth, provider", [
    *[(tab, "smtp", None) for tab in PAGES],
    ("primary", "oauth2", "microsoft365"),
    ("secondary", "oauth2", "google"),
])
def test_every_button_has_mnemonic_or_standard_key(qtbot, tab, auth, provider):
    dialog = open_dialog(qtbot, tab=tab)
    if tab in ("primary", "secondary"):
        set_field(dialog, f"{tab}.enabled", True)
        set_field(dialog, f"{tab}.auth", auth)
    if provider:
        set_field(dialog, f"{tab}.oauth_provider", provider)
    tab_titles = [dialog.tab_widget.tabText(index) for index in range(dialog.tab_widget.count())]

    without = [
        button.objectName() for button in visible_buttons(dialog)
        if mnemonic(button.text()) is None and button.objectName() not in STANDARD_KEYS
    ]

    assert without == []
    assert all(mnemonic(title) for title in tab_titles)


def test_standard_keys_of_buttons(qtbot):
    dialog = open_dialog(qtbot)

    help_keys = [shortcut.key() for shortcut in dialog.findChildren(QShortcut)]

    assert QKeySequence(QKeySequence.StandardKey.HelpContents) in help_keys
    assert QKeySequence("F1") in help_keys
    assert dialog.ok_button.isDefault()


def test_show_password_toggle_keeps_mnemonic(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    toggle = dialog.findChild(QAbstractButton, "showPassword_primary")

    shown = mnemonic(toggle.text())
    toggle.setChecked(True)

    assert shown == "h"
    assert mnemonic(toggle.text()) == "h"


def accessible_name(widget: QWidget) -> str:
    """Return the name that assistive technology reads for ``widget``."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None, widget.objectName()
    return interface.text(QAccessible.Text.Name)


def test_every_button_has_tooltip_and_accessible_name(qtbot):
    dialog = open_dialog(qtbot)

    buttons = dialog.findChildren(QAbstractButton)
    # Qt's own buttons, such as the table's corner button, have names that start with qt_.
    buttons = [button for button in buttons if button.objectName() and not button.objectName().startswith("qt_")]
    buttons = [button for button in buttons if not isinstance(button.parentWidget(), QTabBar)]

    assert len(buttons) >= 20
    for button in buttons:
        assert button.toolTip(), button.objectName()
        assert accessible_name(button), button.objectName()


def test_every_bound_field_has_tooltip_and_accessible_name(qtbot):
    dialog = open_dialog(qtbot)

    assert len(dialog.bindings) == len([key for key in dialog.bindings if "." in key]) >= 20
    for key, binding in dialog.bindings.items():
        assert binding.widget.toolTip() == setting(key).help, key
        assert binding.widget.accessibleName() == setting(key).plain_label, key
        # On Linux Qt names a drop-down list by its current text and links
        # the label through the buddy relation, so only the others read the label.
        if not isinstance(binding.widget, QComboBox):
            assert accessible_name(binding.widget) == setting(key).plain_label, key
    for server in ("primary", "secondary"):
        password = field(dialog, f"{server}.password")
        assert password.toolTip()
        assert accessible_name(password) == "Password"
