"""XOAUTH2 through SmtpDispatcher and failover, with real token and SMTP servers on loopback."""

from __future__ import annotations

import base64
import logging
import threading
import time

import pytest
from delivery_helpers import make_settings, password_is, primary_server, server_fields
from oauth_servers import CLIENT_ID, CLIENT_SECRET, MAILBOX, MICROSOFT_SCOPE, TENANT_ID, FakeClock

from alertmail.core import failover, messages
from alertmail.core.connection import CancelToken
from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.errors import ConnectFailure, DeliveryCancelled, Step
from alertmail.core.oauth import OAuthConfig, OAuthCredentials, TokenSource
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network


def provider_config(provider: str, endpoint, service_account) -> OAuthConfig:
    """Register a client (or service account) for ``provider`` on ``endpoint``; return its config."""
    if provider == "microsoft365":
        endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
        return OAuthConfig(
            provider="microsoft365", mailbox=MAILBOX, secret=CLIENT_SECRET, client_id=CLIENT_ID,
            tenant_id=TENANT_ID, token_url=endpoint.url,
        )
    if provider == "google":
        account = service_account(endpoint.url)
        endpoint.add_service_account(account, {MAILBOX})
        return OAuthConfig(provider="google", mailbox=MAILBOX, secret=account.key_json)
    endpoint.add_client("relay-client", CLIENT_SECRET, "smtp.send")
    return OAuthConfig(
        provider="other", mailbox=MAILBOX, secret=CLIENT_SECRET, client_id="relay-client",
        token_url=endpoint.url, scope="smtp.send",
    )


def send_test_messages(server, source: TokenSource, transcript: Transcript, ssl_context):
    """Connect through ``server`` with XOAUTH2 and send both test messages; return the results."""
    settings = make_settings(primary=server_fields())
    outgoing = messages.build_test_messages(settings, "primary")
    credentials = OAuthCredentials({"primary": source})
    with SmtpDispatcher(
        server, password_for=credentials, transcript=transcript, ssl_context=ssl_context
    ) as dispatcher:
        dispatcher.connect()
        return [dispatcher.send(message) for message in outgoing]


def written_text(transcript: Transcript, caplog) -> str:
    return "\n".join(transcript.lines) + "\n" + caplog.text


@pytest.mark.parametrize("provider", ["microsoft365", "google", "other"])
def test_xoauth2_delivers_test_messages(
    provider, token_endpoint, service_account, xoauth2_smtp_server, ssl_context, caplog
):
    caplog.set_level(logging.DEBUG)
    endpoint = token_endpoint("/token")
    config = provider_config(provider, endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint, starttls=True)
    server = primary_server(smtp, security="starttls")
    source = TokenSource(config, ssl_context=ssl_context)
    transcript = Transcript()

    results = send_test_messages(server, source, transcript, ssl_context)

    assert [result.outcome for result in results] == ["sent", "sent"]
    assert len(smtp.received) == 2
    assert len(endpoint.requests) == 1
    user, token, success, over_tls = smtp.auth_attempts[0]
    assert (user, success, over_tls) == (MAILBOX, True, True)
    assert "C: AUTH XOAUTH2 <redacted>" in transcript.lines
    written = written_text(transcript, caplog)
    assert token not in written
    assert base64.b64encode(f"user={MAILBOX}\x01auth=Bearer {token}\x01\x01".encode()).decode() not in written
    assert CLIENT_SECRET not in written
    assert "PRIVATE KEY" not in written


def test_xoauth2_over_implicit_tls(token_endpoint, service_account, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint("/token")
    config = provider_config("google", endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint, starttls=False, implicit_tls=True)
    server = primary_server(smtp, security="tls")

    results = send_test_messages(server, TokenSource(config, ssl_context=ssl_context), Transcript(), ssl_context)

    assert [result.outcome for result in results] == ["sent", "sent"]
    assert smtp.auth_attempts[0][2] is True


def test_cached_token_reused_across_sessions(
    token_endpoint, service_account, xoauth2_smtp_server, ssl_context
):
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint)
    server = primary_server(smtp, security="starttls")
    clock = FakeClock()
    source = TokenSource(config, ssl_context=ssl_context, clock=clock)

    send_test_messages(server, source, Transcript(), ssl_context)
    clock.now += 1800
    send_test_messages(server, source, Transcript(), ssl_context)

    assert len(endpoint.requests) == 1
    tokens = [attempt[1] for attempt in smtp.auth_attempts]
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    assert len(smtp.received) == 4


def test_expired_token_refreshed(token_endpoint, service_account, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint("/token")
    endpoint.expires_in = 120
    config = provider_config("microsoft365", endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint)
    server = primary_server(smtp, security="starttls")
    clock = FakeClock()
    source = TokenSource(config, ssl_context=ssl_context, clock=clock)

    send_test_messages(server, source, Transcript(), ssl_context)
    clock.now += 61  # less than 60 s of the 120 s lifetime left
    send_test_messages(server, source, Transcript(), ssl_context)

    assert len(endpoint.requests) == 2
    tokens = [attempt[1] for attempt in smtp.auth_attempts]
    assert tokens[0] != tokens[1]
    assert [attempt[2] for attempt in smtp.auth_attempts] == [True, True]
    assert len(smtp.received) == 4


def test_refused_secret_fails_token_step(
    token_endpoint, service_account, xoauth2_smtp_server, ssl_context, caplog
):
    caplog.set_level(logging.DEBUG)
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    endpoint.refuse_secret = True
    smtp = xoauth2_smtp_server(endpoint)
    server = primary_server(smtp, security="starttls")
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        send_test_messages(server, TokenSource(config, ssl_context=ssl_context), transcript, ssl_context)

    failure = caught.value
    assert failure.step is Step.TOKEN
    assert failure.server == "primary"
    assert "the client secret is wrong or expired" in failure.detail
    assert "HTTP 401 invalid_client: AADSTS7000215" in failure.reply
    assert smtp.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)
    assert CLIENT_SECRET not in written_text(transcript, caplog)


def test_refused_secret_fails_over(
    token_endpoint, service_account, xoauth2_smtp_server, smtp_server, ssl_context
):
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    endpoint.refuse_secret = True
    primary = xoauth2_smtp_server(endpoint)
    secondary = smtp_server()
    settings = make_settings(
        primary=server_fields(primary, security="starttls"), secondary=server_fields(secondary)
    )
    credentials = OAuthCredentials(
        {"primary": TokenSource(config, ssl_context=ssl_context)}, password_is("unused")
    )

    report = failover.deliver(
        settings, messages.build_test_messages(settings, "primary"),
        password_for=credentials, ssl_context=ssl_context,
    )

    assert report.ok
    assert report.server == "secondary"
    assert len(secondary.received) == 2
    assert [failure.step for failure in report.passed_over] == [Step.TOKEN]
    assert "the client secret is wrong or expired" in report.passed_over[0].detail
    assert primary.received == []


def test_xoauth2_not_offered_sends_no_token(token_endpoint, service_account, smtp_server, ssl_context):
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    smtp = smtp_server(users={MAILBOX: "password"}, starttls=True)
    server = primary_server(smtp, security="starttls")
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        send_test_messages(server, TokenSource(config, ssl_context=ssl_context), transcript, ssl_context)

    assert caught.value.step is Step.AUTH
    assert "does not offer XOAUTH2" in caught.value.detail
    assert "LOGIN PLAIN" in caught.value.detail
    assert endpoint.requests == []
    assert smtp.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


def test_unencrypted_session_requests_no_token(
    token_endpoint, service_account, xoauth2_smtp_server, ssl_context
):
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint, starttls=False, auth_require_tls=False)
    server = primary_server(smtp, security="none")
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        send_test_messages(server, TokenSource(config, ssl_context=ssl_context), transcript, ssl_context)

    assert caught.value.step is Step.AUTH
    assert "a token is never sent unencrypted" in caught.value.detail
    assert endpoint.requests == []
    assert smtp.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


def test_rejected_token_decodes_challenge(
    token_endpoint, service_account, xoauth2_smtp_server, ssl_context
):
    endpoint = token_endpoint("/token")
    config = provider_config("google", endpoint, service_account)
    smtp = xoauth2_smtp_server(endpoint)
    server = primary_server(smtp, security="starttls")
    source = TokenSource(config, ssl_context=ssl_context)
    source.token(3)
    endpoint.issued.clear()  # the SMTP server no longer accepts the cached token
    transcript = Transcript()

    with pytest.raises(ConnectFailure) as caught:
        send_test_messages(server, source, transcript, ssl_context)

    failure = caught.value
    assert failure.step is Step.AUTH
    assert "status 400, schemes Bearer, scope https://mail.google.com/" in failure.detail
    assert failure.code == 535
    assert smtp.challenge_responses == [b""]
    assert "C: AUTH XOAUTH2 <redacted>" in transcript.lines
    assert "C: " in transcript.lines

    renewed = source.token(3)
    assert len(endpoint.requests) == 2
    assert endpoint.is_issued(renewed) == MAILBOX


def test_cancel_during_token_request(token_endpoint, service_account, xoauth2_smtp_server, ssl_context):
    endpoint = token_endpoint("/token")
    config = provider_config("microsoft365", endpoint, service_account)
    endpoint.silent = True
    smtp = xoauth2_smtp_server(endpoint)
    server = primary_server(smtp, security="starttls", timeout_s=3)
    source = TokenSource(config, ssl_context=ssl_context)
    cancel = CancelToken()
    dispatcher = SmtpDispatcher(
        server, password_for=OAuthCredentials({"primary": source}), ssl_context=ssl_context,
        cancel=cancel,
    )
    timer = threading.Timer(0.3, cancel.cancel)
    started = time.monotonic()
    timer.start()

    with pytest.raises(DeliveryCancelled) as caught:
        dispatcher.connect()

    elapsed = time.monotonic() - started
    timer.join()
    source.worker.join(timeout=5)
    assert elapsed < 1.5
    assert caught.value.step is Step.TOKEN
    assert len(endpoint.requests) == 1
    assert smtp.auth_attempts == []
    assert not source.worker.is_alive()
