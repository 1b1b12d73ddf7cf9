"""The General tab: recipients, sender, the mailer's pace and the mail log."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from alertmail.core.settings import Settings, setting

from .colors import WARNING_COLOR
from .fields import FormRows, make_check_box, make_line_edit, make_message_label, make_spin_box
from .titles import GENERAL_TITLE

if TYPE_CHECKING:
    from .help import HelpEntry

log = logging.getLogger(__name__)

# The keys shown on this tab, top to bottom. mailer.enabled is switched by
# Start mailer and Stop mailer on the Queue tab, so it has no field here.
GENERAL_KEYS = (
    "general.errors_to",
    "general.reports_to",
    "general.from_address",
    "general.from_name",
    "mailer.send_interval_s",
    "mailer.max_attempts",
    "general.log_enabled",
    "general.log_verbose",
)
VIEW_LOG_HELP = "Open the mail log read-only; the window shows the log file's path and can reload it."
DELETE_LOG_HELP = (
    "Delete the mail log file and its rotated copies, after a confirmation. "
    "The log settings stay as they are."
)


def _heading(text: str, object_name: str) -> QLabel:
    heading = QLabel(text)
    heading.setObjectName(object_name)
    font = heading.font()
    font.setBold(True)
    heading.setFont(font)
    return heading


class GeneralTab(QWidget):
    """Recipients, sender, the mailer's send interval and attempts, and the mail log."""

    title = GENERAL_TITLE
    tab_key = "general"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generalTab")
        self._log_viewer = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.rows = FormRows(form)
        self.edits = {key: make_line_edit(setting(key)) for key in GENERAL_KEYS[:4]}
        self.spins = {key: make_spin_box(setting(key)) for key in GENERAL_KEYS[4:6]}
        self.checks = {key: make_check_box(setting(key)) for key in GENERAL_KEYS[6:]}

        form.addRow(_heading("Recipients", "recipientsHeading"))
        for key in GENERAL_KEYS[:2]:
            self.rows.add(setting(key).label, self.edits[key], key)
        self.delivery_warning = make_message_label("deliveryWarning_general", WARNING_COLOR)
        form.addRow(None, self.delivery_warning)
        form.setRowVisible(self.delivery_warning, False)
        form.addRow(_heading("Sender", "senderHeading"))
        for key in GENERAL_KEYS[2:4]:
            self.rows.add(setting(key).label, self.edits[key], key)
        form.addRow(_heading("Mailer", "mailerHeading"))
        for key in GENERAL_KEYS[4:6]:
            self.rows.add(setting(key).label, self.spins[key], key)
        form.addRow(_heading("Mail log", "logHeading"))
        for key in GENERAL_KEYS[6:]:
            form.addRow(self.checks[key])
            self.rows.add_error_row(key)
        form.addRow(self._build_log_buttons())
        self.log_message = make_message_label("logMessage", None)
        self.log_message.setVisible(False)
        form.addRow(self.log_message)

        layout.addLayout(form)
        layout.addStretch(1)

    def _build_log_buttons(self) -> QHBoxLayout:
        self.view_log_button = QPushButton("Vie&w log")
        self.view_log_button.setObjectName("viewLogButton")
        self.view_log_button.setToolTip(VIEW_LOG_HELP)
        self.view_log_button.setAutoDefault(False)
        self.view_log_button.clicked.connect(self.view_log)
        self.delete_log_button = QPushButton("Delete log file&s")
        self.delete_log_button.setObjectName("deleteLogButton")
        self.delete_log_button.setToolTip(DELETE_LOG_HELP)
        self.delete_log_button.setAutoDefault(False)
        self.delete_log_button.clicked.connect(self.confirm_delete_log)
        buttons = QHBoxLayout()
        buttons.addWidget(self.view_log_button)
        buttons.addWidget(self.delete_log_button)
        buttons.addStretch(1)
        return buttons

    def bindings(self) -> list[tuple[str, QWidget]]:
        """Return the tab's explicit widget-to-key binding, top to bottom."""
        return [
            ("general.errors_to", self.edits["general.errors_to"]),
            ("general.reports_to", self.edits["general.reports_to"]),
            ("general.from_address", self.edits["general.from_address"]),
            ("general.from_name", self.edits["general.from_name"]),
            ("mailer.send_interval_s", self.spins["mailer.send_interval_s"]),
            ("mailer.max_attempts", self.spins["mailer.max_attempts"]),
            ("general.log_enabled", self.checks["general.log_enabled"]),
            ("general.log_verbose", self.checks["general.log_verbose"]),
        ]

    def field_keys(self) -> list[str]:
        """Return the keys of the tab's fields, top to bottom."""
        return [key for key, _ in self.bindings()]

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits, top to bottom."""
        return [widget for _, widget in self.bindings()] + [self.view_log_button, self.delete_log_button]

    def help_buttons(self) -> list[HelpEntry]:
        """Return the help window's entries for the tab's buttons."""
        from .help import button_entry

        return [
            button_entry(self.view_log_button, "View log", VIEW_LOG_HELP),
            button_entry(self.delete_log_button, "Delete log files", DELETE_LOG_HELP),
        ]

    def help_entries(self) -> list[tuple[str, str]]:
        """Return ``(label, help text)`` for every field and button in the help window, top to bottom."""
        from alertmail.resources import field_entries

        entries = [(label, text) for _, label, text in field_entries(self.tab_key)]
        return entries + [(entry.label, entry.text) for entry in self.help_buttons()]

    def help_anchor(self, widget: QWidget) -> str | None:
        """Return the help anchor of ``widget`` when it is one of this tab's fields or buttons."""
        from alertmail.resources import field_anchor

        from .help import entry_anchor

        for key, bound in self.bindings():
            if widget is bound:
                return field_anchor(key)
        return entry_anchor(widget, self.help_buttons())

    def show_delivery_warning(self, text: str | None) -> None:
        """Show ``text`` under the recipients, or hide the warning row when ``None``."""
        self.delivery_warning.setText(text or "")
        self.rows.layout.setRowVisible(self.delivery_warning, bool(text))

    def update_enabled(self, values: Settings) -> None:
        """Enable Verbose log only while Keep a mail log is on in ``values``."""
        self.checks["general.log_verbose"].setEnabled(values["general.log_enabled"])

    # --- the mail log ----------------------------------------------------------------

    def view_log(self) -> None:
        """Open the log viewer, or bring it up and reload it."""
        from alertmail.core.maillog import log_path

        from .log_viewer import LogViewer

        if self._log_viewer is None:
            self._log_viewer = LogViewer(log_path(), self)
        else:
            self._log_viewer.reload()
        self._log_viewer.show()
        self._log_viewer.raise_()
        self._log_viewer.activateWindow()

    def confirm_delete_log(self) -> None:
        """Ask before deleting the mail log; delete it when the user agrees."""
        from alertmail.core.maillog import log_path

        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete Mail Log",
            f"Delete the mail log {log_path()} and its rotated copies? This cannot be undone.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("deleteLogConfirm")
        delete = box.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("confirmDeleteLogButton")
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.finished.connect(lambda _result: self._after_delete_question(box, box.clickedButton() is delete))
        box.open()

    def _after_delete_question(self, box: QMessageBox, confirmed: bool) -> None:
        box.deleteLater()
        if confirmed:
            self.delete_log()

    def delete_log(self) -> None:
        """Delete the mail log and its rotated copies, and show what was deleted."""
        from alertmail.core.maillog import delete_log, log_path

        try:
            deleted = delete_log()
        except OSError as error:
            log.warning("mail log %s could not be deleted: %s", log_path(), error)
            text = f"The mail log could not be deleted: {error}"
        else:
            log.info("mail log deleted from the dialog: %d files", len(deleted))
            if deleted:
                text = f"Deleted the mail log ({len(deleted)} file{'s' if len(deleted) > 1 else ''})."
            else:
                text = "There was no mail log to delete."
        self.log_message.setText(text)
        self.log_message.setVisible(True)
        if self._log_viewer is not None and self._log_viewer.isVisible():
            self._log_viewer.reload()
