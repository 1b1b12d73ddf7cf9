"""``alertmail send`` as scripts call it: a separate process, body on stdin or in a file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from alertmail.core import store
from alertmail.core.queue import Queue
from alertmail.core.settings import Settings

# Modules 'alertmail send' must not load: Qt, the keyring, what only writing
# settings or talking SMTP needs, and email_validator (about 20 ms to import),
# whose full address check is left to the mailer.
FORBIDDEN_MODULES = ("PySide6", "shiboken6", "keyring", "tomlkit", "smtplib", "ssl", "email_validator")


def run_send(*args: str, stdin: bytes = b"", python_options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *python_options, "-m", "alertmail.core.cli", "send", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
    )


@pytest.fixture
def saved_settings() -> Settings:
    model = Settings()
    model["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com'
    model["general.reports_to"] = "reports@example.com"
    model["general.from_address"] = "alerts@example.com"
    model["general.from_name"] = "Network Alerts"
    store.save_settings(model)
    return model


def stored_messages():
    with Queue() as queue:
        return queue.list()


def test_send_body_from_stdin(saved_settings):
    body = "Interface Gi0/1 is down\n.\nend of alert\n"

    result = run_send("--errors", "--subject", "sw1: link down", stdin=body.encode())

    assert result.returncode == 0, result.stderr
    messages = stored_messages()
    assert len(messages) == 1
    assert result.stdout == f"{messages[0].id}\n".encode()
    assert messages[0].kind == "errors"
    assert messages[0].subject == "sw1: link down"
    assert messages[0].body == body
    assert messages[0].recipients == ['"Doe, Jane" <jane@example.com>', "ops@example.com"]
    assert messages[0].sender == "Network Alerts <alerts@example.com>"
    assert messages[0].state == "queued"


def test_send_body_file_kept_exactly(saved_settings, tmp_path):
    body = b"line one\n.\n..\nbare LF only\nCRLF here\r\nno newline at the end"
    path = tmp_path / "body.txt"
    path.write_bytes(body)

    result = run_send("--reports", "--subject", "Weekly report", "--body-file", str(path))

    assert result.returncode == 0, result.stderr
    messages = stored_messages()
    assert result.stdout.strip() == str(messages[0].id).encode()
    assert messages[0].kind == "reports"
    assert messages[0].recipients == ["reports@example.com"]
    assert messages[0].body.encode("utf-8") == body


def test_send_prints_increasing_ids(saved_settings):
    first = run_send("--errors", "--subject", "one", stdin=b"1")
    second = run_send("--errors", "--subject", "two", stdin=b"2")

    assert first.returncode == 0
    assert second.returncode == 0
    assert int(second.stdout) > int(first.stdout)
    assert [message.subject for message in stored_messages()] == ["one", "two"]


def test_send_non_ascii_subject_and_body(saved_settings):
    body = "Température élevée: 85 °C\nÜberwachung\n"

    result = run_send("--errors", "--subject", "Warnung: Lüfter ausgefallen", stdin=body.encode())

    assert result.returncode == 0, result.stderr
    stored = stored_messages()[0]
    assert stored.subject == "Warnung: Lüfter ausgefallen"
    assert stored.body == body


def test_send_invalid_utf8_body_replaced_with_warning(saved_settings):
    result = run_send("--errors", "--subject", "Latin-1 log line", stdin=b"caf\xe9 down\n")

    assert result.returncode == 0
    assert b"not valid UTF-8" in result.stderr
    assert stored_messages()[0].body == "caf\ufffd down\n"


def test_send_empty_body(saved_settings):
    result = run_send("--errors", "--subject", "Subject only")

    assert result.returncode == 0, result.stderr
    assert stored_messages()[0].body == ""


def test_send_notes_stopped_mailer(saved_settings):
    saved_settings["mailer.enabled"] = False
    store.save_settings(saved_settings)

    result = run_send("--errors", "--subject", "Alert", stdin=b"body")

    assert result.returncode == 0
    assert b"mailer is stopped" in result.stderr
    assert b"no mail server is enabled" not in result.stderr
    assert len(stored_messages()) == 1


@pytest.mark.parametrize(
    ("change", "args", "expected"),
    [
        ({"general.errors_to": ""}, ("--errors", "--subject", "Alert"), b"general.errors_to"),
        ({"general.reports_to": ""}, ("--reports", "--subject", "Report"), b"general.reports_to"),
        ({"general.from_address": ""}, ("--errors", "--subject", "Alert"), b"general.from_address"),
        ({}, ("--errors", "--subject", "Alert\r\nBcc: x@example.net"), b"line breaks"),
        ({}, ("--errors", "--subject", "Alert\nsecond"), b"line breaks"),
        ({}, ("--errors", "--subject", ""), b"subject is empty"),
        ({}, ("--errors", "--subject", "Alert", "--body-file", "/nonexistent/body.txt"), b"does not exist"),
        ({}, ("--subject", "Alert"), b"one of the arguments --errors --reports is required"),
        ({}, ("--errors", "--reports", "--subject", "Alert"), b"not allowed with argument"),
        ({}, ("--errors",), b"--subject"),
    ],
)
def test_send_invalid_exit_2_nothing_queued(saved_settings, change, args, expected):
    for key, value in change.items():
        saved_settings[key] = value
    store.save_settings(saved_settings)

    result = run_send(*args, stdin=b"body")

    assert result.returncode == 2
    assert result.stdout == b""
    assert expected in result.stderr
    assert stored_messages() == []


def test_send_without_settings_file_names_fix():
    result = run_send("--errors", "--subject", "Alert", stdin=b"body")

    assert result.returncode == 2
    assert b"general.from_address" in result.stderr
    assert b"alertmail config set" in result.stderr
    assert stored_messages() == []


def test_send_body_file_is_folder_exit_2(saved_settings, tmp_path):
    result = run_send("--errors", "--subject", "Alert", "--body-file", str(tmp_path))

    assert result.returncode == 2
    assert b"cannot be read" in result.stderr
    assert stored_messages() == []


def test_send_imports_no_qt_keyring_or_smtp(saved_settings):
    result = run_send("--errors", "--subject", "Alert", stdin=b"body", python_options=("-X", "importtime"))

    assert result.returncode == 0, result.stderr
    imported = set()
    for line in result.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            imported.add(line.rsplit("|", 1)[1].strip())
    assert "alertmail.core.queue" in imported
    assert "sqlite3" in imported
    loaded = sorted(name for name in imported if name.split(".")[0] in FORBIDDEN_MODULES)
    assert loaded == []


def test_send_address_without_at_exit_2():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    # A hand-edited file: the recipient lacks its domain.
    path.write_text(
        'schema = 1\n[general]\nerrors_to = ["noc"]\nfrom_address = "alerts@example.com"\n',
        encoding="utf-8",
    )

    result = run_send("--errors", "--subject", "Alert", stdin=b"body")

    assert result.returncode == 2
    assert b"general.errors_to" in result.stderr
    assert b"not an e-mail address" in result.stderr
    assert stored_messages() == []
