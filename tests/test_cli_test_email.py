"""``alertmail test-email`` against loopback servers, as a script calls it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from alertmail.core import secrets, store
from alertmail.core.settings import Settings
from smtp_servers import free_port

pytestmark = pytest.mark.network

PASSWORD = "Pässwörd€1"


def run_cli(*args: str, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **extra_env},
    )


def save(**values) -> None:
    settings = Settings(
        {
            "general.errors_to": "ops@example.com, noc@example.com",
            "general.reports_to": "reports@example.com",
            "general.from_address": "alerts@example.com",
            "primary.timeout_s": 5,
            "secondary.timeout_s": 5,
        }
    )
    for key, value in values.items():
        settings[key.replace("__", ".")] = value
    store.save_settings(settings)


def test_closed_primary_fails_over_to_secondary(smtp_server):
    secondary = smtp_server()
    save(
        primary__host="127.0.0.1", primary__port=free_port(),
        secondary__enabled=True, secondary__host="127.0.0.1", secondary__port=secondary.port,
    )

    result = run_cli("test-email")

    assert result.returncode == 0, result.stderr
    assert "Sent through the secondary server." in result.stdout
    assert "Primary server passed over: connect failed" in result.stdout
    assert "the connection to 127.0.0.1 port" in result.stdout
    assert "was refused" in result.stdout
    assert len(secondary.received) == 2
    assert sorted(message.rcpt_tos[0] for message in secondary.received) == ["ops@example.com", "reports@example.com"]


def test_json_names_server_and_primary_failure(smtp_server):
    secondary = smtp_server()
    save(
        primary__host="127.0.0.1", primary__port=free_port(),
        secondary__enabled=True, secondary__host="127.0.0.1", secondary__port=secondary.port,
    )

    result = run_cli("test-email", "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["server"] == "secondary"
    assert report["passed_over"][0]["server"] == "primary"
    assert report["passed_over"][0]["step"] == "connect"
    assert [message["kind"] for message in report["messages"]] == ["errors", "reports"]
    assert [message["outcome"] for message in report["messages"]] == ["sent", "sent"]
    assert report["messages"][0]["accepted"] == ["ops@example.com", "noc@example.com"]


def test_explicit_server_does_not_fail_over(smtp_server):
    secondary = smtp_server()
    save(
        primary__host="127.0.0.1", primary__port=free_port(),
        secondary__enabled=True, secondary__host="127.0.0.1", secondary__port=secondary.port,
    )

    result = run_cli("test-email", "--server", "primary")

    assert result.returncode == 1
    assert "connect failed" in result.stdout
    assert secondary.connections == 0


def test_stored_password_used_and_never_written(smtp_server, isolated_dirs):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save(
        primary__host="127.0.0.1", primary__port=server.port,
        primary__auth="smtp", primary__username="notify@example.com",
    )
    stored = run_cli("config", "set-password", "primary", stdin=PASSWORD + "\n")
    assert stored.returncode == 0, stored.stderr

    result = run_cli("test-email", "--verbose")

    assert result.returncode == 0, result.stdout + result.stderr
    assert server.auth_attempts == [("PLAIN", "notify@example.com", True)]
    assert len(server.received) == 2
    transcript = result.stderr
    assert "AUTH" in transcript
    secrets_on_wire = [
        PASSWORD,
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(b"\0notify@example.com\0" + PASSWORD.encode()).decode(),
    ]
    for secret in secrets_on_wire:
        assert secret not in result.stdout
        assert secret not in transcript

    for folder in (store.config_dir(), store.data_dir(), store.log_dir()):
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file():
                    content = path.read_bytes()
                    for secret in secrets_on_wire:
                        assert secret.encode() not in content, path
    assert secrets.read_password("primary") == PASSWORD


def test_missing_password_explained(smtp_server):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save(
        primary__host="127.0.0.1", primary__port=server.port,
        primary__auth="smtp", primary__username="notify@example.com",
    )

    result = run_cli("test-email")

    assert result.returncode == 1
    assert "SMTP password for the primary server could not be read from the keyring" in result.stdout
    assert server.auth_attempts == []


def test_partial_refusal_reported(fault_smtp_server):
    server = fault_smtp_server("rcpt_550_one")
    save(primary__host="127.0.0.1", primary__port=server.port, general__errors_to="ops@example.com; gone@example.com")

    result = run_cli("test-email")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Errors: 1 of 2 recipients refused: gone@example.com 550 5.1.1 mailbox unavailable" in result.stdout


def test_no_server_enabled_exit_2():
    save(primary__enabled=False)
    result = run_cli("test-email")
    assert result.returncode == 2
    assert "no mail server is enabled" in result.stderr


def test_missing_host_exit_2():
    save()
    result = run_cli("test-email")
    assert result.returncode == 2
    assert "primary.host" in result.stderr


def test_missing_recipients_exit_2():
    store.save_settings(Settings({"primary.host": "127.0.0.1", "general.from_address": "alerts@example.com"}))
    result = run_cli("test-email")
    assert result.returncode == 2
    assert "no recipient" in result.stderr


def test_starttls_with_test_authority_via_ssl_cert_file(smtp_server, ca_bundle):
    server = smtp_server(starttls=True)
    save(primary__host="localhost", primary__port=server.port, primary__security="starttls")

    untrusted = run_cli("test-email")
    trusted = run_cli("test-email", SSL_CERT_FILE=str(ca_bundle))

    assert untrusted.returncode == 1
    assert "certificate" in untrusted.stdout
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert len(server.received) == 2


def test_empty_errors_list_reported_as_not_sent(smtp_server):
    server = smtp_server()
    save(primary__host="127.0.0.1", primary__port=server.port, general__errors_to="")

    result = run_cli("test-email")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Errors: not sent: no recipients (general.errors_to is empty)" in result.stdout
    assert "Reports/Stats: delivered to 1 recipient" in result.stdout


def test_disabled_secondary_without_host_exit_2():
    save(primary__host="127.0.0.1")
    result = run_cli("test-email", "--server", "secondary")
    assert result.returncode == 2
    assert "secondary.host" in result.stderr


def test_explicit_server_failure_printed_once():
    save(primary__host="127.0.0.1", primary__port=free_port())
    result = run_cli("test-email", "--server", "primary")
    assert result.returncode == 1
    assert "passed over" not in result.stdout
    assert result.stdout.count("was refused") == 1


def test_invalid_stored_security_not_tested_as_default(smtp_server):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    save(primary__host="127.0.0.1", primary__port=server.port, primary__auth="smtp",
         primary__username="notify@example.com")
    path = store.config_path()
    path.write_text(path.read_text().replace('security = "none"', 'security = "ssl"', 1))

    result = run_cli("test-email")

    assert result.returncode == 2
    assert "primary.security" in result.stderr
    assert server.connections == 0
