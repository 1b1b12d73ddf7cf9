"""The mailer when the primary's login cannot happen: POP before send fails, the keyring fails."""

from __future__ import annotations

import time

import keyring_backends
import pytest
from delivery_helpers import PASSWORD, USERNAME
from mailer_support import (
    PROCESS_WAIT_S,
    TIMEOUT_S,
    MailerThread,
    fields,
    mail_log,
    open_mailer,
    queue_add,
    stored,
    wait_until,
    write_settings,
)
from pop3_server import LOGON_FAILURE

from alertmail.core import secrets

pytestmark = pytest.mark.network

UNREADABLE = "SMTP password for the primary server could not be read from the keyring"


def pop_fields(server, pop) -> dict:
    return fields(
        server, auth="pop_before_smtp", username=USERNAME, pop_host=pop.host, pop_port=pop.port
    )


# --- POP before send ---------------------------------------------------------------


def test_pop_logon_failure_fails_over(smtp_server, pop3_server):
    primary, secondary, pop = smtp_server(), smtp_server(), pop3_server("reject")
    secrets.store_password("primary", PASSWORD)
    write_settings(primary=pop_fields(primary, pop), secondary=fields(secondary))
    message_id = queue_add("POP rejects")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server == "secondary"
    assert report.sent == [message_id]
    assert LOGON_FAILURE in report.passed_over[0]
    assert primary.connections == 0
    assert len(secondary.received) == 1
    assert pop.logins == [(USERNAME, PASSWORD)]
    assert LOGON_FAILURE in mail_log()


def test_silent_pop_reaches_secondary_in_time(smtp_server, pop3_server):
    primary, secondary, pop = smtp_server(), smtp_server(), pop3_server("silent")
    secrets.store_password("primary", PASSWORD)
    write_settings(primary=pop_fields(primary, pop), secondary=fields(secondary))
    message_id = queue_add("POP silent")

    with open_mailer() as mailer:
        started = time.monotonic()
        report = mailer.run_cycle()

    assert report.server == "secondary"
    assert report.sent == [message_id]
    assert "POP login failed" in report.passed_over[0]
    assert secondary.connection_times[0] - started < TIMEOUT_S + 2
    assert primary.connections == 0


def test_pop_logon_failure_without_secondary_keeps_message(smtp_server, pop3_server):
    primary, pop = smtp_server(), pop3_server("reject")
    secrets.store_password("primary", PASSWORD)
    write_settings(primary=pop_fields(primary, pop))
    message_id = queue_add("POP rejects, no secondary")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server is None
    assert report.kept == [message_id]
    message = stored(message_id)
    assert message.state == "queued"
    assert message.attempts == 0
    assert LOGON_FAILURE in message.last_error
    assert primary.connections == 0


# --- the keyring at send time ------------------------------------------------------------


@pytest.mark.parametrize("backend", [keyring_backends.LockedKeyring, keyring_backends.EmptyReadKeyring])
def test_unreadable_password_keeps_mailer_running(smtp_server, test_keyring, backend):
    primary = smtp_server(users={USERNAME: PASSWORD})
    secrets.store_password("primary", PASSWORD)
    keyring_backends.install(backend, test_keyring)
    write_settings(primary=fields(primary, auth="smtp", username=USERNAME))
    message_id = queue_add("password unreadable")

    with MailerThread() as running:
        wait_until(
            lambda: mail_log().count("batch through no server") >= 2, PROCESS_WAIT_S, "a second batch"
        )

    assert not running.thread.is_alive()
    # The password is read after EHLO, so each batch opened one connection.
    assert primary.connections >= 2
    assert primary.auth_attempts == []
    assert primary.received == []
    message = stored(message_id)
    assert message.state == "queued"
    assert message.attempts == 0
    assert UNREADABLE in message.last_error
    log_text = mail_log()
    assert log_text.count(UNREADABLE) >= 2
    assert "mailer stopped" in log_text


@pytest.mark.parametrize("backend", [keyring_backends.LockedKeyring, keyring_backends.EmptyReadKeyring])
def test_unreadable_password_fails_over(smtp_server, test_keyring, backend):
    primary = smtp_server(users={USERNAME: PASSWORD})
    secondary = smtp_server()
    secrets.store_password("primary", PASSWORD)
    keyring_backends.install(backend, test_keyring)
    write_settings(primary=fields(primary, auth="smtp", username=USERNAME), secondary=fields(secondary))
    message_id = queue_add("password unreadable, secondary ready")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.server == "secondary"
    assert report.sent == [message_id]
    assert UNREADABLE in report.passed_over[0]
    assert primary.auth_attempts == []
    assert len(secondary.received) == 1
    assert f"primary server passed over: password failed: {UNREADABLE}" in mail_log()
