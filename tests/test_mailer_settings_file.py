"""The mailer and a settings file edited by hand while it runs."""

from __future__ import annotations

import pytest

from alertmail.core import store
from mailer_support import fields, run_cli, send_cli, stored, write_settings

pytestmark = pytest.mark.network


def test_invalid_primary_value_never_used_as_default(smtp_server):
    """security = "ssl" must not become "none" and send the password in plain text."""
    primary = smtp_server(users={"notify@example.com": "S3cret!"})
    secondary = smtp_server()
    write_settings(
        primary=fields(primary, auth="smtp", username="notify@example.com"), secondary=fields(secondary)
    )
    path = store.config_path()
    path.write_text(path.read_text().replace('security = "none"', 'security = "ssl"', 1))
    run_cli("config", "set-password", "primary", stdin="S3cret!\n")
    message_id = send_cli("invalid primary")

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert primary.connections == 0
    assert primary.auth_attempts == []
    assert len(secondary.received) == 1
    assert stored(message_id).state == "sent"
    assert "the primary server is not used because its settings contain invalid values" in result.stderr
    assert "primary.security" in result.stderr


def test_unknown_key_warned(smtp_server):
    primary = smtp_server()
    write_settings(primary=fields(primary))
    path = store.config_path()
    path.write_text(path.read_text().replace("[primary]", '[primary]\nsecurty = "tls"', 1))
    send_cli("typo in a key")

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert "primary.securty" in result.stderr
    assert len(primary.received) == 1
