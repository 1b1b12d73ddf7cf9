"""OAuth 2.0 from the saved settings and the keyring: the settings model, failover and the command line.

The token endpoint and the XOAUTH2 SMTP server are real servers on
loopback (tests/oauth_servers.py); secrets go to the real keyring backend
of tests/conftest.py. No token source is handed in: the dispatcher builds
it from the settings, as the mailer, the dialog and ``alertmail`` do.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from delivery_helpers import make_settings, server_fields
from oauth_servers import CLIENT_ID, CLIENT_SECRET, MAILBOX, MICROSOFT_SCOPE, TENANT_ID

from alertmail.core import failover, messages, secrets, store
from alertmail.core.errors import SettingError, Step
from alertmail.core.settings import Settings
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network


def microsoft_fields(smtp, endpoint, **extra) -> dict:
    """Server fields for Microsoft 365 through ``smtp`` with tokens from ``endpoint``."""
    return server_fields(
        smtp, security="starttls", auth="oauth2", oauth_provider="microsoft365",
        oauth_tenant_id=TENANT_ID, oauth_client_id=CLIENT_ID, oauth_token_url=endpoint.url,
        oauth_mailbox=MAILBOX, **extra,
    )


def written(settings_dir: Path) -> bytes:
    """Return the bytes of every file under ``settings_dir``."""
    return b"".join(path.read_bytes() for path in sorted(settings_dir.rglob("*")) if path.is_file())


# --- the settings model ---------------------------------------------------------


def test_oauth_is_an_authentication_type():
    settings = Settings({"primary.auth": "OAuth2", "primary.oauth_provider": " Google "})

    assert settings["primary.auth"] == "oauth2"
    assert settings["primary.oauth_provider"] == "google"
    assert settings.server("primary").oauth_provider == "google"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("primary.oauth_token_url", "http://login.example.com/token", "https://"),
        ("primary.oauth_token_url", "https:///token", "no host name"),
        ("primary.oauth_tenant_id", "contoso", "GUID or a domain name"),
        ("primary.oauth_mailbox", "not an address", "not an address"),
        ("primary.oauth_provider", "okta", "microsoft365, google, other"),
    ],
)
def test_invalid_oauth_value_names_key_and_fix(key, value, words):
    with pytest.raises(SettingError) as caught:
        Settings({key: value})

    assert caught.value.key == key
    assert words in str(caught.value)


def test_empty_url_and_tenant_are_allowed():
    settings = Settings({"primary.oauth_token_url": "  ", "primary.oauth_tenant_id": ""})

    assert settings["primary.oauth_token_url"] == ""
    assert settings["primary.oauth_tenant_id"] == ""


@pytest.mark.parametrize(
    ("provider", "missing"),
    [
        ("microsoft365", {"primary.oauth_tenant_id", "primary.oauth_client_id", "primary.oauth_mailbox"}),
        ("google", {"primary.oauth_mailbox"}),
        ("other", {"primary.oauth_token_url", "primary.oauth_client_id", "primary.oauth_scope",
                   "primary.oauth_mailbox"}),
    ],
)
def test_problems_name_what_each_provider_needs(provider, missing):
    settings = Settings({
        "primary.host": "smtp.example.com", "primary.security": "starttls",
        "primary.auth": "oauth2", "primary.oauth_provider": provider,
    })

    assert {problem.key for problem in settings.problems()} == missing


def test_problems_refuse_oauth_without_encryption():
    settings = Settings({
        "primary.host": "smtp.example.com", "primary.auth": "oauth2",
        "primary.oauth_provider": "google", "primary.oauth_mailbox": MAILBOX,
    })

    [problem] = settings.problems()
    assert problem.key == "primary.security"
    assert "STARTTLS or Implicit TLS" in problem.reason


def test_oauth_needs_no_user_name():
    settings = Settings({
        "primary.host": "smtp.example.com", "primary.security": "tls", "primary.auth": "oauth2",
        "primary.oauth_provider": "google", "primary.oauth_mailbox": MAILBOX,
    })

    assert settings.problems() == []


def test_oauth_settings_saved_and_read_back():
    settings = Settings({
        "primary.auth": "oauth2", "primary.oauth_provider": "other",
        "primary.oauth_token_url": "https://idp.example.com/oauth/token",
        "primary.oauth_client_id": "relay", "primary.oauth_scope": "smtp.send",
        "primary.oauth_mailbox": MAILBOX,
    })

    path = store.save_settings(settings)

    text = path.read_text(encoding="utf-8")
    assert 'oauth_token_url = "https://idp.example.com/oauth/token"' in text
    assert store.load_settings().settings == settings


# --- delivery from the settings -------------------------------------------------


def test_client_secret_from_keyring_delivers(
    token_endpoint, xoauth2_smtp_server, ssl_context, isolated_dirs, caplog
):
    caplog.set_level(logging.DEBUG)
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    smtp = xoauth2_smtp_server(endpoint)
    settings = make_settings(primary=microsoft_fields(smtp, endpoint))
    store.save_settings(settings)
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    transcript = Transcript()

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"),
        transcript=transcript, ssl_context=ssl_context,
    )

    assert report.ok, report.error
    assert report.server == "primary"
    assert len(smtp.received) == 2
    [attempt] = smtp.auth_attempts
    assert attempt[0] == MAILBOX
    assert attempt[2:] == (True, True)
    assert [request.form["client_secret"] for request in endpoint.requests] == [CLIENT_SECRET]
    lines = "\n".join(transcript.lines)
    assert "C: AUTH XOAUTH2 <redacted>" in transcript.lines
    everything = lines + caplog.text
    assert CLIENT_SECRET not in everything
    assert attempt[1] not in everything
    assert CLIENT_SECRET.encode() not in written(isolated_dirs["config"])


def test_google_key_from_keyring_delivers(token_endpoint, service_account, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint("/token")
    account = service_account(endpoint.url)
    endpoint.add_service_account(account, {MAILBOX})
    smtp = xoauth2_smtp_server(endpoint, starttls=False, implicit_tls=True)
    settings = make_settings(primary=server_fields(
        smtp, security="tls", auth="oauth2", oauth_provider="google", oauth_mailbox=MAILBOX,
    ))
    secrets.store_password("primary" + secrets.KEY_SUFFIX, account.key_json)

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.ok, report.error
    assert len(smtp.received) == 2
    assert endpoint.requests[0].claims["sub"] == MAILBOX


def test_missing_secret_fails_over(
    token_endpoint, xoauth2_smtp_server, smtp_server, ssl_context
):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    primary = xoauth2_smtp_server(endpoint)
    secondary = smtp_server()
    settings = make_settings(primary=microsoft_fields(primary, endpoint), secondary=server_fields(secondary))

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.ok
    assert report.server == "secondary"
    [failure] = report.passed_over
    assert failure.step is Step.PASSWORD
    assert "OAuth 2.0 client secret for the primary server could not be read" in failure.detail
    assert "alertmail config set-password primary" in failure.detail
    assert endpoint.requests == []
    assert primary.auth_attempts == []


def test_missing_setting_is_a_token_failure(token_endpoint, xoauth2_smtp_server, smtp_server, ssl_context):
    endpoint = token_endpoint()
    primary = xoauth2_smtp_server(endpoint)
    secondary = smtp_server()
    fields = microsoft_fields(primary, endpoint)
    fields["oauth_client_id"] = ""
    settings = make_settings(primary=fields, secondary=server_fields(secondary))
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.server == "secondary"
    [failure] = report.passed_over
    assert failure.step is Step.TOKEN
    assert "primary.oauth_client_id" in failure.detail
    assert endpoint.requests == []


# --- the command line -----------------------------------------------------------


def run_cli(*args: str, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=60, env={**os.environ, **extra_env},
    )


def save(**values) -> Path:
    settings = Settings({
        "general.errors_to": "ops@example.com, noc@example.com",
        "general.reports_to": "reports@example.com",
        "general.from_address": "alerts@example.com",
        "primary.timeout_s": 5,
        "secondary.timeout_s": 5,
    })
    for key, value in values.items():
        settings[key.replace("__", ".")] = value
    return store.save_settings(settings)


def test_set_password_stores_client_secret(isolated_dirs):
    path = save(primary__auth="oauth2", primary__oauth_provider="microsoft365")
    before = path.read_bytes()

    result = run_cli("config", "set-password", "primary", stdin=CLIENT_SECRET + "\n")

    assert result.returncode == 0, result.stderr
    assert "primary OAuth 2.0 client secret stored in the keyring" in result.stdout
    assert secrets.read_password("primary:oauth-secret-microsoft365") == CLIENT_SECRET
    assert not secrets.has_password("primary")
    assert path.read_bytes() == before
    shown = run_cli("config", "show")
    assert "# primary OAuth 2.0 client secret: stored" in shown.stdout
    assert CLIENT_SECRET not in shown.stdout


def test_set_password_for_google_asks_for_key_file():
    save(primary__auth="oauth2", primary__oauth_provider="google")

    result = run_cli("config", "set-password", "primary", stdin="a password\n")

    assert result.returncode == 2
    assert "set-password primary --key-file FILE" in result.stderr
    assert not secrets.has_password("primary")


def test_key_file_stored_in_keyring(service_account, tmp_path, isolated_dirs):
    path = save(primary__auth="oauth2", primary__oauth_provider="google")
    account = service_account("https://127.0.0.1:1/token")
    key_file = tmp_path / "key.json"
    key_file.write_text(account.key_json, encoding="utf-8")

    result = run_cli("config", "set-password", "primary", "--key-file", str(key_file))

    assert result.returncode == 0, result.stderr
    assert f"service-account key of {account.client_email} stored" in result.stdout
    assert "note:" not in result.stdout
    assert secrets.read_password("primary" + secrets.KEY_SUFFIX) == account.key_json
    private_key = json.loads(account.key_json)["private_key"]
    assert private_key.encode() not in written(isolated_dirs["config"])
    assert b"PRIVATE KEY" not in path.read_bytes()
    shown = run_cli("config", "show")
    assert "# primary service-account key: stored" in shown.stdout


def test_key_file_unused_gets_note(service_account, tmp_path):
    save()
    key_file = tmp_path / "key.json"
    key_file.write_text(service_account("https://127.0.0.1:1/token").key_json, encoding="utf-8")

    result = run_cli("config", "set-password", "secondary", "--key-file", str(key_file))

    assert result.returncode == 0, result.stderr
    assert "alertmail config set secondary.auth oauth2" in result.stdout
    assert secrets.has_password("secondary" + secrets.KEY_SUFFIX)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"}', "missing the field"),
        ("not json", "is not valid JSON"),
        ('{"type": "authorized_user", "client_email": "x", "private_key": "-----BEGIN PRIVATE KEY-----", '
         '"token_uri": "https://oauth2.googleapis.com/token"}', "not 'service_account'"),
    ],
)
def test_invalid_key_file_refused_and_nothing_stored(tmp_path, content, words):
    save(primary__auth="oauth2", primary__oauth_provider="google")
    key_file = tmp_path / "bad key.json"
    key_file.write_text(content, encoding="utf-8")

    result = run_cli("config", "set-password", "primary", "--key-file", str(key_file))

    assert result.returncode == 2
    assert f"the key file {key_file}" in result.stderr
    assert words in result.stderr
    assert not secrets.has_password("primary" + secrets.KEY_SUFFIX)


def test_missing_key_file_named(tmp_path):
    missing = tmp_path / "nowhere.json"

    result = run_cli("config", "set-password", "primary", "--key-file", str(missing))

    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "No such file or directory" in result.stderr


def test_clear_removes_the_key_for_google(service_account):
    save(primary__auth="oauth2", primary__oauth_provider="google")
    secrets.store_password("primary" + secrets.KEY_SUFFIX, service_account("https://127.0.0.1:1/t").key_json)
    secrets.store_password("primary", "an unrelated password")

    result = run_cli("config", "set-password", "primary", "--clear")

    assert result.returncode == 0, result.stderr
    assert "primary service-account key removed" in result.stdout
    assert not secrets.has_password("primary" + secrets.KEY_SUFFIX)
    assert secrets.read_password("primary") == "an unrelated password"


def test_refused_secret_fails_over_from_the_command_line(
    token_endpoint, xoauth2_smtp_server, smtp_server, ca_bundle, isolated_dirs
):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    endpoint.refuse_secret = True
    primary = xoauth2_smtp_server(endpoint)
    secondary = smtp_server()
    save(
        primary__host="127.0.0.1", primary__port=primary.port, primary__security="starttls",
        primary__auth="oauth2", primary__oauth_tenant_id=TENANT_ID, primary__oauth_client_id=CLIENT_ID,
        primary__oauth_token_url=endpoint.url, primary__oauth_mailbox=MAILBOX,
        secondary__enabled=True, secondary__host="127.0.0.1", secondary__port=secondary.port,
    )
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)

    result = run_cli("test-email", "--verbose", SSL_CERT_FILE=str(ca_bundle))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sent through the secondary server." in result.stdout
    assert "Primary server passed over: token request failed: the identity provider refused" in result.stdout
    assert "the client secret is wrong or expired" in result.stdout
    assert "AADSTS7000215" in result.stdout
    assert len(secondary.received) == 2
    assert primary.auth_attempts == []
    assert CLIENT_SECRET not in result.stdout + result.stderr
    assert [request.form["client_secret"] for request in endpoint.requests] == [CLIENT_SECRET]


def test_mailer_sends_queued_alert_with_xoauth2(token_endpoint, xoauth2_smtp_server, ca_bundle, isolated_dirs):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    smtp = xoauth2_smtp_server(endpoint)
    save(
        general__log_verbose=True,
        primary__host="127.0.0.1", primary__port=smtp.port, primary__security="starttls",
        primary__auth="oauth2", primary__oauth_tenant_id=TENANT_ID, primary__oauth_client_id=CLIENT_ID,
        primary__oauth_token_url=endpoint.url, primary__oauth_mailbox=MAILBOX,
    )
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    queued = run_cli("send", "--errors", "--subject", "Core switch down", stdin="port 1 down\n")
    assert queued.returncode == 0, queued.stderr

    result = run_cli("mailer", "run", "--once", SSL_CERT_FILE=str(ca_bundle))

    assert result.returncode == 0, result.stderr
    assert len(smtp.received) == 1
    assert b"Subject: Core switch down" in smtp.received[0].content
    [attempt] = smtp.auth_attempts
    assert attempt[0] == MAILBOX
    assert attempt[2] is True
    assert len(endpoint.requests) == 1
    # The verbose mail log has the conversation, with the login redacted.
    files = written(isolated_dirs["state"]) + written(isolated_dirs["data"] / "alertmail")
    assert b"AUTH XOAUTH2 <redacted>" in files
    assert CLIENT_SECRET.encode() not in files
    assert attempt[1].encode() not in files


def test_refused_secret_names_command_for_server(token_endpoint, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    endpoint.refuse_secret = True
    smtp = xoauth2_smtp_server(endpoint)
    settings = make_settings(secondary=microsoft_fields(smtp, endpoint))
    secrets.store_password("secondary:oauth-secret-microsoft365", CLIENT_SECRET)

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "secondary"), ssl_context=ssl_context,
    )

    assert not report.ok
    assert report.error.step is Step.TOKEN
    assert "store it with 'alertmail config set-password secondary'" in report.error.detail


def test_oversized_key_file_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (70 * 1024) + b"}")

    result = run_cli("config", "set-password", "primary", "--key-file", str(big))

    assert result.returncode == 2
    assert "larger than 64 KB" in result.stderr
    assert not secrets.has_password("primary" + secrets.KEY_SUFFIX)


def test_key_with_byte_order_mark_from_stdin(service_account):
    account = service_account("https://127.0.0.1:1/token")

    result = subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "config", "set-password", "primary", "--key-file", "-"],
        input=b"\xef\xbb\xbf" + account.key_json.encode("utf-8"), capture_output=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert secrets.read_password("primary" + secrets.KEY_SUFFIX) == account.key_json


def test_smtp_password_never_sent_as_client_secret(token_endpoint, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    smtp = xoauth2_smtp_server(endpoint)
    settings = make_settings(primary=microsoft_fields(smtp, endpoint))
    secrets.store_password("primary", "the SMTP password")

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.error.step is Step.PASSWORD
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("provider", "field", "value"),
    [
        ("google", "oauth_token_url", "https://127.0.0.1:9/elsewhere"),
        ("google", "oauth_scope", "smtp.send"),
        ("microsoft365", "oauth_scope", "smtp.send"),
    ],
)
def test_hidden_field_of_other_provider_ignored(
    token_endpoint, service_account, xoauth2_smtp_server, ssl_context, provider, field, value
):
    endpoint = token_endpoint()
    smtp = xoauth2_smtp_server(endpoint)
    if provider == "google":
        account = service_account(endpoint.url)
        endpoint.add_service_account(account, {MAILBOX})
        fields = server_fields(smtp, security="starttls", auth="oauth2", oauth_provider="google",
                               oauth_mailbox=MAILBOX)
        secrets.store_password("primary:oauth-key", account.key_json)
    else:
        endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
        fields = microsoft_fields(smtp, endpoint)
        secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    fields[field] = value
    settings = make_settings(primary=fields)

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.ok, report.error
    assert len(smtp.received) == 2
    assert len(endpoint.requests) == 1


def test_config_set_notes_oauth_without_encryption():
    save(primary__host="smtp.example.com", primary__security="starttls", primary__auth="oauth2",
         primary__oauth_provider="google", primary__oauth_mailbox=MAILBOX)

    result = run_cli("config", "set", "primary.security", "none")

    assert result.returncode == 0, result.stderr
    assert "note: primary.security" in result.stderr
    assert "OAuth 2.0 needs STARTTLS or Implicit TLS" in result.stderr


def test_transcript_names_token_request_once(token_endpoint, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint()
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    smtp = xoauth2_smtp_server(endpoint)
    settings = make_settings(primary=microsoft_fields(smtp, endpoint))
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    first, second = Transcript(), Transcript()

    for transcript in (first, second):
        report = failover.deliver(
            settings, messages.build_test_messages(settings, "primary"),
            transcript=transcript, ssl_context=ssl_context,
        )
        assert report.ok, report.error

    note = f"*: requesting an OAuth 2.0 token for {MAILBOX} from 127.0.0.1"
    assert note in first.lines
    assert note not in second.lines
    assert len(endpoint.requests) == 1


def test_non_utf8_stdin_refused_in_utf8_locale():
    save(primary__auth="oauth2")

    result = subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "config", "set-password", "primary"],
        input=b"\xff\xfeabc\n", capture_output=True, timeout=60,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
    )

    assert result.returncode == 2, result.stderr
    assert b"standard input is not valid UTF-8 text" in result.stderr
    assert not secrets.has_password("primary:oauth-secret-microsoft365")


def test_other_provider_never_gets_microsoft_secret(token_endpoint, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint()
    endpoint.add_client("relay", CLIENT_SECRET, "smtp.send")
    smtp = xoauth2_smtp_server(endpoint)
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)
    settings = make_settings(primary=server_fields(
        smtp, security="starttls", auth="oauth2", oauth_provider="other", oauth_client_id="relay",
        oauth_token_url=endpoint.url, oauth_scope="smtp.send", oauth_mailbox=MAILBOX,
    ))

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"), ssl_context=ssl_context,
    )

    assert report.error.step is Step.PASSWORD
    assert "primary:oauth-secret-other" not in report.error.detail
    assert "OAuth 2.0 client secret for the primary server could not be read" in report.error.detail
    assert endpoint.requests == []


def test_config_show_lists_other_stored_secrets():
    save(primary__auth="oauth2", primary__oauth_provider="other")
    secrets.store_password("primary", "smtp password")
    secrets.store_password("primary:oauth-secret-microsoft365", CLIENT_SECRET)

    result = run_cli("config", "show")

    assert "# primary OAuth 2.0 client secret: not stored" in result.stdout
    assert "# primary: also stored for another sign-in: primary, primary:oauth-secret-microsoft365" in result.stdout
    assert CLIENT_SECRET not in result.stdout
