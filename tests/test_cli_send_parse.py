"""``alertmail send`` parsed without argparse, and the forms left to argparse."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from alertmail.core import store
from alertmail.core.cli_queue import parse_send_arguments
from alertmail.core.queue import Queue
from alertmail.core.settings import Settings


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--errors", "--subject", "link down"], ("errors", "link down", None)),
        (["--reports", "--subject=weekly", "--body-file", "body.txt"], ("reports", "weekly", "body.txt")),
        (["--subject", "a=b", "--body-file=-", "--errors"], ("errors", "a=b", "-")),
        (["--errors", "--subject", "-"], ("errors", "-", None)),
        (["--errors", "--subject="], ("errors", "", None)),
        (["--errors", "--subject", ""], ("errors", "", None)),
    ],
)
def test_plain_forms_parsed(arguments, expected):
    parsed = parse_send_arguments(arguments)

    assert parsed is not None
    assert (parsed.kind, parsed.subject, parsed.body_file) == expected
    assert parsed.command == "send"


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["--errors"],
        ["--subject", "x"],
        ["--errors", "--reports", "--subject", "x"],
        ["--errors", "--errors", "--subject", "x"],
        ["--errors", "--subject", "x", "--subject", "y"],
        ["--errors", "--subj", "x"],
        ["--err", "--subject", "x"],
        ["--errors", "--subject"],
        ["--errors", "--subject", "-5"],
        ["--errors", "--subject", "--reports"],
        ["--errors", "--subject=-x"],
        ["--errors=yes", "--subject", "x"],
        ["--errors", "--subject", "x", "extra"],
        ["--errors", "--subject", "x", "--"],
        ["-h"],
        ["--errors", "--subject", "x", "--help"],
    ],
)
def test_other_forms_left_to_argparse(arguments):
    assert parse_send_arguments(arguments) is None


def run_send(*args: str, python_options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *python_options, "-m", "alertmail.core.cli", "send", *args],
        input=b"body\n", capture_output=True, timeout=60, env=dict(os.environ),
    )


@pytest.fixture
def saved_settings() -> None:
    model = Settings()
    model["general.errors_to"] = "ops@example.com"
    model["general.from_address"] = "alerts@example.com"
    store.save_settings(model)


def test_send_skips_argparse(saved_settings):
    result = run_send("--errors", "--subject", "Alert", python_options=("-X", "importtime"))

    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.decode().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "alertmail.core.queue" in imported
    assert "argparse" not in imported
    assert "alertmail.core.cli_mailer" not in imported


def test_send_abbreviation_goes_through_argparse(saved_settings):
    result = run_send("--err", "--subj", "Abbreviated")

    assert result.returncode == 0, result.stderr
    with Queue() as queue:
        assert [message.subject for message in queue.list()] == ["Abbreviated"]


def test_send_negative_number_subject_queued(saved_settings):
    result = run_send("--errors", "--subject", "-5")

    assert result.returncode == 0, result.stderr
    with Queue() as queue:
        assert [message.subject for message in queue.list()] == ["-5"]


def test_send_help_exit_0():
    result = run_send("--help")

    assert result.returncode == 0
    assert b"usage: alertmail send" in result.stdout
    assert b"--body-file FILE" in result.stdout


def test_send_extra_argument_exit_2(saved_settings):
    result = run_send("--errors", "--subject", "Alert", "extra")

    assert result.returncode == 2
    assert b"unrecognized arguments: extra" in result.stderr
    with Queue() as queue:
        assert queue.list() == []
