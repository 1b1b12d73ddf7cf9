"""Test Email against servers and name lookups that fail the way real ones do."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from PySide6.QtCore import QTimer

import keyring_backends
from gui_support import open_dialog
from test_gui_mail_test import PASSWORD, run_test, save_for

pytestmark = pytest.mark.network


@pytest.fixture
def stalled_lookup(monkeypatch):
    """Make every lookup of a name (not of an address literal) block until teardown."""
    release = threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        release.wait(120)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()


@pytest.fixture
def unresolvable_names(monkeypatch):
    """Answer every lookup of a name as the resolver does for a name that does not exist."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_unresolvable_host_named_in_words(qtbot, unresolvable_names):
    save_for(25, **{"primary.host": "no-such-host.invalid"})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert len(lines) == 1
    assert "no-such-host.invalid could not be resolved" in lines[0]
    assert "Traceback" not in lines[0]


def test_stalled_lookup_ends_within_timeout(qtbot, stalled_lookup):
    timeout_s = 2
    save_for(25, **{"primary.host": "relay.example.com", "primary.timeout_s": timeout_s})
    dialog = open_dialog(qtbot, tab="primary")
    ticks = []
    timer = QTimer(dialog)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)

    started = time.monotonic()
    lines = run_test(qtbot, dialog)
    elapsed = time.monotonic() - started
    timer.stop()

    assert elapsed < timeout_s + 2
    assert "resolve failed" in lines[0]
    assert "relay.example.com" in lines[0]
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    assert len(ticks) >= timeout_s * 10, "the GUI thread must keep running its timers"
    assert max(gaps) < 0.5


def test_close_right_after_accept_counts_as_delivered(qtbot, fault_smtp_server):
    server = fault_smtp_server("close_after_accept")
    save_for(server.port, **{"general.errors_to": "ops@example.com", "general.reports_to": ""})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert lines == ["Errors: delivered to 1 recipient"]


def test_locked_keyring_reason_shown(qtbot, smtp_server, test_keyring):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    test_keyring.set_password("alertmail", "primary", PASSWORD)
    keyring_backends.install(keyring_backends.LockedKeyring, test_keyring)
    save_for(server.port, **{"primary.auth": "smtp", "primary.username": "notify@example.com"})
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert "SMTP password for the primary server could not be read from the keyring" in lines[0]
    assert "locked" in lines[0]
    assert server.auth_attempts == []
    assert server.received == []


def test_plain_connection_to_tls_port_explained(qtbot, smtp_server):
    server = smtp_server(implicit_tls=True)
    save_for(server.port, **{"primary.timeout_s": 2})
    dialog = open_dialog(qtbot, tab="primary")

    started = time.monotonic()
    lines = run_test(qtbot, dialog)

    assert time.monotonic() - started < 2 + 2
    assert "no SMTP greeting came back" in lines[0]
    assert "implicit TLS" in lines[0]


def test_starttls_not_offered_sends_no_password(qtbot, smtp_server, test_keyring):
    server = smtp_server(users={"notify@example.com": PASSWORD})
    test_keyring.set_password("alertmail", "primary", PASSWORD)
    save_for(
        server.port,
        **{"primary.auth": "smtp", "primary.username": "notify@example.com", "primary.security": "starttls"},
    )
    dialog = open_dialog(qtbot, tab="primary")

    lines = run_test(qtbot, dialog)

    assert "STARTTLS" in lines[0]
    assert "does not offer" in lines[0]
    assert server.auth_attempts == []
