"""POP before send: the login, its order before SMTP, and its failures."""

from __future__ import annotations

import logging

import pytest
from delivery_helpers import USERNAME, Stopwatch, make_settings, password_is, primary_server, server_fields
from pop3_server import LOGON_FAILURE

from alertmail.core import messages
from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.errors import ConnectFailure, Step
from alertmail.core.transcript import Transcript

pytestmark = pytest.mark.network

POP_PASSWORD = "Pässwörd€1"


def pop_settings(smtp, pop, **fields):
    return primary_server(
        smtp, auth="pop_before_smtp", username=USERNAME, pop_host=pop.host, pop_port=pop.port, **fields
    )


def test_pop_login_precedes_smtp_and_mail_is_sent(smtp_server, pop3_server, caplog):
    caplog.set_level(logging.DEBUG)
    smtp = smtp_server()
    pop = pop3_server("ok", users={USERNAME: POP_PASSWORD})
    settings = pop_settings(smtp, pop)
    message = messages.build_message(
        make_settings(primary=server_fields()), "errors", "pop test", "body\n"
    )
    transcript = Transcript()

    with SmtpDispatcher(settings, password_for=password_is(POP_PASSWORD), transcript=transcript) as dispatcher:
        dispatcher.connect()
        result = dispatcher.send(message)

    assert result.outcome == "sent"
    assert pop.logins == [(USERNAME, POP_PASSWORD)]
    events = [event for _, event in pop.events]
    assert events[:5] == ["connect", "greeting", f"USER {USERNAME}", "PASS", "login ok"]
    assert "QUIT" in events
    assert pop.time_of("QUIT") < smtp.connection_times[0]
    assert "C: PASS <redacted>" in transcript.lines
    assert POP_PASSWORD not in "\n".join(transcript.lines) + caplog.text


def test_silent_pop_server_fails_within_budget(smtp_server, pop3_server):
    smtp = smtp_server()
    pop = pop3_server("silent")
    settings = pop_settings(smtp, pop, timeout_s=2)

    with Stopwatch() as watch, pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(POP_PASSWORD)).connect()

    assert watch.elapsed < 2 + 2
    assert caught.value.step is Step.POP_LOGIN
    assert "sent no greeting within 2 seconds" in caught.value.detail
    assert smtp.connections == 0


def test_pop_logon_failure_carries_reply(smtp_server, pop3_server):
    smtp = smtp_server()
    pop = pop3_server("reject")
    settings = pop_settings(smtp, pop)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(POP_PASSWORD)).connect()

    assert caught.value.step is Step.POP_LOGIN
    assert caught.value.reply == LOGON_FAILURE
    assert f"rejected the login for user {USERNAME}" in caught.value.detail
    assert LOGON_FAILURE in caught.value.describe()
    assert smtp.connections == 0


def test_unreadable_password_skips_pop(smtp_server, pop3_server):
    smtp = smtp_server()
    pop = pop3_server("ok", users={USERNAME: POP_PASSWORD})
    settings = pop_settings(smtp, pop)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=lambda name: None).connect()

    assert caught.value.step is Step.PASSWORD
    assert pop.events == []
    assert smtp.connections == 0


def test_pop_server_not_listening(smtp_server, pop3_server):
    smtp = smtp_server()
    pop = pop3_server("ok")
    pop.stop()
    settings = pop_settings(smtp, pop)

    with pytest.raises(ConnectFailure) as caught:
        SmtpDispatcher(settings, password_for=password_is(POP_PASSWORD)).connect()

    assert caught.value.step is Step.POP_LOGIN
    assert "refused" in caught.value.detail
