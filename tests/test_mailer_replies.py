"""What the mailer does with each message by the server's reply, attempt limits and order."""

from __future__ import annotations

import pytest
from mailer_support import (
    fields,
    header,
    mail_log,
    open_mailer,
    queue_add,
    run_cli,
    stored,
    write_settings,
)
from smtp_servers import FaultScript

from alertmail.core.queue import Queue

pytestmark = pytest.mark.network

EVERY_RECIPIENT_REFUSED = FaultScript(rcpt_default="550 5.1.1 mailbox unavailable")


def test_rcpt_451_keeps_message_queued(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("rcpt_451")
    secondary = smtp_server()
    write_settings(primary=fields(primary), secondary=fields(secondary))
    message_id = queue_add("greylisted")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server == "primary"
    assert report.kept == [message_id]
    message = stored(message_id)
    assert message.state == "queued"
    assert message.attempts == 1
    assert "451 4.3.0 try again later" in message.last_error
    assert secondary.connections == 0


def test_one_refused_recipient_recorded(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("rcpt_550_one")
    secondary = smtp_server()
    write_settings(
        primary=fields(primary), secondary=fields(secondary),
        values={"general.errors_to": "ops@example.com; gone@example.com"},
    )
    message_id = queue_add("partly refused")

    with open_mailer() as mailer:
        first = mailer.run_cycle()
        second = mailer.run_cycle()

    assert first.sent == [message_id]
    message = stored(message_id)
    assert message.state == "sent"
    assert message.refused == {"gone@example.com": (550, "5.1.1 mailbox unavailable")}
    assert "gone@example.com" in message.last_error
    assert "1 of 2 recipients refused: gone@example.com 550 5.1.1 mailbox unavailable" in mail_log()
    assert second.empty
    # ops@example.com got the message once: one session, one transaction.
    assert primary.connections == 1
    assert len(primary.sessions[0].data) == 1
    assert "RCPT TO:<ops@example.com>" in primary.sessions[0].commands
    assert secondary.connections == 0


def test_every_recipient_refused_fails(fault_smtp_server, smtp_server):
    primary = fault_smtp_server(EVERY_RECIPIENT_REFUSED)
    secondary = smtp_server()
    write_settings(primary=fields(primary), secondary=fields(secondary))
    message_id = queue_add("refused")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.failed == [message_id]
    message = stored(message_id)
    assert message.state == "failed"
    assert "every recipient was refused" in message.last_error
    assert "ops@example.com 550 5.1.1 mailbox unavailable" in message.last_error
    assert message.refused == {"ops@example.com": (550, "5.1.1 mailbox unavailable")}
    assert primary.sessions[0].data == []
    assert secondary.connections == 0


def test_data_554_fails_with_reply(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("data_554")
    secondary = smtp_server()
    write_settings(primary=fields(primary), secondary=fields(secondary))
    first_id = queue_add("spam verdict")
    second_id = queue_add("spam verdict again")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    # A permanent reply to one message neither stops the batch nor switches servers.
    assert report.failed == [first_id, second_id]
    for message_id in (first_id, second_id):
        message = stored(message_id)
        assert message.state == "failed"
        assert "554 5.7.1 message rejected as spam" in message.last_error
    assert primary.connections == 1
    assert len(primary.sessions[0].data) == 2
    assert secondary.connections == 0


def test_close_after_accept_counts_as_sent(fault_smtp_server, smtp_server):
    primary = fault_smtp_server("close_after_accept")
    secondary = smtp_server()
    write_settings(primary=fields(primary), secondary=fields(secondary))
    message_id = queue_add("accepted then closed")

    with open_mailer() as mailer:
        first = mailer.run_cycle()
        second = mailer.run_cycle()

    assert first.sent == [message_id]
    assert first.reason is None
    message = stored(message_id)
    assert message.state == "sent"
    assert message.attempts == 1
    assert second.empty
    assert primary.connections == 1
    assert secondary.connections == 0


# --- attempts ---------------------------------------------------------------------


def test_max_attempts_parks_then_retry_resets(fault_smtp_server):
    primary = fault_smtp_server("rcpt_451")
    write_settings(primary=fields(primary), values={"mailer.max_attempts": 3})
    message_id = queue_add("keeps failing")

    states = []
    with open_mailer() as mailer:
        for _ in range(4):
            mailer.run_cycle()
            states.append(stored(message_id).state)

    assert states == ["queued", "queued", "failed", "failed"]
    assert primary.connections == 3
    parked = stored(message_id)
    assert parked.attempts == 3
    assert parked.last_error.startswith("gave up after 3 attempts: ")
    assert "451 4.3.0 try again later" in parked.last_error

    result = run_cli("queue", "retry", str(message_id))

    assert result.returncode == 0, result.stderr
    reset = stored(message_id)
    assert reset.state == "queued"
    assert reset.attempts == 0
    assert reset.last_error is None


def test_fewer_attempts_go_first(smtp_server):
    server = smtp_server()
    write_settings(primary=fields(server))
    tried_id = queue_add("tried five times")
    with Queue() as queue:
        for _ in range(5):
            queue.claim_batch()
            queue.mark_deferred(tried_id, "451 4.3.0 try again later")
    fresh_ids = [queue_add("fresh one"), queue_add("fresh two")]

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert stored(tried_id).attempts == 6
    assert report.sent == [*fresh_ids, tried_id]
    received_ids = [header(message.content, "Message-ID") for message in server.received]
    assert received_ids == [stored(message_id).message_id for message_id in (*fresh_ids, tried_id)]
    assert f"claimed 3 messages for sending: {fresh_ids[0]}, {fresh_ids[1]}, {tried_id}" in mail_log()
