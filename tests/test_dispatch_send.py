"""One transaction per message: outcomes, refusals, lost sessions, SMTPUTF8, line endings."""

from __future__ import annotations

import logging

import pytest
from delivery_helpers import Stopwatch, make_settings, server_fields

from alertmail.core import messages
from alertmail.core.dispatch import MessageLost, SmtpDispatcher
from alertmail.core.errors import SettingError, Step
from alertmail.core.transaction import NO_SMTPUTF8

pytestmark = pytest.mark.network


def session_for(server, *, timeout_s: int = 3, **general):
    """Return (settings, connected dispatcher) for ``server`` as the primary."""
    settings = make_settings(primary=server_fields(server, timeout_s=timeout_s), **general)
    dispatcher = SmtpDispatcher(settings.server("primary"))
    dispatcher.connect()
    return settings, dispatcher


def errors_message(settings, body: str = "first line\nsecond line\n"):
    return messages.build_message(settings, "errors", "alert", body)


# --- recipients -------------------------------------------------------------------


def test_one_refused_recipient_gives_partial(smtp_server):
    server = smtp_server(refuse={"gone@example.com": "550 5.1.1 mailbox unavailable"})
    settings, dispatcher = session_for(server, errors_to="ops@example.com; gone@example.com")

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == "partial"
    assert result.delivered
    assert result.accepted == ["ops@example.com"]
    assert result.refused == {"gone@example.com": (550, "5.1.1 mailbox unavailable")}
    assert result.summary().startswith(
        "1 of 2 recipients refused: gone@example.com 550 5.1.1 mailbox unavailable"
    )
    assert len(server.received) == 1
    assert server.received[0].rcpt_tos == ["ops@example.com"]


def test_all_refused_keeps_session_for_next_message(smtp_server):
    server = smtp_server(refuse={"gone@example.com": "550 5.1.1 mailbox unavailable"})
    settings, dispatcher = session_for(server, errors_to="gone@example.com")

    with dispatcher:
        refused = dispatcher.send(errors_message(settings))
        sent = dispatcher.send(messages.build_message(settings, "reports", "report", "numbers\n"))

    assert refused.outcome == "refused"
    assert refused.step is Step.RCPT
    assert not refused.delivered
    assert refused.summary() == (
        "not delivered: every recipient was refused: gone@example.com 550 5.1.1 mailbox unavailable"
    )
    assert sent.outcome == "sent"
    assert [message.rcpt_tos for message in server.received] == [["reports@example.com"]]


@pytest.mark.parametrize(
    ("script", "outcome", "step", "code"),
    [
        ("rcpt_451", "deferred", Step.RCPT, 451),
        ("mail_451", "deferred", Step.MAIL, 451),
        ("data_451", "deferred", Step.DATA, 451),
        ("data_554", "refused", Step.DATA, 554),
    ],
)
def test_server_reply_decides_outcome(fault_smtp_server, script, outcome, step, code):
    server = fault_smtp_server(script)
    settings, dispatcher = session_for(server)

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == outcome
    assert result.step is step
    assert result.code == code
    assert result.reply
    assert not result.delivered
    assert str(code) in result.summary()


def test_data_554_reply_text_is_kept(fault_smtp_server):
    server = fault_smtp_server("data_554")
    settings, dispatcher = session_for(server)

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.reply == "5.7.1 message rejected as spam"


# --- the end of the data ------------------------------------------------------------


def test_close_right_after_250_counts_as_sent(fault_smtp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="alertmail")
    server = fault_smtp_server("close_after_accept")
    settings, dispatcher = session_for(server)

    result = dispatcher.send(errors_message(settings))
    dispatcher.close()

    assert result.outcome == "sent"
    assert result.code == 250
    quit_records = [record for record in caplog.records if "QUIT" in record.getMessage()]
    assert quit_records
    assert all(record.levelno == logging.DEBUG for record in quit_records)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_drop_after_data_is_uncertain(fault_smtp_server):
    server = fault_smtp_server("drop_after_data")
    settings, dispatcher = session_for(server)

    with dispatcher, pytest.raises(MessageLost) as caught:
        dispatcher.send(errors_message(settings))

    assert caught.value.step is Step.DATA
    assert caught.value.result.outcome == "uncertain"
    assert "closed the connection after the message data" in caught.value.result.detail
    assert len(server.sessions[0].data) == 1


def test_silence_after_data_is_uncertain_within_timeout(fault_smtp_server):
    server = fault_smtp_server("silent_after_data")
    settings, dispatcher = session_for(server, timeout_s=2)
    message = errors_message(settings)

    with dispatcher, Stopwatch() as watch, pytest.raises(MessageLost) as caught:
        dispatcher.send(message)

    assert watch.elapsed < 2 + 2
    result = caught.value.result
    assert result.outcome == "uncertain"
    assert result.message_id == message.message_id
    assert result.summary() == (
        "outcome uncertain: no reply after the message data within 2 seconds; "
        "the server may have accepted the message"
    )


def test_reply_421_ends_session(fault_smtp_server):
    server = fault_smtp_server("rcpt_421")
    settings, dispatcher = session_for(server)

    with dispatcher:
        with pytest.raises(MessageLost) as first:
            dispatcher.send(errors_message(settings))
        with pytest.raises(MessageLost) as second:
            dispatcher.send(errors_message(settings))

    assert first.value.code == 421
    assert first.value.result.outcome == "deferred"
    assert second.value.result.outcome == "deferred"
    assert len(server.sessions) == 1


# --- SMTPUTF8 and internationalized addresses ------------------------------------------


def test_smtputf8_offered_sends_to_every_address(smtp_server):
    server = smtp_server(smtputf8=True)
    settings, dispatcher = session_for(server, errors_to="müller@example.com, ops@example.com")

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == "sent"
    received = server.received[0]
    assert received.rcpt_tos == ["müller@example.com", "ops@example.com"]
    assert "SMTPUTF8" in received.mail_options
    assert "To: müller@example.com, ops@example.com".encode() in received.content


def test_without_smtputf8_non_ascii_mailbox_is_refused_locally(smtp_server):
    server = smtp_server(smtputf8=False)
    settings, dispatcher = session_for(server, errors_to="müller@example.com, ops@example.com")

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == "partial"
    assert result.refused == {"müller@example.com": (None, NO_SMTPUTF8)}
    assert result.accepted == ["ops@example.com"]
    received = server.received[0]
    assert received.rcpt_tos == ["ops@example.com"]
    assert "SMTPUTF8" not in received.mail_options
    assert received.content.isascii()


def test_without_smtputf8_idn_domain_goes_as_punycode(smtp_server):
    server = smtp_server(smtputf8=False)
    settings, dispatcher = session_for(server, errors_to="ops@bücher.example")

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == "sent"
    assert result.accepted == ["ops@bücher.example"]
    assert server.received[0].rcpt_tos == ["ops@xn--bcher-kva.example"]


def test_non_ascii_from_name_is_encoded(smtp_server):
    server = smtp_server(smtputf8=False)
    settings, dispatcher = session_for(server, from_name="Überwachung")

    with dispatcher:
        result = dispatcher.send(errors_message(settings))

    assert result.outcome == "sent"
    received = server.received[0]
    assert received.mail_from == "alerts@example.com"
    assert b"From: =?utf-8?q?=C3=9Cberwachung?= <alerts@example.com>\r\n" in received.content


# --- line endings, dot-stuffing, injected line breaks --------------------------------------


def test_stored_bare_lf_message_reaches_strict_server(smtp_server):
    server = smtp_server(strict_crlf=True)
    settings, dispatcher = session_for(server)
    original = errors_message(settings, body="before\n.\nafter\n")
    stored = original.message.as_bytes().replace(b"\r\n", b"\n")
    assert b"\r" not in stored
    restored = messages.restore_message("errors", original.sender, original.recipients, stored)

    with dispatcher:
        result = dispatcher.send(restored)

    assert result.outcome == "sent"
    content = server.received[0].content
    assert b"\r\nbefore\r\n.\r\nafter\r\n" in content
    assert f"Message-ID: {original.message_id}\r\n".encode() in content


def test_wire_data_is_dot_stuffed_with_crlf(fault_smtp_server):
    server = fault_smtp_server("ok")
    settings, dispatcher = session_for(server)

    with dispatcher:
        result = dispatcher.send(errors_message(settings, body="before\n.\n..two\nafter"))

    assert result.outcome == "sent"
    wire = server.sessions[0].data[0]
    assert b"\r\nbefore\r\n..\r\n...two\r\nafter\r\n" in wire
    assert wire.count(b"\n") == wire.count(b"\r\n")


def test_line_break_in_sender_never_reaches_wire(fault_smtp_server):
    server = fault_smtp_server("ok")
    settings, dispatcher = session_for(server)
    message = errors_message(settings)
    message.sender = "alerts@example.com\r\nRCPT TO:<x@example.net>"

    with dispatcher, pytest.raises(SettingError) as caught:
        dispatcher.send(message)

    assert caught.value.key == "general.from_address"
    assert not any(line.startswith(("MAIL", "RCPT")) for line in server.sessions[0].commands)


def test_line_break_in_recipient_never_reaches_wire(fault_smtp_server):
    server = fault_smtp_server("ok")
    settings, dispatcher = session_for(server)
    message = errors_message(settings)
    message.recipients = ["ops@example.com\nDATA"]

    with dispatcher, pytest.raises(SettingError) as caught:
        dispatcher.send(message)

    assert caught.value.key == "general.errors_to"
    assert not any(line.startswith(("MAIL", "RCPT")) for line in server.sessions[0].commands)
