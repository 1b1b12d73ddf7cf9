"""The dispatcher's hooks around each transaction, its transcript when none is given, and its log lines."""

from __future__ import annotations

import logging

import pytest
from delivery_helpers import Stopwatch, make_settings, server_fields

from alertmail.core import messages
from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network


def connected(server, transcript: Transcript | None = None):
    """Return (settings, connected dispatcher) for ``server`` as the primary."""
    settings = make_settings(primary=server_fields(server), errors_to="ops@example.com; noc@example.com")
    dispatcher = SmtpDispatcher(settings.server("primary"), transcript=transcript)
    dispatcher.connect()
    return settings, dispatcher


def alert(settings, number: int = 0) -> messages.OutgoingMessage:
    return messages.build_message(settings, "errors", f"alert {number}", "body\n")


def test_hooks_run_around_each_reply(smtp_server):
    server = smtp_server()
    settings, dispatcher = connected(server)
    calls: list[tuple[str, int]] = []

    with dispatcher:
        result = dispatcher.send(
            alert(settings),
            while_waiting=lambda: calls.append(("while_waiting", len(server.received))),
            before_data=lambda: calls.append(("before_data", len(server.received))),
        )

    assert result.outcome == "sent"
    # MAIL, two RCPT and DATA commands, then the data.
    assert calls == [("while_waiting", 0)] * 4 + [("before_data", 0)]
    assert len(server.received) == 1


def test_before_data_error_ends_session(smtp_server):
    server = smtp_server()
    settings, dispatcher = connected(server)

    def fail() -> None:
        raise RuntimeError("queue unusable")

    with Stopwatch() as closing:
        with dispatcher:
            with pytest.raises(RuntimeError, match="queue unusable"):
                dispatcher.send(alert(settings), before_data=fail)
            connected_after = dispatcher.connected

    assert not connected_after
    assert server.received == []
    # No QUIT is sent into the data the server waits for, so closing does
    # not wait for the QUIT timeout.
    assert closing.elapsed < 2


def test_while_waiting_error_ends_session(smtp_server):
    server = smtp_server()
    settings, dispatcher = connected(server)

    def fail() -> None:
        raise RuntimeError("bookkeeping failed")

    with dispatcher:
        with pytest.raises(RuntimeError, match="bookkeeping failed"):
            dispatcher.send(alert(settings), while_waiting=fail)
        connected_after = dispatcher.connected

    assert not connected_after
    assert server.received == []


def test_no_transcript_keeps_no_message_lines(smtp_server, caplog):
    # Lines are still made when DEBUG logging of the transcript is on.
    caplog.set_level(logging.INFO, logger="alertmail.transcript")
    server = smtp_server()
    settings, dispatcher = connected(server)

    with dispatcher:
        dispatcher.send(alert(settings))

    lines = dispatcher.transcript.lines
    assert any(line.startswith("S: 220") for line in lines)
    assert not any(line.startswith("C: MAIL FROM") for line in lines)
    assert not any(line.startswith("C: <message data") for line in lines)


def test_no_transcript_lines_logged_at_debug(smtp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="alertmail.transcript")
    server = smtp_server()
    settings, dispatcher = connected(server)

    with dispatcher:
        dispatcher.send(alert(settings))

    logged = [record.getMessage() for record in caplog.records if record.name == "alertmail.transcript"]
    assert "C: MAIL FROM:<alerts@example.com> SIZE=" in "\n".join(logged)
    assert "C: RCPT TO:<noc@example.com>" in logged
    assert "C: QUIT" in logged


def test_given_transcript_keeps_every_line(smtp_server):
    server = smtp_server()
    transcript = Transcript()
    settings, dispatcher = connected(server, transcript)

    with dispatcher:
        dispatcher.send(alert(settings))

    assert "C: RCPT TO:<ops@example.com>" in transcript.lines
    assert "C: DATA" in transcript.lines
    assert transcript.lines[-2:] == ["C: QUIT", "S: 221 Bye"]


def test_result_lines_logged_in_order(smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="alertmail.core.dispatch")
    server = smtp_server()
    settings, dispatcher = connected(server)
    built = [alert(settings, number) for number in range(3)]

    def result_lines() -> list[str]:
        return [record.getMessage() for record in caplog.records if "through the primary server" in record.getMessage()]

    with dispatcher:
        dispatcher.send(built[0])
        after_first = result_lines()
        dispatcher.send(built[1])
        after_second = result_lines()
        dispatcher.send(built[2])

    expected = [
        f"message {message.message_id} (errors) through the primary server: delivered to 2 recipients"
        for message in built
    ]
    # Each line is written while the server works on the next message, or at close.
    assert after_first == []
    assert after_second == expected[:1]
    assert result_lines() == expected
