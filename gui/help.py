"""The help window of the E-mail Options dialog: every field of a tab and what it sets."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


def help_html(title: str, entries: list[tuple[str, str]]) -> str:
    """Return the help page of one tab: its title, then each field's label and help text."""
    parts = [f"<h3>{html.escape(title)}</h3>", "<dl>"]
    for label, text in entries:
        parts.append(f"<dt><b>{html.escape(label)}</b></dt><dd>{html.escape(text)}</dd>")
    parts.append("</dl>")
    return "".join(parts)


class HelpDialog(QDialog):
    """A window listing the fields of one tab with their help text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpDialog")
        self.resize(460, 420)
        self.browser = QTextBrowser()
        self.browser.setObjectName("helpText")
        self.browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def show_tab(self, title: str, entries: list[tuple[str, str]]) -> None:
        """Show the help of the tab called ``title`` and bring the window up."""
        self.setWindowTitle(f"Help \N{EM DASH} {title}")
        self.browser.setHtml(help_html(title, entries))
        self.show()
        self.raise_()
        self.activateWindow()
