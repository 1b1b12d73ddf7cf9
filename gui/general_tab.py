"""The General tab: who receives alerts and reports, and who sends them."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from alertmail.core.settings import setting

from .fields import FormRows, make_line_edit
from .titles import GENERAL_TITLE

# The keys shown on this tab, top to bottom. The log and mailer settings are
# declared too; they get their place when the mail log and the mailer exist.
GENERAL_KEYS = (
    "general.errors_to",
    "general.reports_to",
    "general.from_address",
    "general.from_name",
)


def _heading(text: str, object_name: str) -> QLabel:
    heading = QLabel(text)
    heading.setObjectName(object_name)
    font = heading.font()
    font.setBold(True)
    heading.setFont(font)
    return heading


class GeneralTab(QWidget):
    """Recipients of the Errors and Reports/Stats messages, and the sender."""

    title = GENERAL_TITLE
    tab_key = "general"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generalTab")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.rows = FormRows(form)
        self.edits = {key: make_line_edit(setting(key)) for key in GENERAL_KEYS}

        form.addRow(_heading("Recipients", "recipientsHeading"))
        for key in GENERAL_KEYS[:2]:
            self.rows.add(setting(key).label, self.edits[key], key)
        form.addRow(_heading("Sender", "senderHeading"))
        for key in GENERAL_KEYS[2:]:
            self.rows.add(setting(key).label, self.edits[key], key)

        layout.addLayout(form)
        layout.addStretch(1)

    def bindings(self) -> list[tuple[str, QWidget]]:
        """Return the tab's explicit widget-to-key binding, top to bottom."""
        return [
            ("general.errors_to", self.edits["general.errors_to"]),
            ("general.reports_to", self.edits["general.reports_to"]),
            ("general.from_address", self.edits["general.from_address"]),
            ("general.from_name", self.edits["general.from_name"]),
        ]

    def field_keys(self) -> list[str]:
        """Return the keys of the tab's fields, top to bottom."""
        return [key for key, _ in self.bindings()]

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits, top to bottom."""
        return [widget for _, widget in self.bindings()]

    def help_entries(self) -> list[tuple[str, str]]:
        """Return ``(label, help text)`` for every field, top to bottom."""
        return [(setting(key).plain_label, setting(key).help) for key in GENERAL_KEYS]
