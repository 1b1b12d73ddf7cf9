"""The Mail Server and Secondary Mail Server tabs.

Both tabs are one class: every field is the declaration of ``<server>.<name>``.
The tab lays the fields out, shows the rows of the chosen authentication
type and identity provider, and enables them. The dialog owns the working
copy of the settings and the Test Email run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

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

from alertmail.core.settings import Settings, server_fields_shown, setting

from .colors import WARNING_COLOR
from .fields import (
    FormRows,
    WrappedLabel,
    make_check_box,
    make_combo_box,
    make_label,
    make_line_edit,
    make_message_label,
    make_spin_box,
)
from .key_file import ServiceAccountKeyField
from .password import PasswordField, password_label
from .titles import CLIENT_SECRET_LABEL, PASSWORD_LABEL, SERVER_TITLES, SERVICE_ACCOUNT_KEY_LABEL

if TYPE_CHECKING:
    from .help import HelpEntry

PLAIN_AUTH_WARNING = (
    "SMTP AUTH without encryption: the user name and password travel unencrypted. "
    "Choose STARTTLS or Implicit TLS if the server supports it."
)
MICROSOFT_TOKEN_URL_HINT = "Empty: the tenant's endpoint in Microsoft's global cloud"
OTHER_TOKEN_URL_HINT = "https://"
TEST_EMAIL_HELP = (
    "Send one test message to the Errors recipients and one to the Reports/Stats "
    "recipients through this server, with the values now in the form, saved or not. "
    "The SMTP conversation is shown below, with credentials hidden."
)


# The fields of a server tab below Authentication type, top to bottom.
# ``settings.server_fields_shown`` decides which are shown, and every list it
# returns keeps this order, so rows are only shown or hidden, never moved.
# Its "client_secret" is the password row under another label.
VARIABLE_FIELDS = (
    "username", "oauth_provider", "oauth_tenant_id", "oauth_client_id", "password",
    "oauth_token_url", "oauth_scope", "service_account_key", "oauth_mailbox", "pop_host", "pop_port",
)
# The rows of keyring entries, which no setting is bound to.
KEYRING_ROWS = ("password", "service_account_key")
# The settings above the rows that depend on the authentication type.
_COMMON_FIELDS = ("enabled", "host", "port", "timeout_s", "security", "auth")


class _Row(NamedTuple):
    """One form row below Authentication type, with the key of its error row (if any)."""

    label: QLabel
    field: QWidget
    error_key: str | None


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
        self.oauth_provider = make_combo_box(declared("oauth_provider"))
        self.oauth_tenant_id = make_line_edit(declared("oauth_tenant_id"))
        self.oauth_tenant_id.setPlaceholderText("GUID or contoso.onmicrosoft.com")
        self.oauth_client_id = make_line_edit(declared("oauth_client_id"))
        self.oauth_token_url = make_line_edit(declared("oauth_token_url"))
        self.oauth_scope = make_line_edit(declared("oauth_scope"))
        self.oauth_mailbox = make_line_edit(declared("oauth_mailbox"))
        self.oauth_mailbox.setPlaceholderText("alerts@example.com")
        self.key_field = ServiceAccountKeyField(server)

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
        self._build_variable_rows(form)

        self.fields = QWidget()
        self.fields.setObjectName(f"fields_{server}")
        self.fields.setLayout(form)
        # The form keeps the height it needs; the conversation below takes what is left.
        self.fields.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addLayout(self._build_test_area())

    def _build_variable_rows(self, form: QFormLayout) -> None:
        """Add the rows that depend on the authentication type, all shown until ``show_fields``."""
        server = self.server
        self._first_variable_row = form.rowCount()
        self.password_label = password_label(self.password.edit)
        self._rows: dict[str, _Row] = {}
        for name in VARIABLE_FIELDS:
            if name == "password":
                form.addRow(self.password_label, self.password)
                self.rows.add_error_row(self.password_key)
                row = _Row(self.password_label, self.password, self.password_key)
            elif name == "service_account_key":
                # The key field shows its own load errors, because a rejected file
                # leaves the form valid and must not block OK.
                label = make_label(SERVICE_ACCOUNT_KEY_LABEL, self.key_field.load_button)
                form.addRow(label, self.key_field)
                row = _Row(label, self.key_field, None)
            else:
                key = f"{server}.{name}"
                field = getattr(self, name)
                row = _Row(self.rows.add(setting(key).label, field, key), field, key)
            self._rows[name] = row
        self._shown: tuple[str, ...] | None = None
        self._shown_rows: set[str] = set(VARIABLE_FIELDS)

    def _build_test_area(self) -> QVBoxLayout:
        server = self.server
        self.test_button = QPushButton("&Test Email")
        self.test_button.setObjectName(f"testEmailButton_{server}")
        self.test_button.setToolTip(TEST_EMAIL_HELP)
        self.test_button.setAutoDefault(False)
        self.cancel_test_button = QPushButton("A&bort test")
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
        widgets = {
            "enabled": self.enabled_check, "host": self.host, "port": self.port,
            "timeout_s": self.timeout, "security": self.security, "auth": self.auth,
        }
        names = [*_COMMON_FIELDS, *(name for name in VARIABLE_FIELDS if name in self._rows and name not in KEYRING_ROWS)]
        return [(f"{server}.{name}", widgets.get(name) or self._rows[name].field) for name in names]

    @property
    def password_key(self) -> str:
        """The key under which the dialog reports a problem with the typed password.

        The password is not a setting: it lives in the keyring, so no
        declaration has this key.
        """
        return f"{self.server}.password"

    @property
    def client_secret_shown(self) -> bool:
        """True when the password row is labelled Client secret (OAuth 2.0)."""
        return self._shown is not None and "client_secret" in self._shown

    def field_keys(self) -> list[str]:
        """Return the keys of the tab's shown fields top to bottom, the password's included.

        A hidden field does not apply to the chosen authentication type, so
        the dialog does not count its problems.
        """
        keys = [f"{self.server}.{name}" for name in _COMMON_FIELDS]
        for name in VARIABLE_FIELDS:
            row = self._rows[name]
            if name in self._shown_rows and row.error_key is not None:
                keys.append(row.error_key)
        return keys

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits, top to bottom, hidden rows included."""
        widgets: list[QWidget] = [self.enabled_check, self.host, self.port, self.timeout, self.security, self.auth]
        password = self.password
        for name in VARIABLE_FIELDS:
            if name == "password":
                widgets += [password.edit, password.show_button, password.clear_button]
            elif name == "service_account_key":
                widgets.append(self.key_field.load_button)
            else:
                widgets.append(self._rows[name].field)
        return widgets + [self.test_button, self.cancel_test_button, self.transcript]

    def help_buttons(self) -> list[HelpEntry]:
        """Return the help window's entries for the buttons that the field list does not cover."""
        from .help import button_entry

        password = self.password
        return [
            button_entry(password.show_button, "Show", password.show_button.toolTip()),
            button_entry(password.clear_button, password.clear_button.accessibleName(), password.clear_button.toolTip()),
            button_entry(self.cancel_test_button, "Abort test", self.cancel_test_button.toolTip()),
        ]

    def help_entries(self) -> list[tuple[str, str]]:
        """Return ``(label, help text)`` for every field in the help window, top to bottom."""
        from alertmail.resources import field_entries

        entries = [(label, text) for _, label, text in field_entries(self.tab_key)]
        return entries + [(entry.label, entry.text) for entry in self.help_buttons()]

    def help_anchor(self, widget: QWidget) -> str | None:
        """Return the help anchor of ``widget`` when it is one of this tab's fields or buttons."""
        from alertmail.resources import (
            CLIENT_SECRET_FIELD,
            PASSWORD_FIELD,
            SERVICE_ACCOUNT_KEY_FIELD,
            TEST_EMAIL_FIELD,
            field_anchor,
        )

        for key, bound in self.bindings():
            if widget is bound:
                return field_anchor(key)
        password = self.password
        if widget is password.edit:
            return field_anchor(CLIENT_SECRET_FIELD if self.client_secret_shown else PASSWORD_FIELD)
        if widget is self.key_field.load_button:
            return field_anchor(SERVICE_ACCOUNT_KEY_FIELD)
        if widget in (self.test_button, self.transcript):
            return field_anchor(TEST_EMAIL_FIELD)
        from .help import entry_anchor

        return entry_anchor(widget, self.help_buttons())

    def show_delivery_warning(self, text: str | None) -> None:
        """Show ``text`` under Use this server, or hide the warning row when ``None``."""
        self.delivery_warning.setText(text or "")
        self.rows.layout.setRowVisible(self.delivery_warning, bool(text))

    def update_enabled(self, values: Settings, *, test_allowed: bool) -> None:
        """Show the rows that apply to ``values``, enable them, and enable Test Email when ``test_allowed``."""
        server = self.server
        used = values[f"{server}.enabled"]
        auth = values[f"{server}.auth"]
        self.show_fields_for(values)
        for widget in (self.host, self.port, self.timeout, self.security, self.auth):
            widget.setEnabled(used)
        self.username.setEnabled(used and auth != "none")
        self.password.setEnabled(used and auth != "none")
        self.pop_host.setEnabled(used and auth == "pop_before_smtp")
        self.pop_port.setEnabled(used and auth == "pop_before_smtp")
        for widget in (
            self.oauth_provider, self.oauth_tenant_id, self.oauth_client_id, self.oauth_token_url,
            self.oauth_scope, self.oauth_mailbox, self.key_field,
        ):
            widget.setEnabled(used)
        self.test_button.setEnabled(used and test_allowed)

        plain_auth = used and auth == "smtp" and values[f"{server}.security"] == "none"
        self.rows.layout.setRowVisible(self.auth_warning, plain_auth)

    def show_fields_for(self, values: Settings) -> None:
        """Show the rows of the authentication type and identity provider in ``values``."""
        server = self.server
        provider = values[f"{server}.oauth_provider"]
        self.show_fields(server_fields_shown(values[f"{server}.auth"], provider), provider)

    def show_fields(self, shown: tuple[str, ...], provider: str) -> None:
        """Show exactly the rows named in ``shown`` and hide the others.

        ``shown`` is what ``settings.server_fields_shown`` returns. The rows
        that it leaves out keep their values.
        """
        if shown == self._shown:
            return
        if self._shown is not None:
            # The last result was for another sign-in; the conversation below keeps it.
            self.test_result.setVisible(False)
        self._shown = shown
        client_secret = "client_secret" in shown
        names = ["password" if name == "client_secret" else name for name in shown]

        self.password_label.setText(CLIENT_SECRET_LABEL if client_secret else PASSWORD_LABEL)
        # An empty token URL means Microsoft's global endpoint, and another provider needs one.
        microsoft = "oauth_tenant_id" in shown
        self.oauth_token_url.setPlaceholderText(MICROSOFT_TOKEN_URL_HINT if microsoft else OTHER_TOKEN_URL_HINT)
        self.password.use_secret(provider if client_secret else "password")
        layout = self.rows.layout
        self._shown_rows = set(names) & set(self._rows)
        self.rows.hidden_keys = {
            row.error_key for name, row in self._rows.items() if name not in self._shown_rows and row.error_key
        }
        for name, row in self._rows.items():
            layout.setRowVisible(row.field, name in self._shown_rows)
            if row.error_key is not None:
                error = self.rows.error_labels[row.error_key]
                self.rows.show_error(row.error_key, error.text() or None)
        # Qt passes a size change up only through layouts that were laid out.
        # A tab not shown yet has none, so updateGeometry runs on each ancestor.
        widget = self.fields
        while widget is not None:
            widget.updateGeometry()
            widget = widget.parentWidget()
