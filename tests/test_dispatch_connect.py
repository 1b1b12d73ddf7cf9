"""Opening an SMTP session: connection security, certificates, greeting, EHLO, host forms."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from delivery_helpers import PASSWORD, USERNAME, Stopwatch, make_settings, password_is, primary_server, server_fields
from servers import FaultScript, loopback_resolver

from alertmail.core import messages
from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.errors import ConnectFailure, Step
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network


def never_resolve(host: str, port: int) -> list[tuple]:
    raise AssertionError(f"an IP address was passed to the resolver: {host}")


def send_errors_message(server, **kwargs):
    """Connect, send one message to ops@example.com, close; return the result and transcript."""
    transcript = kwargs.pop("transcript", Transcript())
    settings = make_settings(primary=server_fields())
    message = messages.build_message(settings, "errors", "connect test", "body\n")
    with SmtpDispatcher(server, transcript=transcript, **kwargs) as dispatcher:
        dispatcher.connect()
        result = dispatcher.send(message)
    return result, transcript


# --- connection security ------------------------------------------------------------


def test_security_none_never_sends_starttls(smtp_server):
    # The server offers STARTTLS with a certificate for another host and
    # accepts AUTH in clear: "none" must not upgrade, and must deliver.
    server = smtp_server(starttls="wrong_host", users={USERNAME: PASSWORD})
    settings = primary_server(server, security="none", auth="smtp", username=USERNAME)

    result, transcript = send_errors_message(settings, password_for=password_is(PASSWORD))

    assert result.outcome == "sent"
    assert "C: STARTTLS" not in transcript.lines
    assert server.auth_attempts == [("PLAIN", USERNAME, True)]
    assert server.received[0].rcpt_tos == ["ops@example.com"]


def test_starttls_verifies_and_delivers(smtp_server, ssl_context):
    server = smtp_server(starttls=True, users={USERNAME: PASSWORD}, auth_require_tls=True)
    settings = primary_server(server, security="starttls", auth="smtp", username=USERNAME)

    result, transcript = send_errors_message(
        settings, password_for=password_is(PASSWORD), ssl_context=ssl_context
    )

    assert result.outcome == "sent"
    assert "C: STARTTLS" in transcript.lines
    assert any(line.startswith("*: TLS established") for line in transcript.lines)
    assert server.auth_attempts == [("PLAIN", USERNAME, True)]


def test_implicit_tls_delivers(smtp_server, ssl_context):
    server = smtp_server(implicit_tls=True)
    settings = primary_server(server, security="tls")

    result, transcript = send_errors_message(settings, ssl_context=ssl_context)

    assert result.outcome == "sent"
    assert len(server.received) == 1
    assert "C: STARTTLS" not in transcript.lines


def test_certificate_host_name_checked_for_a_name(smtp_server, ssl_context):
    server = smtp_server(implicit_tls=True)
    settings = primary_server(host="localhost", port=server.port, security="tls")

    result, _ = send_errors_message(
        settings, ssl_context=ssl_context, resolver=loopback_resolver(["127.0.0.1"])
    )

    assert result.outcome == "sent"


def test_starttls_not_offered_fails_before_auth(smtp_server):
    server = smtp_server(users={USERNAME: PASSWORD})
    settings = primary_server(server, security="starttls", auth="smtp", username=USERNAME)
    transcript = Transcript()
    dispatcher = SmtpDispatcher(settings, password_for=password_is(PASSWORD), transcript=transcript)

    with pytest.raises(ConnectFailure) as caught:
        dispatcher.connect()

    assert caught.value.step is Step.STARTTLS
    assert "does not offer STARTTLS" in caught.value.detail
    assert caught.value.server == "primary"
    assert server.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


@pytest.mark.parametrize(
    ("certificate", "words"),
    [
        ("self_signed", "self-signed"),
        ("unknown_authority", "unknown authority"),
        ("wrong_host", "not valid for the host name 127.0.0.1"),
    ],
)
def test_starttls_untrusted_certificate_fails(smtp_server, ssl_context, certificate, words):
    server = smtp_server(starttls=certificate, users={USERNAME: PASSWORD})
    settings = primary_server(server, security="starttls", auth="smtp", username=USERNAME)
    transcript = Transcript()
    dispatcher = SmtpDispatcher(
        settings, password_for=password_is(PASSWORD), ssl_context=ssl_context, transcript=transcript
    )

    with pytest.raises(ConnectFailure) as caught:
        dispatcher.connect()

    assert caught.value.step is Step.STARTTLS
    assert "certificate could not be verified" in caught.value.detail
    assert words in caught.value.detail
    assert server.auth_attempts == []
    assert not any(line.startswith("C: AUTH") for line in transcript.lines)


def test_implicit_tls_self_signed_suggests_trust_store(smtp_server, ssl_context):
    server = smtp_server(implicit_tls="self_signed")
    settings = primary_server(server, security="tls")

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, ssl_context=ssl_context).connect()

    assert caught.value.step is Step.TLS
    assert "self-signed" in caught.value.detail
    assert "trust store" in caught.value.detail


def test_default_context_does_not_trust_test_authority(smtp_server):
    server = smtp_server(implicit_tls=True)
    settings = primary_server(server, security="tls")

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings).connect()

    assert caught.value.step is Step.TLS
    assert "unknown authority" in caught.value.detail


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="truststore reads SSL_CERT_FILE on Linux only")
def test_default_context_honours_ssl_cert_file(smtp_server, ca_bundle):
    server = smtp_server(implicit_tls=True)
    code = textwrap.dedent(
        f"""
        import socket
        from alertmail.core import tls
        sock = socket.create_connection(("127.0.0.1", {server.port}), timeout=5)
        with tls.default_context().wrap_socket(sock, server_hostname="127.0.0.1") as secured:
            print(secured.recv(100).decode().split(" ")[0])
        """
    )
    env = dict(os.environ, SSL_CERT_FILE=str(ca_bundle))

    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )

    assert completed.stderr == ""
    assert completed.stdout.strip() == "220"


# --- security chosen against the wrong kind of port -----------------------------------


def test_none_against_implicit_tls_port_explains(smtp_server):
    server = smtp_server(implicit_tls=True)
    settings = primary_server(server, security="none", timeout_s=2)

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings).connect()

    assert watch.elapsed < 2 + 2
    assert caught.value.step is Step.GREETING
    assert "no SMTP greeting came back" in caught.value.detail
    assert "port 465 usually needs implicit TLS" in caught.value.detail


def test_implicit_tls_against_plain_server_explains(smtp_server, ssl_context):
    server = smtp_server()
    settings = primary_server(server, security="tls", timeout_s=10)

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, ssl_context=ssl_context).connect()

    assert watch.elapsed < 2
    assert caught.value.step is Step.TLS
    assert "answered in plain text" in caught.value.detail
    assert "STARTTLS" in caught.value.detail


# --- greeting and EHLO --------------------------------------------------------------------


@pytest.mark.parametrize(("script", "code"), [("greeting_421", 421), ("greeting_554", 554)])
def test_refusing_greeting_fails_with_reply(fault_smtp_server, script, code):
    server = fault_smtp_server(script)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(primary_server(server)).connect()

    assert caught.value.step is Step.GREETING
    assert caught.value.code == code
    assert caught.value.reply


def test_missing_greeting_fails_within_budget(fault_smtp_server):
    server = fault_smtp_server("no_greeting")

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(primary_server(server, timeout_s=2)).connect()

    assert watch.elapsed < 2 + 2
    assert caught.value.step is Step.GREETING
    assert "no SMTP greeting came back within 2 seconds" in caught.value.detail


def test_ehlo_rejected_falls_back_to_helo(fault_smtp_server):
    server = fault_smtp_server("ehlo_502")

    result, _ = send_errors_message(primary_server(server))

    assert result.outcome == "sent"
    commands = [line.split(" ")[0] for line in server.sessions[0].commands]
    assert commands[:3] == ["EHLO", "HELO", "MAIL"]


def test_ehlo_temporary_failure_fails_connect(fault_smtp_server):
    server = fault_smtp_server("ehlo_421")

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(primary_server(server)).connect()

    assert caught.value.step is Step.EHLO
    assert caught.value.code == 421
    assert caught.value.reply == "4.7.0 too many connections, try later"


def test_ehlo_and_helo_rejected_fails_connect(fault_smtp_server):
    script = FaultScript(ehlo=("500 5.5.2 syntax error",), helo="501 5.5.4 invalid domain")
    server = fault_smtp_server(script)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(primary_server(server)).connect()

    assert caught.value.step is Step.EHLO
    assert "rejected both EHLO and HELO" in caught.value.detail


def test_connection_refused_is_named(fault_smtp_server):
    server = fault_smtp_server("ok")
    port = server.port
    server.stop()

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(primary_server(host="127.0.0.1", port=port)).connect()

    assert caught.value.step is Step.CONNECT
    assert "refused" in caught.value.detail


# --- host forms -----------------------------------------------------------------------------


def test_ipv6_loopback_delivers_without_resolver(smtp_server):
    server = smtp_server(host="::1")
    settings = primary_server(server)

    result, transcript = send_errors_message(settings, resolver=never_resolve)

    assert settings.host == "::1"
    assert result.outcome == "sent"
    assert server.received[0].rcpt_tos == ["ops@example.com"]
    assert "*: connected to ::1 port %d" % server.port in transcript.lines


@pytest.mark.parametrize("typed", [" 127.0.0.1 ", "127.0.0.1"])
def test_ipv4_literal_is_not_resolved(smtp_server, typed):
    server = smtp_server()
    settings = primary_server(host=typed, port=server.port)

    result, _ = send_errors_message(settings, resolver=never_resolve)

    assert result.outcome == "sent"


def test_bracketed_ipv6_is_not_resolved(smtp_server):
    server = smtp_server(host="::1")
    settings = primary_server(host="[::1]", port=server.port)

    result, _ = send_errors_message(settings, resolver=never_resolve)

    assert result.outcome == "sent"
