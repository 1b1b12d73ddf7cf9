"""The choice of server and failover to the secondary within one deliver() call."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest
from delivery_helpers import USERNAME, make_settings, password_is, server_fields
from servers import loopback_resolver

from alertmail.core import failover, messages
from alertmail.core.dispatch import CancelToken
from alertmail.core.errors import (
    ConnectFailure,
    ConnectionLost,
    DeliveryCancelled,
    NoServerEnabledError,
    PasswordReadError,
    Step,
)

pytestmark = pytest.mark.network

BUDGET_S = 2


class CountingResolver:
    """Fails for no-such-host.invalid, as DNS would, and counts the lookups."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[tuple]:
        self.lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def outgoing_for(settings):
    return messages.build_test_messages(settings, "auto")


# --- which server -------------------------------------------------------------------


def test_both_healthy_uses_primary_only(smtp_server):
    primary, secondary = smtp_server(), smtp_server()
    settings = make_settings(primary=server_fields(primary), secondary=server_fields(secondary))

    report = failover.deliver(settings, outgoing_for(settings))

    assert report.ok
    assert report.server == "primary"
    assert report.passed_over == []
    assert primary.connections == 1
    assert len(primary.received) == 2
    assert secondary.connections == 0


def test_disabled_primary_is_never_contacted(smtp_server):
    primary, secondary = smtp_server(), smtp_server()
    settings = make_settings(
        primary=server_fields(primary, enabled=False), secondary=server_fields(secondary)
    )

    report = failover.deliver(settings, outgoing_for(settings))

    assert report.ok
    assert report.server == "secondary"
    assert primary.connections == 0
    assert secondary.connections == 1
    assert len(secondary.received) == 2


def test_unresolvable_primary_fails_over_each_call(smtp_server, caplog):
    caplog.set_level(logging.WARNING, logger="alertmail")
    secondary = smtp_server()
    settings = make_settings(
        primary=server_fields(host="no-such-host.invalid", port=25), secondary=server_fields(secondary)
    )
    resolver = CountingResolver()

    first = failover.deliver(settings, outgoing_for(settings), resolver=resolver)
    second = failover.deliver(settings, outgoing_for(settings), resolver=resolver)

    assert first.ok
    assert first.server == "secondary"
    failure = first.passed_over[0]
    assert failure.server == "primary"
    assert failure.step is Step.RESOLVE
    assert "the host name no-such-host.invalid could not be resolved" in failure.describe()
    assert "no-such-host.invalid could not be resolved" in caplog.text
    assert second.server == "secondary"
    assert second.passed_over[0].server == "primary"
    assert resolver.lookups == ["no-such-host.invalid", "no-such-host.invalid"]
    assert len(secondary.received) == 4


def test_neither_enabled_raises():
    settings = make_settings()

    with pytest.raises(NoServerEnabledError):
        failover.servers_in_order(settings)
    with pytest.raises(NoServerEnabledError):
        failover.deliver(settings, [])


def test_explicit_choice_ignores_enabled():
    settings = make_settings(primary=None, secondary=server_fields(host="127.0.0.1", port=25))

    chosen = failover.servers_in_order(settings, "primary")

    assert [server.name for server in chosen] == ["primary"]
    assert not chosen[0].enabled
    assert [server.name for server in failover.servers_in_order(settings, "secondary")] == ["secondary"]
    assert [server.name for server in failover.servers_in_order(settings)] == ["secondary"]


def test_explicit_primary_does_not_fail_over(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("greeting_421")
    secondary = smtp_server()
    settings = make_settings(primary=server_fields(primary), secondary=server_fields(secondary))

    report = failover.deliver(settings, outgoing_for(settings), choice="primary")

    assert not report.ok
    assert report.server is None
    assert report.results == []
    assert isinstance(report.error, ConnectFailure)
    assert report.error.code == 421
    assert secondary.connections == 0


# --- primary problems that count as "cannot connect" --------------------------------------


def starttls_not_offered(smtp_server, fault_smtp_server, pop3_server):
    server = smtp_server()
    return server_fields(server, security="starttls"), Step.STARTTLS, None


def pop_logon_failure(smtp_server, fault_smtp_server, pop3_server):
    server, pop = smtp_server(), pop3_server("reject")
    fields = server_fields(
        server, auth="pop_before_smtp", username=USERNAME, pop_host=pop.host, pop_port=pop.port
    )
    return fields, Step.POP_LOGIN, password_is("S3cret!")


def password_unreadable(smtp_server, fault_smtp_server, pop3_server):
    server = smtp_server(users={USERNAME: "S3cret!"})
    return server_fields(server, auth="smtp", username=USERNAME), Step.PASSWORD, locked_keyring


def implicit_tls_against_plain(smtp_server, fault_smtp_server, pop3_server):
    return server_fields(smtp_server(), security="tls"), Step.TLS, None


def none_against_implicit_tls(smtp_server, fault_smtp_server, pop3_server):
    server = smtp_server(implicit_tls=True)
    return server_fields(server, security="none", timeout_s=BUDGET_S), Step.GREETING, None


def untrusted_certificate(smtp_server, fault_smtp_server, pop3_server):
    server = smtp_server(starttls="self_signed")
    return server_fields(server, security="starttls"), Step.STARTTLS, None


def no_greeting(smtp_server, fault_smtp_server, pop3_server):
    return server_fields(fault_smtp_server("no_greeting"), timeout_s=BUDGET_S), Step.GREETING, None


def locked_keyring(name: str) -> str:
    if name == "primary":
        raise PasswordReadError("the keyring is locked")
    return "unused"


@pytest.mark.parametrize(
    "problem",
    [
        starttls_not_offered,
        pop_logon_failure,
        password_unreadable,
        implicit_tls_against_plain,
        none_against_implicit_tls,
        untrusted_certificate,
        no_greeting,
    ],
)
def test_primary_problem_fails_over(smtp_server, fault_smtp_server, pop3_server, ssl_context, problem):
    primary_fields, step, password_for = problem(smtp_server, fault_smtp_server, pop3_server)
    secondary = smtp_server()
    settings = make_settings(primary=primary_fields, secondary=server_fields(secondary))

    started = time.monotonic()
    report = failover.deliver(
        settings, outgoing_for(settings), password_for=password_for, ssl_context=ssl_context
    )

    assert report.ok
    assert report.server == "secondary"
    assert [failure.step for failure in report.passed_over] == [step]
    assert report.passed_over[0].server == "primary"
    assert len(secondary.received) == 2
    assert secondary.connection_times[0] - started < BUDGET_S + 2 + 1


def test_dead_primary_addresses_reach_secondary_in_time(dead_addresses, smtp_server):
    addresses, port = dead_addresses(4)
    secondary = smtp_server()
    settings = make_settings(
        primary=server_fields(host="mail.example.test", port=port, timeout_s=BUDGET_S),
        secondary=server_fields(secondary),
    )

    started = time.monotonic()
    report = failover.deliver(settings, outgoing_for(settings), resolver=loopback_resolver(addresses))

    assert report.ok
    assert report.passed_over[0].step is Step.CONNECT
    assert secondary.connection_times[0] - started < BUDGET_S + 2


def test_stalled_primary_lookup_reaches_secondary_in_time(blocking_resolver, smtp_server):
    secondary = smtp_server()
    settings = make_settings(
        primary=server_fields(host="slow.example.test", port=25, timeout_s=BUDGET_S),
        secondary=server_fields(secondary),
    )

    started = time.monotonic()
    report = failover.deliver(settings, outgoing_for(settings), resolver=blocking_resolver)

    assert report.ok
    assert report.passed_over[0].step is Step.RESOLVE
    assert secondary.connection_times[0] - started < BUDGET_S + 2


# --- problems after the session opened never fail over ------------------------------------


def test_lost_after_data_does_not_fail_over(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("drop_after_data")
    secondary = smtp_server()
    settings = make_settings(primary=server_fields(primary), secondary=server_fields(secondary))
    outgoing = outgoing_for(settings)

    report = failover.deliver(settings, outgoing)

    assert not report.ok
    assert report.server == "primary"
    assert isinstance(report.error, ConnectionLost)
    assert [result.outcome for result in report.results] == ["uncertain", "deferred"]
    assert [result.message_id for result in report.results] == [m.message_id for m in outgoing]
    assert secondary.connections == 0


def test_refusals_do_not_fail_over(smtp_server):
    primary = smtp_server(refuse={"reports@example.com": "550 5.1.1 mailbox unavailable"})
    secondary = smtp_server()
    settings = make_settings(primary=server_fields(primary), secondary=server_fields(secondary))

    report = failover.deliver(settings, outgoing_for(settings))

    assert [result.outcome for result in report.results] == ["sent", "refused"]
    assert report.error is None
    assert not report.ok
    assert secondary.connections == 0


def test_cancel_stops_before_secondary(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("no_greeting")
    secondary = smtp_server()
    settings = make_settings(
        primary=server_fields(primary, timeout_s=60), secondary=server_fields(secondary)
    )
    token = CancelToken()
    timer = threading.Timer(0.3, token.cancel)
    timer.start()

    report = failover.deliver(settings, outgoing_for(settings), cancel=token)
    timer.join()

    assert isinstance(report.error, DeliveryCancelled)
    assert report.results == []
    assert secondary.connections == 0


def test_password_source_is_used_per_server(smtp_server):
    primary = smtp_server(users={USERNAME: "S3cret!"})
    settings = make_settings(primary=server_fields(primary, auth="smtp", username=USERNAME))

    report = failover.deliver(settings, outgoing_for(settings), password_for=password_is("S3cret!"))

    assert report.ok
    assert primary.auth_attempts == [("PLAIN", USERNAME, True)]
