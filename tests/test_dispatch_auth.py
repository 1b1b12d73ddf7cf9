"""SMTP AUTH: UTF-8 credentials, rejected logins, unreadable passwords, redaction."""

from __future__ import annotations

import base64
import logging

import keyring_backends
import pytest
from delivery_helpers import PASSWORD, USERNAME, make_settings, password_is, primary_server, server_fields

from alertmail.core import messages, secrets
from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.errors import ConnectFailure, PasswordReadError, Step
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network

UNICODE_PASSWORD = "Pässwörd€1"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def secret_forms(username: str, password: str) -> list[str]:
    """The password and every base64 form of it that AUTH PLAIN or LOGIN would send."""
    return [password, b64(password), b64(f"\0{username}\0{password}")]


def connect_and_send(server, **kwargs):
    settings = make_settings(primary=server_fields())
    message = messages.build_message(settings, "errors", "auth test", "body\n")
    with SmtpDispatcher(server, **kwargs) as dispatcher:
        dispatcher.connect()
        return dispatcher.send(message)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_unicode_password_logs_in(smtp_server, mechanism, caplog):
    caplog.set_level(logging.DEBUG)
    excluded = tuple(name for name in ("PLAIN", "LOGIN") if name != mechanism)
    server = smtp_server(users={USERNAME: UNICODE_PASSWORD}, auth_exclude=excluded)
    settings = primary_server(server, auth="smtp", username=USERNAME)
    transcript = Transcript()

    result = connect_and_send(
        settings, password_for=password_is(UNICODE_PASSWORD), transcript=transcript
    )

    assert result.outcome == "sent"
    assert server.auth_attempts == [(mechanism, USERNAME, True)]
    written = "\n".join(transcript.lines) + "\n" + caplog.text
    for form in secret_forms(USERNAME, UNICODE_PASSWORD):
        assert form not in written
    assert f"C: AUTH {mechanism}" in "\n".join(transcript.lines)
    if mechanism == "PLAIN":
        assert "C: AUTH PLAIN <redacted>" in transcript.lines
    else:
        assert transcript.lines.count("C: <redacted>") == 2


def test_password_from_keyring_logs_in(smtp_server):
    server = smtp_server(users={USERNAME: UNICODE_PASSWORD})
    secrets.store_password("primary", UNICODE_PASSWORD)
    settings = primary_server(server, auth="smtp", username=USERNAME)

    result = connect_and_send(settings)

    assert result.outcome == "sent"
    assert server.auth_attempts == [("PLAIN", USERNAME, True)]


def test_rejected_login_shows_server_reply(smtp_server):
    server = smtp_server(users={USERNAME: "another password"})
    settings = primary_server(server, auth="smtp", username=USERNAME)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(PASSWORD)).connect()

    assert caught.value.step is Step.AUTH
    assert caught.value.code == 535
    assert "Authentication credentials invalid" in caught.value.reply
    assert f"rejected the login for user {USERNAME}" in caught.value.detail
    assert server.received == []


def test_auth_offered_only_after_starttls(smtp_server):
    server = smtp_server(starttls=True, users={USERNAME: PASSWORD}, auth_require_tls=True)
    settings = primary_server(server, security="none", auth="smtp", username=USERNAME)
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(PASSWORD), transcript=transcript).connect()

    assert caught.value.step is Step.AUTH
    assert caught.value.detail == (
        "the server offers authentication only after STARTTLS; set Connection security to STARTTLS"
    )
    assert caught.value.describe().startswith("AUTH failed: the server offers authentication")
    assert server.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


def test_auth_not_offered_at_all(smtp_server):
    server = smtp_server()
    settings = primary_server(server, auth="smtp", username=USERNAME)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(PASSWORD)).connect()

    assert caught.value.step is Step.AUTH
    assert "does not offer SMTP AUTH" in caught.value.detail


@pytest.mark.parametrize(
    "backend", [keyring_backends.LockedKeyring, keyring_backends.EmptyReadKeyring]
)
def test_unreadable_keyring_password_sends_no_auth(smtp_server, test_keyring, backend):
    server = smtp_server(users={USERNAME: PASSWORD})
    secrets.store_password("primary", PASSWORD)
    keyring_backends.install(backend, test_keyring)
    settings = primary_server(server, auth="smtp", username=USERNAME)
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, transcript=transcript).connect()

    assert caught.value.step is Step.PASSWORD
    assert caught.value.detail.startswith(
        "SMTP password for the primary server could not be read from the keyring: "
    )
    assert server.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


@pytest.mark.parametrize("returned", [None, ""])
def test_empty_password_is_never_sent(smtp_server, returned):
    server = smtp_server(users={USERNAME: ""})
    settings = primary_server(server, auth="smtp", username=USERNAME)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=lambda name: returned).connect()

    assert caught.value.step is Step.PASSWORD
    assert caught.value.detail == (
        "SMTP password for the primary server could not be read from the keyring: "
        "no password is stored for it"
    )
    assert server.auth_attempts == []


def test_password_source_error_reason_is_kept(smtp_server):
    server = smtp_server(users={USERNAME: PASSWORD})
    settings = primary_server(server, auth="smtp", username=USERNAME)

    def locked(name: str) -> str:
        raise PasswordReadError("the keyring is locked")

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=locked).connect()

    assert caught.value.detail == (
        "SMTP password for the primary server could not be read from the keyring: "
        "the keyring is locked"
    )


def test_rejected_login_logs_no_secret(smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    server = smtp_server(users={USERNAME: "another password"}, auth_exclude=("PLAIN",))
    settings = primary_server(server, auth="smtp", username=USERNAME)
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(
            settings, password_for=password_is(UNICODE_PASSWORD), transcript=transcript
        ).connect()

    written = "\n".join(transcript.lines) + caplog.text + str(caught.value)
    for form in secret_forms(USERNAME, UNICODE_PASSWORD):
        assert form not in written
