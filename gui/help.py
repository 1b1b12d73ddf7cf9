"""The help window of the E-mail Options dialog.

It shows the HTML help of the current tab from ``alertmail.resources``
(``render_help``), whose field list is generated from the setting
declarations. The tab's buttons, and its other controls that are not settings, are
listed after the fields with the text of their tooltips.
"""

from __future__ import annotations

import html
from typing import NamedTuple

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

# The shared section that render_help puts at the end of every page.
SHARED_SECTION_START = '<h2 id="failover">'
BUTTONS_ANCHOR = "button-list"


class HelpEntry(NamedTuple):
    """A button's entry in the help window: its anchor, label and help text."""

    anchor: str
    label: str
    text: str


def button_entry(widget: QWidget, label: str, text: str) -> HelpEntry:
    """Return the help entry of a button or other control, anchored by its object name."""
    return HelpEntry(f"button-{widget.objectName()}", label, text)


def entry_anchor(widget: QWidget, entries: list[HelpEntry]) -> str | None:
    """Return the anchor of ``widget``'s entry among ``entries``, or ``None``."""
    anchor = f"button-{widget.objectName()}"
    return anchor if any(entry.anchor == anchor for entry in entries) else None


def help_html(tab: str, buttons: list[HelpEntry]) -> str:
    """Return the help of ``tab`` with a section for ``buttons`` before the shared section."""
    from alertmail.resources import render_help

    page = render_help(tab)
    if not buttons:
        return page
    lines = [f'<h2 id="{BUTTONS_ANCHOR}">Buttons</h2>', "<dl>"]
    for entry in buttons:
        lines.append(f'<dt id="{entry.anchor}"><b>{html.escape(entry.label)}</b></dt>')
        lines.append(f"<dd>{html.escape(entry.text)}</dd>")
    lines.append("</dl>\n")
    section = "\n".join(lines)
    at = page.find(SHARED_SECTION_START)
    if at < 0:
        at = page.rfind("</body>")
    if at < 0:
        return page + section
    return page[:at] + section + page[at:]


class HelpDialog(QDialog):
    """A window showing the help of one tab of the dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpDialog")
        self.resize(520, 480)
        self.browser = QTextBrowser()
        self.browser.setObjectName("helpText")
        self.browser.setAccessibleName("Help text")
        self.browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def show_tab(self, tab: str, title: str, buttons: list[HelpEntry], anchor: str | None = None) -> None:
        """Show the help of ``tab`` titled ``title``, scrolled to ``anchor`` when given, and bring it up."""
        self.setWindowTitle(f"Help \N{EM DASH} {title}")
        self.browser.setHtml(help_html(tab, buttons))
        self.show()
        self.raise_()
        self.activateWindow()
        if anchor:
            self.browser.scrollToAnchor(anchor)
