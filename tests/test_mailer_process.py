"""``alertmail mailer run`` as a process: settings reread while it runs, signals, one mailer."""

from __future__ import annotations

import sqlite3
import time

import pytest
from mailer_support import (
    INTERVAL_S,
    PROCESS_WAIT_S,
    TIMEOUT_S,
    MailerProcess,
    MailerThread,
    change_settings,
    fields,
    header,
    mail_log,
    mailer_status,
    open_mailer,
    queue_add,
    run_cli,
    sample_status,
    stored,
    queue_path,
    wait_until,
    write_settings,
)

from alertmail.core import queue_schema, status

pytestmark = pytest.mark.network


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("drop_after_data", "the server closed the connection after the message data, before its reply"),
        ("silent_after_data", f"no reply after the message data within {TIMEOUT_S} seconds"),
    ],
)
def test_lost_session_retried_after_port_change(fault_smtp_server, smtp_server, tmp_path, fault, reason):
    broken = fault_smtp_server(fault)
    secondary = smtp_server()
    healthy = smtp_server()
    write_settings(primary=fields(broken), secondary=fields(secondary))
    message_id = queue_add("uncertain outcome")
    queued_as = stored(message_id).message_id

    with MailerProcess(tmp_path) as mailer:
        wait_until(lambda: stored(message_id).attempts >= 1, PROCESS_WAIT_S, "the first attempt")
        after_first = stored(message_id)
        change_settings({"primary.port": healthy.port})
        wait_until(lambda: stored(message_id).state == "sent", PROCESS_WAIT_S, "the resend")
        exit_status = mailer.terminate()

    assert exit_status == 0, mailer.stderr
    assert after_first.state == "queued"
    assert after_first.last_error.startswith("outcome uncertain: ")
    assert reason in after_first.last_error
    assert secondary.connections == 0
    assert len(healthy.received) == 1
    assert header(healthy.received[0].content, "Message-ID") == queued_as
    assert all(header(session.data[0], "Message-ID") == queued_as for session in broken.sessions)
    # Each try on the broken server counted, and the resend that worked too.
    assert stored(message_id).attempts == len(broken.sessions) + 1
    # At most one resend per interval.
    times = broken.connection_times
    assert all(later - earlier >= INTERVAL_S * 0.9 for earlier, later in zip(times, times[1:]))
    log_text = mail_log()
    assert "mailer started" in log_text
    assert "settings changed; the next batch uses them" in log_text
    assert "mailer stopped" in log_text


# --- held queues --------------------------------------------------------------------


def test_no_server_enabled_keeps_queue():
    write_settings()
    message_id = queue_add("no server")

    with open_mailer() as mailer:
        report = mailer.run_cycle()

    assert report.sent == []
    assert report.reason.startswith("nothing sent: no mail server is enabled")
    message = stored(message_id)
    assert message.state == "queued"
    assert message.attempts == 0
    recorded = mailer_status()
    assert recorded["state"] == "idle"
    assert "no mail server is enabled" in recorded["message"]
    assert "primary.enabled or secondary.enabled" in recorded["message"]


def test_once_without_server_exits_2():
    write_settings()
    message_id = queue_add("no server")

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 2
    assert "primary.enabled" in result.stderr
    assert "no mail server is enabled" in result.stderr
    assert stored(message_id).state == "queued"


def test_running_mailer_keeps_no_server_reason(tmp_path):
    write_settings()
    message_id = queue_add("no server")

    with MailerProcess(tmp_path) as mailer:
        wait_until(
            lambda: "nothing sent: no mail server is enabled" in mail_log(), PROCESS_WAIT_S,
            "the first batch",
        )
        # Longer than one interval, so the samples span a wait and the next batch.
        samples = sample_status(INTERVAL_S * 1.5)
        exit_status = mailer.terminate()

    assert exit_status == 0, mailer.stderr
    states = [sample["state"] for sample in samples]
    assert "waiting" not in states
    assert "idle" in states
    for sample in samples:
        if sample["state"] == "idle":
            assert "no mail server is enabled" in sample["message"]
    assert stored(message_id).state == "queued"
    assert stored(message_id).attempts == 0


def test_disabled_mailer_resumes_without_restart(smtp_server, tmp_path):
    server = smtp_server()
    write_settings(primary=fields(server), values={"mailer.enabled": False})
    message_id = queue_add("held")

    with MailerProcess(tmp_path) as mailer:
        disabled_status = wait_until(
            lambda: (mailer_status() or {}).get("state") == "disabled" and mailer_status(),
            PROCESS_WAIT_S, "the disabled status",
        )
        samples = sample_status(INTERVAL_S * 1.5)
        connections_while_held = server.connections
        state_while_held = stored(message_id).state
        change_settings({"mailer.enabled": True})
        wait_until(lambda: len(server.received) == 1, PROCESS_WAIT_S, "the message")
        pid = mailer.pid
        exit_status = mailer.terminate()

    assert exit_status == 0, mailer.stderr
    assert connections_while_held == 0
    assert state_while_held == "queued"
    assert disabled_status["pid"] == pid
    assert "mailer.enabled = false" in disabled_status["message"]
    assert "1 messages kept" in disabled_status["message"]
    assert {sample["state"] for sample in samples} == {"disabled"}
    assert stored(message_id).state == "sent"
    assert mailer_status()["state"] == "stopped"


def test_second_mailer_exits_1(tmp_path):
    write_settings()

    with MailerProcess(tmp_path) as first:
        wait_until(status.mailer_running, PROCESS_WAIT_S, "the first mailer's lock")
        second = run_cli("mailer", "run", timeout_s=PROCESS_WAIT_S)
        first_still_running = first.running()
        exit_status = first.terminate()

    assert second.returncode == 1
    assert "another mailer is already sending from the queue" in second.stderr
    assert "only one mailer runs at a time" in second.stderr
    assert first_still_running
    assert exit_status == 0, first.stderr


def test_sigterm_cancels_waiting_connect(fault_smtp_server, tmp_path):
    silent = fault_smtp_server("no_greeting")
    write_settings(primary=fields(silent, timeout_s=60))
    message_id = queue_add("stopped while connecting")

    with MailerProcess(tmp_path) as mailer:
        wait_until(lambda: silent.connections == 1, PROCESS_WAIT_S, "the connection")
        started = time.monotonic()
        exit_status = mailer.terminate()
        stop_s = time.monotonic() - started

    assert exit_status == 0, mailer.stderr
    # The greeting wait is cut short instead of running to its 60 s timeout.
    assert stop_s < 5
    message = stored(message_id)
    assert message.state == "queued"
    assert message.attempts == 0
    assert message.last_error == "not sent: the batch was cancelled while connecting to a server"
    assert "mailer stopped" in mail_log()


def test_locked_queue_does_not_stop_mailer(smtp_server, monkeypatch):
    # A short wait for the lock, so a batch gives up quickly while the test holds it.
    monkeypatch.setattr(queue_schema, "BUSY_TIMEOUT_S", 0.2)
    server = smtp_server()
    write_settings(primary=fields(server))
    message_id = queue_add("after the lock")

    with MailerThread() as running:
        wait_until(lambda: "mailer started" in mail_log(), PROCESS_WAIT_S, "the mailer's start")
        blocker = sqlite3.connect(queue_path(), isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")
            wait_until(lambda: "the queue could not be used" in mail_log(), PROCESS_WAIT_S, "a failed batch")
            alive_while_locked = running.thread.is_alive()
            status_while_locked = mailer_status()
        finally:
            blocker.close()
        wait_until(lambda: len(server.received) == 1, PROCESS_WAIT_S, "the message")

    assert alive_while_locked
    assert status_while_locked["state"] == "idle"
    assert "database is locked" in status_while_locked["message"]
    assert stored(message_id).state == "sent"
    assert not running.thread.is_alive()
