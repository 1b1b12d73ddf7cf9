"""The mail log: start, stop, each batch and each error with message ids.

With verbose logging it also has the SMTP conversation, which never contains the password.
"""

from __future__ import annotations

import base64
import signal

import pytest
from delivery_helpers import USERNAME
from mailer_support import (
    PROCESS_WAIT_S,
    MailerProcess,
    change_settings,
    fields,
    mail_log,
    open_mailer,
    queue_add,
    run_cli,
    stored,
    wait_until,
    write_settings,
)
from smtp_servers import free_port

from alertmail.core import secrets, store

pytestmark = pytest.mark.network

PASSWORD = "Pässwörd€1"


def test_log_records_start_batches_errors_and_stop(smtp_server, tmp_path):
    server = smtp_server(
        refuse={
            "reports@example.com": "550 5.1.1 mailbox unavailable",
            "later@example.com": "451 4.3.0 try again later",
        }
    )
    write_settings(primary=fields(server))
    sent_id = queue_add("accepted")
    failed_id = queue_add("refused", kind="reports")
    change_settings({"general.errors_to": "later@example.com"})
    kept_id = queue_add("deferred")
    batch = (
        "batch through the primary server: 1 sent, 1 kept, 1 failed; "
        f"sent [{sent_id}] kept [{kept_id}] failed [{failed_id}]"
    )

    with MailerProcess(tmp_path) as mailer:
        wait_until(lambda: batch in mail_log(), PROCESS_WAIT_S, "the batch line")
        exit_status = mailer.terminate()

    assert exit_status == 0, mailer.stderr
    text = mail_log()
    messages = [line.partition(": ")[2] for line in text.splitlines()]
    started = next(index for index, message in enumerate(messages) if message.startswith("mailer started"))
    assert messages.index(batch) > started
    assert messages.index("mailer stopped") > messages.index(batch)
    assert messages.index(f"signal {int(signal.SIGTERM)} received, stopping") < messages.index("mailer stopped")
    assert f"message {failed_id} failed: not delivered: every recipient was refused: " \
        "reports@example.com 550 5.1.1 mailbox unavailable" in text
    assert f"message {kept_id} deferred (attempt 1 of 10): " in text
    assert "later@example.com 451 4.3.0 try again later" in text
    assert f"message {stored(sent_id).message_id} (errors) through the primary server: " \
        "delivered to 1 recipient" in text


def test_log_names_messages_kept_by_connect_failure():
    write_settings(primary=fields(host="127.0.0.1", port=free_port()))
    message_id = queue_add("primary down")

    with open_mailer() as mailer:
        mailer.run_cycle()

    text = mail_log()
    assert "primary server passed over: connect failed: " in text
    assert f"message {message_id} kept in the queue, not tried: no server could be used: connect failed" in text
    assert "batch through no server: 0 sent, 1 kept, 0 failed; no server could be used: " in text


def test_log_names_message_of_uncertain_outcome(fault_smtp_server):
    broken = fault_smtp_server("drop_after_data")
    write_settings(primary=fields(broken))
    message_id = queue_add("uncertain outcome")

    with open_mailer() as mailer:
        mailer.run_cycle()

    message = stored(message_id)
    assert f"message {message_id} {message.message_id}: outcome uncertain, it is sent again" in mail_log()


# --- verbose log and the password ---------------------------------------------------------


def secret_forms(password: str) -> list[bytes]:
    """Return the password as text and in the base64 forms SMTP AUTH PLAIN and LOGIN send."""
    def encoded(text: str) -> bytes:
        return base64.b64encode(text.encode("utf-8"))

    return [
        password.encode("utf-8"),
        encoded(password),
        encoded(f"\0{USERNAME}\0{password}"),
        encoded(f"{USERNAME}\0{USERNAME}\0{password}"),
    ]


def files_under_alertmail_folders() -> list:
    folders = [store.config_dir(), store.data_dir(), store.log_dir(), store.state_dir()]
    return [path for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()]


@pytest.mark.parametrize(("mechanism", "excluded"), [("PLAIN", ()), ("LOGIN", ("PLAIN",))])
def test_verbose_log_has_transcript_without_password(smtp_server, mechanism, excluded):
    server = smtp_server(users={USERNAME: PASSWORD}, auth_exclude=excluded)
    secrets.store_password("primary", PASSWORD)
    write_settings(
        primary=fields(server, auth="smtp", username=USERNAME), values={"general.log_verbose": True}
    )
    message_id = queue_add("verbose")

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert server.auth_attempts == [(mechanism, USERNAME, True)]
    assert stored(message_id).state == "sent"
    text = mail_log()
    assert "alertmail.transcript: C: MAIL FROM:<alerts@example.com>" in text
    assert "alertmail.transcript: S: 235" in text
    assert "alertmail.transcript: C: QUIT" in text
    assert "<redacted>" in text
    files = files_under_alertmail_folders()
    assert store.config_path() in files
    assert any(path.name == "mail.log" for path in files)
    for path in files:
        content = path.read_bytes()
        for form in secret_forms(PASSWORD):
            assert form not in content, f"{form!r} found in {path}"
    for form in secret_forms(PASSWORD):
        assert form.decode("ascii", "replace") not in result.stderr
        assert form.decode("ascii", "replace") not in result.stdout
