"""The OAuth 2.0 rows of the server tabs: which rows show, the client secret, key files and Test Email."""

from __future__ import annotations

import json

import pytest
from oauth_servers import JWT_BEARER
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QWidget

from alertmail.core.secrets import store_password
from alertmail.core.settings import Settings
from alertmail.core.store import config_path, save_settings
from alertmail.gui.key_file import NO_KEY_TEXT, STORED_KEY_TEXT, loaded_text
from alertmail.gui.titles import CLIENT_SECRET_LABEL, PASSWORD_LABEL, SERVICE_ACCOUNT_KEY_LABEL
from gui_support import click, field, open_dialog, set_field

CLIENT_ID = "0d3c8f4e-5b6a-4c1d-9e2f-7a8b9c0d1e2f"
CLIENT_SECRET = "Q~secret.Value_9876"
MAILBOX = "alerts@example.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
COMMON_LABELS = [
    "Server &Name / Address:", "SMTP &Port:", "T&imeout (seconds):",
    "Connection &security:", "Authentication t&ype:",
]
# The labels of the rows below Authentication type, top to bottom, for each choice.
ROWS_SHOWN = {
    ("smtp", "microsoft365"): ["Userna&me:", PASSWORD_LABEL, "POP Ser&ver Name:", "POP Po&rt:"],
    ("oauth2", "microsoft365"): [
        "Identity pro&vider:", "Tenant ID or do&main:", "Cli&ent ID:", CLIENT_SECRET_LABEL,
        "To&ken URL:", "Mailbo&x:",
    ],
    ("oauth2", "google"): ["Identity pro&vider:", SERVICE_ACCOUNT_KEY_LABEL, "Mailbo&x:"],
    ("oauth2", "other"): [
        "Identity pro&vider:", "Cli&ent ID:", CLIENT_SECRET_LABEL, "To&ken URL:",
        "Scope &for SMTP:", "Mailbo&x:",
    ],
}


def shown_labels(dialog, server: str = "primary") -> list[str]:
    """Return the texts of the form labels a user sees on ``server``'s tab, top to bottom."""
    tab = dialog.server_tabs[server]
    form = tab.rows.layout
    texts = []
    for row in range(form.rowCount()):
        item = form.itemAt(row, form.ItemRole.LabelRole)
        label = item.widget() if item is not None else None
        if isinstance(label, QLabel) and label.isVisibleTo(tab):
            texts.append(label.text())
    return texts


def choose(dialog, auth: str, provider: str, server: str = "primary") -> None:
    set_field(dialog, f"{server}.auth", auth)
    set_field(dialog, f"{server}.oauth_provider", provider)


def visible(dialog, name: str, server: str = "primary") -> bool:
    return dialog.findChild(QWidget, name).isVisibleTo(dialog.server_tabs[server])


@pytest.mark.parametrize("auth, provider", list(ROWS_SHOWN))
def test_rows_follow_auth_and_provider(qtbot, auth, provider):
    dialog = open_dialog(qtbot, tab="primary")

    choose(dialog, auth, provider)

    assert shown_labels(dialog) == COMMON_LABELS + ROWS_SHOWN[(auth, provider)]


def test_microsoft_rows_replace_login_rows(qtbot):
    dialog = open_dialog(qtbot, tab="primary")

    choose(dialog, "oauth2", "microsoft365")

    for name in ("primary.oauth_provider", "primary.oauth_tenant_id", "primary.oauth_client_id",
                 "primary.password", "primary.oauth_token_url", "primary.oauth_mailbox"):
        assert visible(dialog, name), name
    for name in ("primary.username", "primary.pop_host", "primary.pop_port", "primary.oauth_scope",
                 "primary.service_account_key"):
        assert not visible(dialog, name), name
    label = dialog.findChild(QLabel, "label:primary.password")
    assert label.text() == CLIENT_SECRET_LABEL
    assert label.buddy() is field(dialog, "primary.password")
    assert field(dialog, "primary.password").accessibleName() == "Client secret"
    assert "client secret" in field(dialog, "primary.password").toolTip().lower()
    assert PASSWORD_LABEL not in shown_labels(dialog)


def test_google_shows_key_row_and_mailbox(qtbot):
    dialog = open_dialog(qtbot, tab="secondary")
    set_field(dialog, "secondary.enabled", True)

    choose(dialog, "oauth2", "google", server="secondary")

    button = field(dialog, "secondary.service_account_key")
    assert visible(dialog, "secondary.service_account_key", server="secondary")
    assert dialog.findChild(QLabel, f"label:{button.objectName()}").buddy() is button
    assert button.isEnabled()
    for name in ("secondary.password", "secondary.oauth_client_id", "secondary.oauth_token_url",
                 "secondary.username"):
        assert not visible(dialog, name, server="secondary"), name
    assert dialog.findChild(QLabel, "keyStatus_secondary").text() == NO_KEY_TEXT


def test_back_to_smtp_auth_restores_rows(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "other")

    set_field(dialog, "primary.auth", "smtp")

    assert shown_labels(dialog) == COMMON_LABELS + ROWS_SHOWN[("smtp", "microsoft365")]
    assert field(dialog, "primary.password").accessibleName() == "Password"
    assert dialog.findChild(QWidget, "clearPassword_primary").text() == "Clear passw&ord"


def test_rows_disabled_when_server_not_used(qtbot):
    dialog = open_dialog(qtbot, tab="secondary")
    choose(dialog, "oauth2", "microsoft365", server="secondary")

    assert not dialog.working["secondary.enabled"]
    for name in ("secondary.oauth_provider", "secondary.oauth_tenant_id", "secondary.oauth_mailbox",
                 "secondary.password"):
        assert visible(dialog, name, server="secondary"), name
        assert not field(dialog, name).isEnabled(), name


def test_hidden_field_error_does_not_block_ok(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "other")
    set_field(dialog, "primary.oauth_token_url", "http://login.example.com/token")
    assert "primary.oauth_token_url" in dict(dialog.problems())

    set_field(dialog, "primary.auth", "none")

    assert "primary.oauth_token_url" not in dict(dialog.problems())
    assert not dialog.findChild(QLabel, "error:primary.oauth_token_url").isVisibleTo(dialog.server_tabs["primary"])


@pytest.mark.parametrize("tab", ["general", "primary", "secondary"])
@pytest.mark.parametrize("oauth_file", [False, True])
def test_dialog_opens_at_default_size(qtbot, tab, oauth_file):
    from alertmail.gui.dialog import DEFAULT_SIZE

    if oauth_file:
        save_oauth_settings(587, **{"primary.oauth_provider": "other", "secondary.auth": "oauth2"})

    dialog = open_dialog(qtbot, tab=tab)

    assert (dialog.width(), dialog.height()) == DEFAULT_SIZE
    assert dialog.minimumHeight() < DEFAULT_SIZE[1]


def focus_names(qtbot, dialog, first: QWidget, count: int) -> list[str]:
    """Press Tab ``count`` times from ``first``; return the object names that got focus."""
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is first)
    names = [first.objectName()]
    for _ in range(count):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        names.append(QApplication.focusWidget().objectName())
    return names


@pytest.mark.parametrize("provider, expected", [
    ("microsoft365", ["primary.oauth_tenant_id", "primary.oauth_client_id", "primary.password",
                      "showPassword_primary", "primary.oauth_token_url", "primary.oauth_mailbox"]),
    ("other", ["primary.oauth_client_id", "primary.password", "showPassword_primary",
               "primary.oauth_token_url", "primary.oauth_scope", "primary.oauth_mailbox"]),
    ("google", ["primary.service_account_key", "primary.oauth_mailbox"]),
])
def test_tab_order_follows_rows(qtbot, provider, expected):
    dialog = open_dialog(qtbot, tab="primary")
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    choose(dialog, "oauth2", provider)

    names = focus_names(qtbot, dialog, field(dialog, "primary.oauth_provider"), len(expected))

    assert names == ["primary.oauth_provider", *expected]


@pytest.mark.parametrize("provider, name, anchor", [
    ("microsoft365", "primary.password", "field-client_secret"),
    ("microsoft365", "primary.oauth_tenant_id", "field-oauth_tenant_id"),
    ("google", "primary.service_account_key", "field-service_account_key"),
])
def test_f1_opens_help_at_oauth_field(qtbot, provider, name, anchor):
    from test_gui_help import press_f1_in, scrolled_to

    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", provider)

    browser = press_f1_in(qtbot, dialog, field(dialog, name))

    scrolled_to(qtbot, browser, anchor)
    assert browser.verticalScrollBar().value() > 0


# --- service-account key files ----------------------------------------------------------


def write_key(tmp_path, account, name: str = "alertmail-key.json"):
    path = tmp_path / name
    path.write_text(account.key_json, encoding="utf-8")
    return path


def stored(entry: str) -> str | None:
    """Return the secret stored under ``entry``, joined from its parts, or None."""
    from alertmail.core import secrets

    return secrets.read_password(entry) if secrets.has_password(entry) else None


def test_loaded_key_pending_until_apply(qtbot, tmp_path, service_account):
    account = service_account("https://oauth2.example.com/token")
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    set_field(dialog, "primary.oauth_mailbox", MAILBOX)
    set_field(dialog, "primary.security", "starttls")
    set_field(dialog, "primary.host", "smtp.gmail.com")
    click(qtbot, dialog, "applyButton")
    assert not dialog.apply_button.isEnabled()
    key_field = dialog.server_tabs["primary"].key_field

    assert key_field.load_file(write_key(tmp_path, account))

    status = dialog.findChild(QLabel, "keyStatus_primary").text()
    assert status == loaded_text(account.client_email)
    assert "PRIVATE KEY" not in status
    assert dialog.apply_button.isEnabled()
    assert stored("primary:oauth-key") is None


def test_secret_and_key_saved_in_keyring(qtbot, tmp_path, service_account):
    account = service_account("https://oauth2.example.com/token")
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.host", "smtp.office365.com")
    set_field(dialog, "primary.security", "starttls")
    choose(dialog, "oauth2", "microsoft365")
    set_field(dialog, "primary.oauth_tenant_id", "contoso.onmicrosoft.com")
    set_field(dialog, "primary.oauth_client_id", CLIENT_ID)
    set_field(dialog, "primary.oauth_mailbox", MAILBOX)
    set_field(dialog, "primary.password", CLIENT_SECRET)
    dialog.select_tab("secondary")
    set_field(dialog, "secondary.enabled", True)
    set_field(dialog, "secondary.host", "smtp.gmail.com")
    set_field(dialog, "secondary.security", "tls")
    choose(dialog, "oauth2", "google", server="secondary")
    set_field(dialog, "secondary.oauth_mailbox", MAILBOX)
    assert dialog.server_tabs["secondary"].key_field.load_file(write_key(tmp_path, account))

    click(qtbot, dialog, "applyButton")

    assert stored("primary:oauth-secret-microsoft365") == CLIENT_SECRET
    assert stored("primary") is None
    assert stored("secondary:oauth-key") == account.key_json
    assert stored("secondary") is None
    assert stored("primary:oauth-key") is None
    text = config_path().read_bytes()
    assert b'auth = "oauth2"' in text
    assert CLIENT_SECRET.encode() not in text
    assert b"PRIVATE KEY" not in text
    assert account.client_email.encode() not in text
    assert not dialog.apply_button.isEnabled()
    assert dialog.findChild(QLabel, "keyStatus_secondary").text() == STORED_KEY_TEXT
    assert field(dialog, "primary.password").text() == ""


def test_stored_key_status_after_first_frame(qtbot, service_account):
    store_password("primary:oauth-key", service_account("https://oauth2.example.com/token").key_json)

    dialog = open_dialog(qtbot, tab="primary")

    assert dialog.findChild(QLabel, "keyStatus_primary").text() == STORED_KEY_TEXT
    assert dialog.findChild(QLabel, "keyStatus_secondary").text() == NO_KEY_TEXT


@pytest.mark.parametrize("content, reason", [
    ("{not json", "is not valid JSON"),
    (json.dumps({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                 "token_uri": "https://oauth2.example.com/token"}), "missing the field private_key"),
    (json.dumps({"installed": {"client_id": "x"}}), "missing the fields type"),
])
def test_invalid_key_file_rejected(qtbot, tmp_path, service_account, content, reason):
    path = tmp_path / "downloaded.json"
    path.write_text(content, encoding="utf-8")
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.host", "smtp.gmail.com")
    set_field(dialog, "primary.security", "starttls")
    choose(dialog, "oauth2", "google")
    set_field(dialog, "primary.oauth_mailbox", MAILBOX)
    click(qtbot, dialog, "applyButton")
    key_field = dialog.server_tabs["primary"].key_field

    assert not key_field.load_file(path)

    error = dialog.findChild(QLabel, "error:primary.service_account_key")
    assert error.isVisibleTo(dialog.server_tabs["primary"])
    assert str(path) in error.text()
    assert reason in error.text()
    assert "choose the service account's JSON key file" in error.text()
    assert not key_field.pending()
    assert not dialog.apply_button.isEnabled()
    assert dialog.findChild(QLabel, "keyStatus_primary").text() == NO_KEY_TEXT
    click(qtbot, dialog, "okButton")
    assert stored("primary:oauth-key") is None


def test_key_row_grows_for_error(qtbot, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("[]", encoding="utf-8")
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    key_field = dialog.server_tabs["primary"].key_field
    height_before = key_field.height()

    assert not key_field.load_file(broken)

    error = key_field.error_label
    # The wrapped label takes its height in a second layout pass, once its width is known.
    qtbot.waitUntil(lambda: error.height() >= error.heightForWidth(error.width()))
    assert key_field.height() > height_before
    assert error.geometry().bottom() < key_field.height()


def test_invalid_file_keeps_loaded_key(qtbot, tmp_path, service_account):
    account = service_account("https://oauth2.example.com/token")
    broken = tmp_path / "broken.json"
    broken.write_text("[]", encoding="utf-8")
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    key_field = dialog.server_tabs["primary"].key_field
    assert key_field.load_file(write_key(tmp_path, account))

    assert not key_field.load_file(broken)

    assert key_field.pending_text() == account.key_json
    assert dialog.findChild(QLabel, "keyStatus_primary").text() == loaded_text(account.client_email)
    assert "not a JSON object" in key_field.error()


def test_loaded_key_dropped_on_cancel(qtbot, tmp_path, service_account):
    account = service_account("https://oauth2.example.com/token")
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    assert dialog.server_tabs["primary"].key_field.load_file(write_key(tmp_path, account))

    click(qtbot, dialog, "cancelButton")

    assert not dialog.isVisible()
    assert stored("primary:oauth-key") is None
    reopened = open_dialog(qtbot, tab="primary")
    assert reopened.findChild(QLabel, "keyStatus_primary").text() == NO_KEY_TEXT


def test_loaded_key_dropped_on_restore_defaults(qtbot, tmp_path, service_account):
    account = service_account("https://oauth2.example.com/token")
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    key_field = dialog.server_tabs["primary"].key_field
    assert key_field.load_file(write_key(tmp_path, account))

    click(qtbot, dialog, "restoreDefaultsButton")

    assert not key_field.pending()
    assert dialog.findChild(QLabel, "keyStatus_primary").text() == NO_KEY_TEXT
    assert not dialog.has_changes()
    assert stored("primary:oauth-key") is None


# --- Test Email through XOAUTH2 -------------------------------------------------------------


def save_oauth_settings(server_port: int, **values) -> bytes:
    """Save settings that send through 127.0.0.1:``server_port`` with OAuth 2.0; return the file's bytes."""
    settings = Settings({
        "general.errors_to": "ops@example.com, noc@example.com",
        "general.reports_to": "reports@example.com",
        "general.from_address": MAILBOX,
        "primary.host": "127.0.0.1",
        "primary.port": server_port,
        "primary.timeout_s": 5,
        "primary.security": "starttls",
        "primary.auth": "oauth2",
        "primary.oauth_mailbox": MAILBOX,
        **values,
    })
    save_settings(settings)
    return config_path().read_bytes()


@pytest.fixture
def microsoft_servers(monkeypatch, ca_bundle, token_endpoint, xoauth2_smtp_server):
    """Start a token endpoint with the test client registered and an XOAUTH2 server, and save Microsoft 365 settings for them.

    Returns the endpoint, the SMTP server and the settings file's bytes.
    """
    # truststore reads SSL_CERT_FILE at every handshake on Linux, so the
    # product's own context trusts the test authority.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    server = xoauth2_smtp_server(endpoint)
    original = save_oauth_settings(server.port, **{
        "primary.oauth_provider": "microsoft365",
        "primary.oauth_tenant_id": "contoso.onmicrosoft.com",
        "primary.oauth_client_id": CLIENT_ID,
        "primary.oauth_token_url": endpoint.url,
    })
    return endpoint, server, original


def run_test_email(qtbot, dialog) -> list[str]:
    """Click Test Email on the Mail Server tab and wait until its thread has finished."""
    with qtbot.waitSignal(dialog.tests.finished, timeout=20000) as finished:
        click(qtbot, dialog, "testEmailButton_primary")
    qtbot.waitUntil(lambda: not dialog.tests.running, timeout=5000)
    return finished.args[1]


def transcript(dialog) -> str:
    return dialog.findChild(QPlainTextEdit, "transcript_primary").toPlainText()


DELIVERED = ["Errors: delivered to 2 recipients", "Reports/Stats: delivered to 1 recipient"]


@pytest.mark.network
def test_microsoft_typed_secret_delivers(qtbot, microsoft_servers):
    endpoint, server, original = microsoft_servers
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.password", CLIENT_SECRET)

    lines = run_test_email(qtbot, dialog)

    assert lines == DELIVERED
    result = dialog.findChild(QLabel, "testResult_primary")
    assert result.isVisibleTo(dialog)
    choose(dialog, "oauth2", "google")
    assert not result.isVisibleTo(dialog)
    assert "Errors: delivered to 2 recipients" in transcript(dialog)
    assert len(server.received) == 2
    assert [request.form.get("client_secret") for request in endpoint.requests] == [CLIENT_SECRET]
    assert [(user, success, over_tls) for user, _, success, over_tls in server.auth_attempts] == [
        (MAILBOX, True, True)
    ]
    text = transcript(dialog)
    assert "C: AUTH XOAUTH2 <redacted>" in text
    assert CLIENT_SECRET not in text
    for token in endpoint.issued:
        assert token not in text
    assert stored("primary") is None
    assert stored("primary:oauth-secret-microsoft365") is None
    assert config_path().read_bytes() == original


@pytest.mark.network
def test_microsoft_stored_secret_delivers(qtbot, microsoft_servers):
    endpoint, server, _ = microsoft_servers
    store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test_email(qtbot, dialog)

    assert lines == DELIVERED
    assert len(server.received) == 2


@pytest.mark.network
def test_missing_secret_named_in_result(qtbot, microsoft_servers):
    endpoint, server, _ = microsoft_servers
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test_email(qtbot, dialog)

    assert len(lines) == 1
    assert "OAuth 2.0 client secret for the primary server could not be read from the keyring" in lines[0]
    assert endpoint.requests == []
    assert server.received == []


@pytest.mark.network
def test_google_loaded_key_delivers(
    qtbot, monkeypatch, tmp_path, ca_bundle, token_endpoint, service_account, xoauth2_smtp_server
):
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle))
    endpoint = token_endpoint("/token")
    account = service_account(endpoint.url)
    endpoint.add_service_account(account, {MAILBOX})
    server = xoauth2_smtp_server(endpoint)
    save_oauth_settings(server.port, **{"primary.oauth_provider": "google"})
    dialog = open_dialog(qtbot, tab="primary")
    assert dialog.server_tabs["primary"].key_field.load_file(write_key(tmp_path, account))

    lines = run_test_email(qtbot, dialog)

    assert lines == DELIVERED
    assert len(server.received) == 2
    assert [request.grant_type for request in endpoint.requests] == [JWT_BEARER]
    assert endpoint.requests[0].claims["iss"] == account.client_email
    assert endpoint.requests[0].claims["sub"] == MAILBOX
    assert "C: AUTH XOAUTH2 <redacted>" in transcript(dialog)
    assert stored("primary:oauth-key") is None


def test_test_email_needs_oauth_fields(qtbot):
    save_oauth_settings(2525, **{"primary.oauth_provider": "other"})
    dialog = open_dialog(qtbot, tab="primary")
    button = dialog.findChild(QWidget, "testEmailButton_primary")
    assert not button.isEnabled()

    set_field(dialog, "primary.oauth_token_url", "https://idp.example.com/oauth2/token")
    set_field(dialog, "primary.oauth_client_id", CLIENT_ID)
    assert not button.isEnabled()
    set_field(dialog, "primary.oauth_scope", "smtp.send")

    assert button.isEnabled()
    set_field(dialog, "primary.security", "none")
    assert not button.isEnabled()


def test_oauth_file_first_frame_without_keyring(tmp_path):
    from test_gui_startup import DEFERRED, run_settings_app

    save_oauth_settings(587, **{"primary.oauth_provider": "google"})

    process, modules = run_settings_app(tmp_path, "--tab", "primary", ALERTMAIL_BENCH_QUIT="1")

    assert process.returncode == 0, process.stderr
    assert "alertmail.gui.key_file" in modules
    assert sorted(set(DEFERRED) & modules) == []
    assert "alertmail.core.oauth_config" not in modules


def test_load_button_opens_file_dialog(qtbot, tmp_path, service_account):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QFileDialog

    account = service_account("https://oauth2.example.com/token")
    path = write_key(tmp_path, account)
    dialog = open_dialog(qtbot, tab="primary")
    choose(dialog, "oauth2", "google")
    chosen = []

    def pick_file() -> None:
        chooser = QApplication.activeModalWidget()
        if not isinstance(chooser, QFileDialog):
            QTimer.singleShot(50, pick_file)
            return
        chosen.append(chooser.windowTitle())
        chooser.selectFile(str(path))
        chooser.accept()

    QTimer.singleShot(0, pick_file)
    click(qtbot, dialog, "primary.service_account_key")

    assert chosen == ["Load service-account key"]
    assert dialog.server_tabs["primary"].key_field.pending_text() == account.key_json
    assert dialog.findChild(QLabel, "keyStatus_primary").text() == loaded_text(account.client_email)
    assert dialog.has_changes()


def test_shown_rows_keep_the_built_order():
    from alertmail.core import settings
    from alertmail.gui.server_tab import VARIABLE_FIELDS

    for auth, _ in settings.AUTH_CHOICES:
        for provider, _ in settings.PROVIDER_CHOICES:
            shown = settings.server_fields_shown(auth, provider)
            variable = ["password" if name == "client_secret" else name for name in shown[6:]]
            positions = [VARIABLE_FIELDS.index(name) for name in variable]
            assert positions == sorted(positions), (auth, provider)


def test_token_url_hint_follows_provider(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    token_url = field(dialog, "primary.oauth_token_url")

    choose(dialog, "oauth2", "microsoft365")
    microsoft_hint = token_url.placeholderText()
    choose(dialog, "oauth2", "other")

    assert "Microsoft" in microsoft_hint
    assert token_url.placeholderText() == "https://"


def test_password_and_client_secret_kept_apart(qtbot):
    store_password("primary", "smtp-password")
    dialog = open_dialog(qtbot, tab="primary")
    qtbot.waitUntil(lambda: dialog.server_tabs["primary"].password.stored is not None)
    password = dialog.server_tabs["primary"].password
    set_field(dialog, "primary.host", "smtp.example.com")
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.username", "alerts")
    set_field(dialog, "primary.password", "new-smtp-password")

    choose(dialog, "oauth2", "microsoft365")

    assert password.typed() == ""
    assert password.stored is False
    assert password.edit.placeholderText() == "No client secret stored"
    set_field(dialog, "primary.password", CLIENT_SECRET)
    set_field(dialog, "primary.auth", "smtp")
    assert password.typed() == "new-smtp-password"
    assert password.stored is True
    click(qtbot, dialog, "applyButton")
    assert stored("primary") == "new-smtp-password"
    assert stored("primary:oauth-secret-microsoft365") == CLIENT_SECRET


def test_oauth_chooses_starttls_and_its_port(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.security", "none")

    set_field(dialog, "primary.auth", "oauth2")

    assert dialog.working["primary.security"] == "starttls"
    assert field(dialog, "primary.security").currentData() == "starttls"
    assert dialog.working["primary.port"] == 587


def test_oauth_keeps_implicit_tls(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.security", "tls")

    set_field(dialog, "primary.auth", "oauth2")

    assert dialog.working["primary.security"] == "tls"
    assert dialog.working["primary.port"] == 465


def test_each_provider_keeps_its_secret(qtbot):
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.host", "smtp.example.com")
    choose(dialog, "oauth2", "microsoft365")
    set_field(dialog, "primary.oauth_tenant_id", "contoso.onmicrosoft.com")
    set_field(dialog, "primary.oauth_client_id", CLIENT_ID)
    set_field(dialog, "primary.oauth_mailbox", MAILBOX)
    set_field(dialog, "primary.password", CLIENT_SECRET)

    choose(dialog, "oauth2", "other")
    password = dialog.server_tabs["primary"].password

    assert password.typed() == ""
    assert password.entry == "primary:oauth-secret-other"
    set_field(dialog, "primary.password", "other-secret")
    set_field(dialog, "primary.oauth_client_id", "relay")
    set_field(dialog, "primary.oauth_token_url", "https://idp.example.com/token")
    set_field(dialog, "primary.oauth_scope", "smtp.send")
    click(qtbot, dialog, "applyButton")
    assert stored("primary:oauth-secret-microsoft365") == CLIENT_SECRET
    assert stored("primary:oauth-secret-other") == "other-secret"


@pytest.mark.network
def test_pending_clear_means_no_secret(qtbot, microsoft_servers):
    endpoint, server, _ = microsoft_servers
    store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    dialog = open_dialog(qtbot, tab="primary")
    password = dialog.server_tabs["primary"].password
    qtbot.waitUntil(lambda: password.stored is True)
    click(qtbot, dialog, "clearPassword_primary")

    lines = run_test_email(qtbot, dialog)

    assert len(lines) == 1
    assert "is to be removed when you press OK or Apply" in lines[0]
    assert endpoint.requests == []
    assert server.received == []
