"""The help window: the shipped help page of the current tab, opened at the focused field with F1."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTextBrowser, QWidget

from alertmail.core.settings import setting
from alertmail.gui.general_tab import DELETE_LOG_HELP, VIEW_LOG_HELP
from alertmail.resources import field_anchor, field_entries
from gui_support import click, field, open_dialog, set_field

TABS = ["general", "primary", "secondary", "queue"]


def help_browser(qtbot, dialog) -> QTextBrowser:
    help_dialog = dialog.findChild(QWidget, "helpDialog")
    assert help_dialog is not None
    qtbot.waitUntil(help_dialog.isVisible)
    return help_dialog.findChild(QTextBrowser, "helpText")


def anchor_top(browser: QTextBrowser, anchor: str) -> float:
    """Return the y position in the document of the block that contains ``anchor``."""
    document = browser.document()
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            if anchor in fragments.fragment().charFormat().anchorNames():
                return document.documentLayout().blockBoundingRect(block).top()
            fragments += 1
        block = block.next()
    raise AssertionError(f"no anchor {anchor} in the help")


def press_f1_in(qtbot, dialog, widget: QWidget) -> QTextBrowser:
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (widget, widget.focusProxy()))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F1)
    return help_browser(qtbot, dialog)


def scrolled_to(qtbot, browser: QTextBrowser, anchor: str) -> None:
    """Wait until ``browser`` shows ``anchor`` at the top, or is scrolled as far as it goes."""
    bar = browser.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() == min(int(anchor_top(browser, anchor)), bar.maximum()), timeout=2000)


@pytest.mark.parametrize("tab", TABS)
def test_help_shows_shipped_page(qtbot, tab):
    dialog = open_dialog(qtbot, tab=tab)

    click(qtbot, dialog, "helpButton")

    browser = help_browser(qtbot, dialog)
    text = browser.toPlainText()
    assert "How the server is chosen" in text
    for _, label, help_text in field_entries(tab):
        assert label in text
        assert help_text in text
    assert browser.verticalScrollBar().value() == 0


def test_help_lists_general_buttons(qtbot):
    dialog = open_dialog(qtbot)

    click(qtbot, dialog, "helpButton")

    text = help_browser(qtbot, dialog).toPlainText()
    assert VIEW_LOG_HELP in text
    assert DELETE_LOG_HELP in text
    assert text.index("Buttons") < text.index("How the server is chosen")


@pytest.mark.parametrize("key", ["primary.security", "primary.pop_port", "secondary.timeout_s"])
def test_f1_opens_help_at_focused_field(qtbot, key):
    server = key.partition(".")[0]
    dialog = open_dialog(qtbot, tab=server)
    set_field(dialog, f"{server}.enabled", True)
    set_field(dialog, f"{server}.auth", "pop_before_smtp")

    browser = press_f1_in(qtbot, dialog, field(dialog, key))

    scrolled_to(qtbot, browser, field_anchor(key))
    assert browser.verticalScrollBar().value() > 0


def test_f1_in_general_field_and_button(qtbot):
    dialog = open_dialog(qtbot)

    browser = press_f1_in(qtbot, dialog, field(dialog, "mailer.max_attempts"))
    scrolled_to(qtbot, browser, field_anchor("mailer.max_attempts"))
    at_field = browser.verticalScrollBar().value()
    browser = press_f1_in(qtbot, dialog, dialog.findChild(QWidget, "viewLogButton"))
    scrolled_to(qtbot, browser, "button-viewLogButton")

    assert at_field > 0
    assert setting("mailer.max_attempts").help in browser.toPlainText()


def test_f1_in_password_field(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.auth", "smtp")

    browser = press_f1_in(qtbot, dialog, field(dialog, "primary.password"))

    scrolled_to(qtbot, browser, "field-password")
    assert browser.verticalScrollBar().value() > 0


def test_help_window_follows_current_tab(qtbot):
    dialog = open_dialog(qtbot, tab="queue")
    click(qtbot, dialog, "helpButton")
    assert "Queue" in dialog.findChild(QWidget, "helpDialog").windowTitle()

    dialog.select_tab("primary")
    click(qtbot, dialog, "helpButton")

    help_dialog = dialog.findChild(QWidget, "helpDialog")
    assert help_dialog.windowTitle() == "Help \N{EM DASH} Mail Server"
    assert "STARTTLS" in help_browser(qtbot, dialog).toPlainText()
