"""The time budget of reaching a server, and cancellation from another thread."""

from __future__ import annotations

import threading

import pytest
from delivery_helpers import Stopwatch, make_settings, primary_server, server_fields
from servers import failing_resolver, loopback_resolver

from alertmail.core import messages
from alertmail.core.dispatch import CancelToken, MessageCancelled, SmtpDispatcher
from alertmail.core.errors import ConnectFailure, DeliveryCancelled, Step

pytestmark = pytest.mark.network

BUDGET_S = 2


def cancel_after(token: CancelToken, seconds: float) -> threading.Thread:
    """Start a thread that cancels ``token`` after ``seconds``; the caller joins it."""
    timer = threading.Timer(seconds, token.cancel)
    timer.start()
    return timer


def test_dead_addresses_share_one_budget(dead_addresses):
    addresses, port = dead_addresses(4)
    settings = primary_server(host="mail.example.test", port=port, timeout_s=BUDGET_S)
    dispatcher = SmtpDispatcher(settings, resolver=loopback_resolver(addresses))

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        dispatcher.connect()

    assert watch.elapsed < BUDGET_S + 2
    assert watch.elapsed >= BUDGET_S - 0.5
    assert caught.value.step is Step.CONNECT
    assert "within 2 seconds" in caught.value.detail
    assert "4 addresses" in caught.value.detail


def test_live_address_after_dead_ones_still_connects(dead_addresses, smtp_server):
    server = smtp_server()
    addresses, _ = dead_addresses(2, server.port)
    resolver = loopback_resolver(addresses + ["127.0.0.1"])
    settings = primary_server(host="mail.example.test", port=server.port, timeout_s=BUDGET_S)
    dispatcher = SmtpDispatcher(settings, resolver=resolver)

    with Stopwatch() as watch:
        dispatcher.connect()
    dispatcher.close()

    # The dead addresses come first; the live one is tried 250 ms after each.
    assert watch.elapsed < 1.5
    assert server.connections == 1


def test_stalled_resolver_fails_within_budget(blocking_resolver):
    settings = primary_server(host="slow.example.test", port=25, timeout_s=BUDGET_S)

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, resolver=blocking_resolver).connect()

    assert watch.elapsed < BUDGET_S + 2
    assert caught.value.step is Step.RESOLVE
    assert "slow.example.test could not be resolved within 2 seconds" in caught.value.detail
    assert blocking_resolver.calls == 1


def test_unresolvable_name_is_named():
    settings = primary_server(host="no-such-host.invalid", port=25)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, resolver=failing_resolver).connect()

    assert caught.value.step is Step.RESOLVE
    assert "the host name no-such-host.invalid could not be resolved" in caught.value.detail
    assert caught.value.describe().startswith("resolve failed:")


def test_cancel_interrupts_wait_for_greeting(fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    token = CancelToken()
    dispatcher = SmtpDispatcher(primary_server(server, timeout_s=60), cancel=token)
    timer = cancel_after(token, 0.3)

    with Stopwatch() as watch, pytest.raises(DeliveryCancelled) as caught:
        dispatcher.connect()
    timer.join()

    assert watch.elapsed < 0.3 + 1
    assert caught.value.step is Step.GREETING
    assert server.connections == 1


def test_cancel_abandons_stalled_resolver(blocking_resolver):
    token = CancelToken()
    settings = primary_server(host="slow.example.test", port=25, timeout_s=60)
    timer = cancel_after(token, 0.3)

    with Stopwatch() as watch, pytest.raises(DeliveryCancelled) as caught:
        SmtpDispatcher(settings, resolver=blocking_resolver, cancel=token).connect()
    timer.join()

    assert watch.elapsed < 0.3 + 1
    assert caught.value.step is Step.RESOLVE


def test_cancel_interrupts_connect_in_progress(dead_addresses):
    addresses, port = dead_addresses(1)
    token = CancelToken()
    settings = primary_server(host=addresses[0], port=port, timeout_s=60)
    timer = cancel_after(token, 0.3)

    with Stopwatch() as watch, pytest.raises(DeliveryCancelled) as caught:
        SmtpDispatcher(settings, cancel=token).connect()
    timer.join()

    assert watch.elapsed < 0.3 + 1
    assert caught.value.step is Step.CONNECT


def test_cancel_interrupts_wait_after_data(fault_smtp_server):
    server = fault_smtp_server("silent_after_data")
    token = CancelToken()
    settings = make_settings(primary=server_fields(server, timeout_s=60))
    message = messages.build_message(settings, "errors", "cancel test", "body\n")
    dispatcher = SmtpDispatcher(settings.server("primary"), cancel=token)
    dispatcher.connect()
    timer = cancel_after(token, 0.3)

    with Stopwatch() as watch, pytest.raises(MessageCancelled) as caught:
        dispatcher.send(message)
    timer.join()
    dispatcher.close()

    assert watch.elapsed < 0.3 + 1
    assert caught.value.step is Step.DATA
    assert caught.value.result.outcome == "uncertain"


def test_cancel_before_connect_sends_nothing(fault_smtp_server):
    server = fault_smtp_server("ok")
    token = CancelToken()
    token.cancel()

    with pytest.raises(DeliveryCancelled):
        SmtpDispatcher(primary_server(server), cancel=token).connect()

    assert token.cancelled
    assert all(not session.commands for session in server.sessions)
