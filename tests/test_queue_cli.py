"""``alertmail queue list``, ``retry`` and ``delete`` in a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from alertmail.core.queue import Queue
from alertmail.core.settings import Settings


def run_queue(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "queue", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


@pytest.fixture
def filled_queue() -> dict[str, int]:
    """Queue four messages: one queued, one failed, one sent, one sending."""
    settings = Settings()
    settings["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com'
    settings["general.reports_to"] = "reports@example.com"
    settings["general.from_address"] = "alerts@example.com"
    with Queue() as queue:
        ids = {
            "failed": queue.add("errors", "Fan failure on sw2", "body", settings),
            "sent": queue.add("reports", "Daily report", "body", settings),
            "sending": queue.add("errors", "Link down", "body", settings),
            "queued": queue.add("reports", "Backup finished", "body", settings),
        }
        queue.claim_batch(limit=3)
        queue.mark_failed(ids["failed"], "550 5.7.1 relaying denied")
        queue.mark_sent(ids["sent"])
    return ids


def test_list_shows_unsent_messages(filled_queue):
    result = run_queue("list")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATE", "KIND", "ATTEMPTS", "QUEUED", "AT", "(UTC)",
                                "RECIPIENTS", "SUBJECT", "LAST", "ERROR"]
    rows = {int(line.split()[0]): line for line in lines[1:]}
    assert sorted(rows) == sorted([filled_queue["failed"], filled_queue["sending"], filled_queue["queued"]])
    failed = rows[filled_queue["failed"]]
    assert failed.split()[1:4] == ["failed", "errors", "1"]
    assert "jane@example.com, ops@example.com" in failed
    assert "Fan failure on sw2" in failed
    assert failed.endswith("550 5.7.1 relaying denied")
    assert rows[filled_queue["queued"]].split()[1:4] == ["queued", "reports", "0"]


def test_list_json_by_state(filled_queue):
    result = run_queue("list", "--json", "--state", "sent")

    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [entry["id"] for entry in listed] == [filled_queue["sent"]]
    assert listed[0]["state"] == "sent"
    assert listed[0]["recipients"] == ["reports@example.com"]
    assert listed[0]["subject"] == "Daily report"
    assert listed[0]["message_id"].endswith("@example.com>")
    assert listed[0]["sent_at"] is not None


def test_list_all_states(filled_queue):
    result = run_queue("list", "--json", "--state", "all")

    assert result.returncode == 0
    assert sorted(entry["id"] for entry in json.loads(result.stdout)) == sorted(filled_queue.values())


def test_list_empty_queue():
    result = run_queue("list")

    assert result.returncode == 0
    assert result.stdout.strip() == "no queued, sending or failed messages in the queue"


def test_list_unknown_state_exit_2():
    result = run_queue("list", "--state", "done")

    assert result.returncode == 2
    assert "invalid choice: 'done'" in result.stderr


def test_retry_requeues_failed(filled_queue):
    result = run_queue("retry", str(filled_queue["failed"]))

    assert result.returncode == 0, result.stderr
    assert f"message {filled_queue['failed']} queued again" in result.stdout
    with Queue() as queue:
        stored = queue.get(filled_queue["failed"])
    assert stored.state == "queued"
    assert stored.attempts == 0


def test_retry_sent_message_exit_1(filled_queue):
    result = run_queue("retry", str(filled_queue["sent"]))

    assert result.returncode == 1
    assert f"message {filled_queue['sent']} is sent and cannot be retried" in result.stderr


def test_delete_removes_message(filled_queue):
    result = run_queue("delete", str(filled_queue["queued"]))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"message {filled_queue['queued']} deleted"
    with Queue() as queue:
        assert filled_queue["queued"] not in [message.id for message in queue.list()]
        assert queue.count() == 3


@pytest.mark.parametrize("action", ["retry", "delete"])
def test_unknown_id_exit_1(filled_queue, action):
    result = run_queue(action, "999")

    assert result.returncode == 1
    assert result.stderr.strip() == "alertmail: no message with id 999"


@pytest.mark.parametrize("action", ["retry", "delete"])
def test_id_not_a_number_exit_2(action):
    result = run_queue(action, "first")

    assert result.returncode == 2
    assert "invalid int value" in result.stderr
