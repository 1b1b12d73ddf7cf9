"""OAuth 2.0 token requests against a local HTTPS token endpoint: grants, cache, errors."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from oauth_servers import CLIENT_ID, CLIENT_SECRET, MAILBOX, MICROSOFT_SCOPE, TENANT_ID, FakeClock

from alertmail.core.connection import CancelToken
from alertmail.core.errors import ConnectFailure, DeliveryCancelled, Step
from alertmail.core.oauth import OAuthConfig, TokenSource

pytestmark = pytest.mark.network


def microsoft_config(endpoint, secret: str = CLIENT_SECRET) -> OAuthConfig:
    return OAuthConfig(
        provider="microsoft365", mailbox=MAILBOX, secret=secret, client_id=CLIENT_ID,
        tenant_id=TENANT_ID, token_url=endpoint.url,
    )


@pytest.fixture
def microsoft_endpoint(token_endpoint):
    endpoint = token_endpoint(f"/{TENANT_ID}/oauth2/v2.0/token")
    endpoint.add_client(CLIENT_ID, CLIENT_SECRET, MICROSOFT_SCOPE)
    return endpoint


def test_client_credentials_issue_token(microsoft_endpoint, ssl_context):
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context)

    token = source.token(3)

    assert microsoft_endpoint.is_issued(token) == CLIENT_ID
    request = microsoft_endpoint.requests[0]
    assert request.grant_type == "client_credentials"
    assert request.form["client_id"] == CLIENT_ID
    assert request.form["client_secret"] == CLIENT_SECRET
    assert request.form["scope"] == MICROSOFT_SCOPE


def test_other_provider_uses_basic_auth(token_endpoint, ssl_context):
    endpoint = token_endpoint("/token")
    endpoint.add_client("relay-client", "other-secret", "smtp.send")
    config = OAuthConfig(
        provider="other", mailbox=MAILBOX, secret="other-secret", client_id="relay-client",
        token_url=endpoint.url, scope="smtp.send",
    )

    token = TokenSource(config, ssl_context=ssl_context).token(3)

    assert endpoint.is_issued(token) == "relay-client"
    assert endpoint.requests[0].authorization.startswith("Basic ")
    assert "client_secret" not in endpoint.requests[0].form


def test_jwt_bearer_assertion_claims(token_endpoint, service_account, ssl_context):
    endpoint = token_endpoint("/token")
    account = service_account(endpoint.url)
    endpoint.add_service_account(account, {MAILBOX})
    config = OAuthConfig(provider="google", mailbox=MAILBOX, secret=account.key_json)
    before = time.time()

    token = TokenSource(config, ssl_context=ssl_context).token(3)

    assert endpoint.is_issued(token) == MAILBOX
    request = endpoint.requests[0]
    assert request.status == 200
    assert request.grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = request.claims
    assert claims["iss"] == account.client_email
    assert claims["sub"] == MAILBOX
    assert claims["aud"] == endpoint.url
    assert claims["scope"] == "https://mail.google.com/"
    assert before - 5 <= claims["iat"] <= time.time() + 5
    assert claims["exp"] - claims["iat"] <= 3600


def test_token_cached_while_valid(microsoft_endpoint, ssl_context):
    clock = FakeClock()
    microsoft_endpoint.expires_in = 3600
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context, clock=clock)

    first = source.token(3)
    clock.now += 3000
    second = source.token(3)

    assert second == first
    assert len(microsoft_endpoint.requests) == 1


def test_token_refreshed_before_expiry(microsoft_endpoint, ssl_context):
    clock = FakeClock()
    microsoft_endpoint.expires_in = 300
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context, clock=clock)

    first = source.token(3)
    clock.now += 241  # less than 60 s of validity left
    second = source.token(3)

    assert second != first
    assert len(microsoft_endpoint.requests) == 2
    assert microsoft_endpoint.is_issued(second) == CLIENT_ID


def test_invalidate_requests_new_token(microsoft_endpoint, ssl_context):
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context)

    first = source.token(3)
    source.invalidate()
    second = source.token(3)

    assert second != first
    assert len(microsoft_endpoint.requests) == 2


def test_refused_secret_names_provider_error(microsoft_endpoint, ssl_context, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Q~wrong-secret-value-9876543210"
    source = TokenSource(microsoft_config(microsoft_endpoint, wrong), ssl_context=ssl_context)

    with pytest.raises(ConnectFailure) as caught:
        source.token(3)

    failure = caught.value
    assert failure.step is Step.TOKEN
    assert failure.step.before_mail
    assert "the client secret is wrong or expired" in failure.detail
    assert "HTTP 401" in failure.reply
    assert "AADSTS7000215" in failure.reply
    assert wrong not in str(failure)
    assert wrong not in caplog.text
    assert microsoft_endpoint.requests[0].status == 401


def test_unknown_application_explained(microsoft_endpoint, ssl_context):
    config = OAuthConfig(
        provider="microsoft365", mailbox=MAILBOX, secret=CLIENT_SECRET,
        client_id="11111111-2222-4333-8444-555555555555", tenant_id=TENANT_ID,
        token_url=microsoft_endpoint.url,
    )

    with pytest.raises(ConnectFailure) as caught:
        TokenSource(config, ssl_context=ssl_context).token(3)

    assert "application (client) id was not found" in caught.value.detail
    assert "HTTP 400" in caught.value.reply


def test_missing_delegation_explained(token_endpoint, service_account, ssl_context):
    endpoint = token_endpoint("/token")
    account = service_account(endpoint.url)
    endpoint.add_service_account(account, delegated=set())
    config = OAuthConfig(provider="google", mailbox=MAILBOX, secret=account.key_json)

    with pytest.raises(ConnectFailure) as caught:
        TokenSource(config, ssl_context=ssl_context).token(3)

    assert caught.value.step is Step.TOKEN
    assert "domain-wide delegation is not set up" in caught.value.detail
    assert "unauthorized_client" in caught.value.reply
    assert "PRIVATE KEY" not in str(caught.value)


def test_untrusted_endpoint_certificate(microsoft_endpoint):
    import truststore
    import ssl

    # Only the system trust store: the test authority is unknown to it.
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=context)

    with pytest.raises(ConnectFailure) as caught:
        source.token(3)

    assert caught.value.step is Step.TOKEN
    assert "identity provider's certificate could not be verified" in caught.value.detail
    assert microsoft_endpoint.requests == []


def test_silent_endpoint_times_out(microsoft_endpoint, ssl_context):
    microsoft_endpoint.silent = True
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context)
    started = time.monotonic()

    with pytest.raises(ConnectFailure) as caught:
        source.token(1)

    elapsed = time.monotonic() - started
    source.worker.join(timeout=5)
    assert elapsed < 2
    assert not source.worker.is_alive()
    assert caught.value.step is Step.TOKEN
    assert "no reply from the token endpoint 127.0.0.1 within 1 second" in caught.value.detail


def test_cancel_ends_token_request(microsoft_endpoint, ssl_context):
    microsoft_endpoint.silent = True
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context)
    cancel = CancelToken()
    timer = threading.Timer(0.2, cancel.cancel)
    started = time.monotonic()
    timer.start()

    with pytest.raises(DeliveryCancelled) as caught:
        source.token(2, cancel)

    elapsed = time.monotonic() - started
    timer.join()
    source.worker.join(timeout=5)
    assert elapsed < 1
    assert caught.value.step is Step.TOKEN
    assert not source.worker.is_alive()


def test_refused_connection_reported(ssl_context):
    from smtp_servers import free_port

    port = free_port()
    config = OAuthConfig(
        provider="other", mailbox=MAILBOX, secret="s", client_id="c",
        token_url=f"https://127.0.0.1:{port}/token", scope="smtp",
    )

    with pytest.raises(ConnectFailure) as caught:
        TokenSource(config, ssl_context=ssl_context).token(2)

    assert caught.value.step is Step.TOKEN
    assert caught.value.detail == "the token endpoint 127.0.0.1 could not be reached: the connection was refused"


def test_hang_up_explained_in_words(microsoft_endpoint, ssl_context):
    microsoft_endpoint.hang_up = True
    source = TokenSource(microsoft_config(microsoft_endpoint), ssl_context=ssl_context)

    with pytest.raises(ConnectFailure) as caught:
        source.token(5)

    source.worker.join(timeout=5)
    assert caught.value.step is Step.TOKEN
    assert caught.value.detail == (
        "the token endpoint 127.0.0.1 could not be reached: the endpoint closed the connection "
        "without a response"
    )

