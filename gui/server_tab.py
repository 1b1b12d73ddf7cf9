"""The Mail Server and Secondary Mail Server tabs.

Both tabs are one class: every field is the declaration of ``<server>.<name>``.
The tab only lays the fields out and enables them; the dialog owns the
working copy of the settings and the Test Email run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from alertmail.core.settings import Settings, setting

from .colors import WARNING_COLOR
from .fields import (
    FormRows,
    WrappedLabel,
    make_check_box,
    make_combo_box,
    make_line_edit,
    make_message_label,
    make_spin_box,
)
from .password import PasswordField, password_label
from .titles import SERVER_TITLES

if TYPE_CHECKING:
    from .help import HelpEntry

PLAIN_AUTH_WARNING = (
    "SMTP AUTH without encryption: the user name and password travel unencrypted. "
    "Choose STARTTLS or Implicit TLS if the server supports it."
)
TEST_EMAIL_HELP = (
    "Send one test message to the Errors recipients and one to the Reports/Stats "
    "recipients through this server, with the values now in the form, saved or not. "
    "The SMTP conversation is shown below, with credentials hidden."
)


class ServerTab(QWidget):
    """The settings of one SMTP server, with its Test Email button and conversation."""

    def __init__(self, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server = server
        self.tab_key = server
        self.title = SERVER_TITLES[server]
        self.setObjectName(f"{server}Tab")

        def declared(name: str):
            return setting(f"{server}.{name}")

        self.enabled_check = make_check_box(declared("enabled"))
        self.host = make_line_edit(declared("host"))
        self.port = make_spin_box(declared("port"))
        self.timeout = make_spin_box(declared("timeout_s"))
        self.security = make_combo_box(declared("security"))
        self.auth = make_combo_box(declared("auth"))
        self.username = make_line_edit(declared("username"))
        self.password = PasswordField(server)
        self.pop_host = make_line_edit(declared("pop_host"))
        self.pop_port = make_spin_box(declared("pop_port"))

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.rows = FormRows(form)
        form.addRow(self.enabled_check)
        self.rows.add_error_row(f"{server}.enabled")
        self.delivery_warning = make_message_label(f"deliveryWarning_{server}", WARNING_COLOR)
        form.addRow(None, self.delivery_warning)
        form.setRowVisible(self.delivery_warning, False)
        for name, widget in (
            ("host", self.host), ("port", self.port), ("timeout_s", self.timeout),
            ("security", self.security), ("auth", self.auth),
        ):
            self.rows.add(declared(name).label, widget, f"{server}.{name}")
        self.auth_warning = make_message_label(f"authWarning_{server}", WARNING_COLOR)
        self.auth_warning.setText(PLAIN_AUTH_WARNING)
        form.addRow(None, self.auth_warning)
        form.setRowVisible(self.auth_warning, False)
        self.rows.add(declared("username").label, self.username, f"{server}.username")
        form.addRow(password_label(self.password.edit), self.password)
        self.rows.add_error_row(self.password_key)
        self.rows.add(declared("pop_host").label, self.pop_host, f"{server}.pop_host")
        self.rows.add(declared("pop_port").label, self.pop_port, f"{server}.pop_port")

        self.fields = QWidget()
        self.fields.setObjectName(f"fields_{server}")
        self.fields.setLayout(form)
        # The form keeps the height it needs; the conversation below takes what is left.
        self.fields.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addLayout(self._build_test_area())

    def _build_test_area(self) -> QVBoxLayout:
        server = self.server
        self.test_button = QPushButton("&Test Email")
        self.test_button.setObjectName(f"testEmailButton_{server}")
        self.test_button.setToolTip(TEST_EMAIL_HELP)
        self.test_button.setAutoDefault(False)
        self.cancel_test_button = QPushButton("Cancel t&est")
        self.cancel_test_button.setObjectName(f"cancelTestButton_{server}")
        self.cancel_test_button.setToolTip("Stop the running test; the connection is closed at once.")
        self.cancel_test_button.setAutoDefault(False)
        self.cancel_test_button.setEnabled(False)

        self.test_result = WrappedLabel()
        self.test_result.setObjectName(f"testResult_{server}")
        self.test_result.setWordWrap(True)
        self.test_result.setAccessibleName("Test result")
        self.test_result.setVisible(False)

        self.transcript = QPlainTextEdit()
        self.transcript.setObjectName(f"transcript_{server}")
        self.transcript.setReadOnly(True)
        self.transcript.setAccessibleName("SMTP conversation")
        self.transcript.setToolTip("The SMTP conversation of the last test, with credentials hidden.")
        self.transcript.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.transcript.setMinimumHeight(60)
        # Ignored: the conversation's own size hint must not take height from the form.
        self.transcript.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.transcript.setMaximumBlockCount(2000)
        self.transcript.setTabChangesFocus(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.cancel_test_button)
        buttons.addStretch(1)
        area = QVBoxLayout()
        area.addLayout(buttons)
        area.addWidget(self.test_result)
        area.addWidget(self.transcript, 1)
        return area

    def bindings(self) -> list[tuple[str, QWidget]]:
        """Return the tab's explicit widget-to-key binding, top to bottom."""
        server = self.server
        return [
            (f"{server}.enabled", self.enabled_check),
            (f"{server}.host", self.host),
            (f"{server}.port", self.port),
            (f"{server}.timeout_s", self.timeout),
            (f"{server}.security", self.security),
            (f"{server}.auth", self.auth),
            (f"{server}.username", self.username),
            (f"{server}.pop_host", self.pop_host),
            (f"{server}.pop_port", self.pop_port),
        ]

    @property
    def password_key(self) -> str:
        """The key under which the dialog reports a problem with the typed password.

        The password is not a setting: it lives in the keyring, so no
        declaration has this key.
        """
        return f"{self.server}.password"

    def field_keys(self) -> list[str]:
        """Return the keys of the tab's fields top to bottom, the password's included."""
        keys = [key for key, _ in self.bindings()]
        keys.insert(keys.index(f"{self.server}.username") + 1, self.password_key)
        return keys

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits, top to bottom."""
        widgets = [widget for _, widget in self.bindings()]
        after_username = widgets.index(self.username) + 1
        password = self.password
        widgets[after_username:after_username] = [password.edit, password.show_button, password.clear_button]
        return widgets + [self.test_button, self.cancel_test_button, self.transcript]

    def help_buttons(self) -> list[HelpEntry]:
        """Return the help window's entries for the buttons that the field list does not cover."""
        from .help import button_entry

        password = self.password
        return [
            button_entry(password.show_button, "Show", password.show_button.toolTip()),
            button_entry(password.clear_button, "Clear password", password.clear_button.toolTip()),
            button_entry(self.cancel_test_button, "Cancel test", self.cancel_test_button.toolTip()),
        ]

    def help_entries(self) -> list[tuple[str, str]]:
        """Return ``(label, help text)`` for every field in the help window, top to bottom."""
        from alertmail.resources import field_entries

        entries = [(label, text) for _, label, text in field_entries(self.tab_key)]
        return entries + [(entry.label, entry.text) for entry in self.help_buttons()]

    def help_anchor(self, widget: QWidget) -> str | None:
        """Return the help anchor of ``widget`` when it is one of this tab's fields or buttons."""
        from alertmail.resources import PASSWORD_FIELD, TEST_EMAIL_FIELD, field_anchor

        for key, bound in self.bindings():
            if widget is bound:
                return field_anchor(key)
        password = self.password
        if widget is password.edit:
            return field_anchor(PASSWORD_FIELD)
        if widget in (self.test_button, self.transcript):
            return field_anchor(TEST_EMAIL_FIELD)
        from .help import entry_anchor

        return entry_anchor(widget, self.help_buttons())

    def show_delivery_warning(self, text: str | None) -> None:
        """Show ``text`` under Use this server, or hide the warning row when ``None``."""
        self.delivery_warning.setText(text or "")
        self.rows.layout.setRowVisible(self.delivery_warning, bool(text))

    def update_enabled(self, values: Settings, *, test_allowed: bool) -> None:
        """Enable the fields that apply to ``values``, and Test Email when ``test_allowed``."""
        server = self.server
        used = values[f"{server}.enabled"]
        auth = values[f"{server}.auth"]
        for widget in (self.host, self.port, self.timeout, self.security, self.auth):
            widget.setEnabled(used)
        self.username.setEnabled(used and auth != "none")
        self.password.setEnabled(used and auth != "none")
        self.pop_host.setEnabled(used and auth == "pop_before_smtp")
        self.pop_port.setEnabled(used and auth == "pop_before_smtp")
        self.test_button.setEnabled(used and test_allowed)

        plain_auth = used and auth == "smtp" and values[f"{server}.security"] == "none"
        self.rows.layout.setRowVisible(self.auth_warning, plain_auth)
