"""Which server the mailer uses, and what it does when a session is lost while sending."""

from __future__ import annotations

import json
import socket

import pytest
from mailer_support import (
    TIMEOUT_S,
    change_settings,
    fields,
    header,
    mail_log,
    open_mailer,
    queue_add,
    run_cli,
    send_cli,
    stored,
    write_settings,
)
from smtp_servers import free_port

pytestmark = pytest.mark.network


class CountingResolver:
    """Fails every lookup as DNS does for no-such-host.invalid, and records the names."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[tuple]:
        self.lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_closed_primary_sends_batch_through_secondary(smtp_server):
    secondary = smtp_server()
    write_settings(
        primary=fields(host="127.0.0.1", port=free_port()), secondary=fields(secondary)
    )
    ids = [send_cli(f"alert {number}") for number in range(5)]

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert len(secondary.received) == 5
    subjects = sorted(header(message.content, "Subject") for message in secondary.received)
    assert subjects == [f"alert {number}" for number in range(5)]
    assert secondary.connections == 1
    assert [stored(message_id).state for message_id in ids] == ["sent"] * 5
    listing = run_cli("queue", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.strip() == "no queued, sending or failed messages in the queue"
    unsent = run_cli("queue", "list", "--json")
    assert json.loads(unsent.stdout) == []


# --- the choice of server ---------------------------------------------------------------


def test_both_healthy_uses_primary(smtp_server):
    primary, secondary = smtp_server(), smtp_server()
    write_settings(primary=fields(primary), secondary=fields(secondary))
    message_id = queue_add("both healthy")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server == "primary"
    assert report.sent == [message_id]
    assert primary.connections == 1
    assert len(primary.received) == 1
    assert header(primary.received[0].content, "Message-ID") == stored(message_id).message_id
    assert secondary.connections == 0


def test_unticked_primary_is_never_contacted(smtp_server):
    primary, secondary = smtp_server(), smtp_server()
    write_settings(primary=fields(primary, enabled=False), secondary=fields(secondary))
    message_id = queue_add("primary unticked")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server == "secondary"
    assert report.sent == [message_id]
    assert primary.connections == 0
    assert len(secondary.received) == 1
    assert stored(message_id).state == "sent"


def test_unresolvable_primary_fails_over_each_cycle(smtp_server):
    secondary = smtp_server()
    write_settings(
        primary=fields(host="no-such-host.invalid", port=25), secondary=fields(secondary)
    )
    resolver = CountingResolver()
    first_id = queue_add("first cycle")

    with open_mailer(resolver=resolver) as mailer:
        first = mailer.run_cycle()
        second_id = queue_add("second cycle")
        second = mailer.run_cycle()

    assert first.server == "secondary"
    assert first.sent == [first_id]
    assert first.passed_over[0].startswith("primary: resolve failed")
    assert second.server == "secondary"
    assert second.sent == [second_id]
    # The second cycle looked the primary up again before it used the secondary.
    assert resolver.lookups == ["no-such-host.invalid", "no-such-host.invalid"]
    assert len(secondary.received) == 2
    log_text = mail_log()
    assert log_text.count("the host name no-such-host.invalid could not be resolved") == 2
    assert "Traceback" not in log_text


# --- a session lost while sending to the primary -------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("drop_after_data", "the server closed the connection after the message data, before its reply"),
        ("silent_after_data", f"no reply after the message data within {TIMEOUT_S} seconds"),
    ],
)
def test_lost_session_waits_for_primary(fault_smtp_server, smtp_server, fault, reason):
    broken = fault_smtp_server(fault)
    secondary = smtp_server()
    write_settings(primary=fields(broken), secondary=fields(secondary))
    message_id = queue_add("uncertain outcome")
    queued_as = stored(message_id).message_id

    with open_mailer() as mailer:
        first = mailer.run_cycle()
        after_first = stored(message_id)
        healthy = smtp_server()
        change_settings({"primary.port": healthy.port})
        second = mailer.run_cycle()

    assert first.server == "primary"
    assert first.kept == [message_id]
    assert first.connection_lost is not None
    assert secondary.connections == 0
    assert after_first.state == "queued"
    assert after_first.attempts == 1
    assert after_first.last_error.startswith("outcome uncertain: ")
    assert reason in after_first.last_error
    assert "the server may have accepted the message" in after_first.last_error
    assert "connect failed" not in after_first.last_error
    assert header(broken.sessions[0].data[0], "Message-ID") == queued_as

    assert second.server == "primary"
    assert second.sent == [message_id]
    assert secondary.connections == 0
    assert len(healthy.received) == 1
    assert header(healthy.received[0].content, "Message-ID") == queued_as
    delivered = stored(message_id)
    assert delivered.state == "sent"
    assert delivered.attempts == 2
    assert "outcome uncertain" in mail_log()
