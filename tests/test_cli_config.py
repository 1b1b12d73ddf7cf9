"""``alertmail config``: path, show, set and set-password, as scripts call them."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from alertmail.core import secrets, store


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def test_config_path_prints_settings_file():
    result = run_cli("config", "path")
    assert result.returncode == 0
    assert result.stdout.strip() == str(store.config_path())


def test_set_then_show():
    assert run_cli("config", "set", "primary.host", " [::1] ").returncode == 0
    assert run_cli("config", "set", "primary.port", "2525").returncode == 0
    assert run_cli("config", "set", "general.errors_to", '"Doe, Jane" <jane@example.com>; ops@example.com').returncode == 0

    document = tomllib.loads(store.config_path().read_text())
    assert document["primary"]["host"] == "::1"
    assert document["primary"]["port"] == 2525
    assert document["general"]["errors_to"] == ['"Doe, Jane" <jane@example.com>', "ops@example.com"]

    shown = run_cli("config", "show")
    assert shown.returncode == 0
    assert 'host = "::1"' in shown.stdout
    assert "port = 2525" in shown.stdout


def test_set_port_out_of_range_leaves_file_unchanged():
    assert run_cli("config", "set", "primary.host", "relay.example.com").returncode == 0
    before = store.config_path().read_bytes()

    result = run_cli("config", "set", "primary.port", "70000")
    assert result.returncode == 2
    assert "primary.port" in result.stderr
    assert "from 1 to 65535" in result.stderr
    assert store.config_path().read_bytes() == before


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("primary.host", "localhost:2525", "Port field"),
        ("general.errors_to", " ; , ", "no address"),
        ("general.from_address", "alerts@example.com\r\nRCPT TO:<x@example.net>", "line breaks"),
        ("primary.security", "ssl", "none, starttls, tls"),
        ("primary.enabled", "maybe", "true or false"),
        ("primary.prot", "25", "unknown setting 'primary.prot'"),
    ],
)
def test_set_invalid_values_exit_2(key, value, expected):
    result = run_cli("config", "set", key, value)
    assert result.returncode == 2
    assert expected in result.stderr
    assert not store.config_path().exists()


def test_set_password_from_stdin_stored_in_keyring_only(test_keyring, isolated_dirs):
    result = run_cli("config", "set-password", "primary", stdin="Pässwörd€1\n")
    assert result.returncode == 0, result.stderr
    assert "Pässwörd€1" not in result.stdout + result.stderr
    assert secrets.read_password("primary") == "Pässwörd€1"

    shown = run_cli("config", "show")
    assert "primary password: stored" in shown.stdout
    assert "Pässwörd€1" not in shown.stdout

    for folder in (store.config_dir(), store.data_dir(), store.log_dir()):
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file():
                    assert "Pässwörd€1".encode() not in path.read_bytes(), path


def test_set_password_empty_input_exit_2():
    result = run_cli("config", "set-password", "primary", stdin="")
    assert result.returncode == 2
    assert "no password given" in result.stderr


def test_set_password_clear(test_keyring):
    secrets.store_password("secondary", "S3cret!")
    result = run_cli("config", "set-password", "secondary", "--clear")
    assert result.returncode == 0
    assert test_keyring.get_password("alertmail", "secondary") is None


def test_set_password_without_backend_exit_1():
    env_backend = "keyring.backends.fail.Keyring"
    result = subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "config", "set-password", "primary"],
        input="S3cret!\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": env_backend},
    )
    assert result.returncode == 1
    assert "no keyring backend is available" in result.stderr


def test_corrupt_file_reported_by_show():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * 4096)
    result = run_cli("config", "show")
    assert result.returncode == 0
    assert "could not be read" in result.stderr
    kept = [entry.name for entry in path.parent.iterdir() if ".corrupt-" in entry.name]
    assert len(kept) == 1


def test_unknown_command_exit_2():
    result = run_cli("frobnicate")
    assert result.returncode == 2


def test_set_fixes_invalid_values_one_at_a_time():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 1\n[primary]\nport = 70000\ntimeout_s = 0\nhost = "relay.example.com"\n')

    first = run_cli("config", "set", "primary.port", "587")
    assert first.returncode == 0, first.stderr
    assert "primary.timeout_s" in first.stderr
    document = tomllib.loads(path.read_text())
    assert document["primary"]["port"] == 587
    assert document["primary"]["timeout_s"] == 0, "other values stay as written until fixed"

    second = run_cli("config", "set", "primary.timeout_s", "30")
    assert second.returncode == 0, second.stderr
    assert "still contains invalid values" not in second.stderr
    assert tomllib.loads(path.read_text())["primary"] == {"port": 587, "timeout_s": 30, "host": "relay.example.com"}


def test_set_password_invalid_utf8_exit_2(test_keyring):
    result = subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "config", "set-password", "secondary"],
        input=b"\xff\xfe bad\n",
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert result.returncode == 2
    assert b"not valid UTF-8" in result.stderr
    assert test_keyring.get_password("alertmail", "secondary") is None


@pytest.mark.parametrize("value", ["\u00b2", "--5"])
def test_set_port_odd_digits_exit_2(value):
    result = run_cli("config", "set", "--", "primary.port", value)
    assert result.returncode == 2
    assert "whole number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
