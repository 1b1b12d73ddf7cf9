"""The queue across processes: concurrent writers, SIGKILL at any moment, the mailer lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from alertmail.core.queue import Queue
from alertmail.core.queue_lock import QueueLock
from alertmail.core.settings import Settings

# A child that adds messages in a loop and prints each id once add() returned.
ADDER = textwrap.dedent(
    """
    import sys
    from alertmail.core.queue import Queue
    from alertmail.core.settings import Settings

    settings = Settings()
    settings["general.errors_to"] = "ops@example.com"
    settings["general.from_address"] = "alerts@example.com"
    count = int(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    with Queue() as queue:
        for number in range(count):
            new_id = queue.add("errors", f"alert {number}", "body\\n" * 50, settings)
            print(new_id, flush=True)
    """
)

# A child that takes the mailer lock, prints whether it got it, and exits after a line on stdin.
LOCK_HOLDER = textwrap.dedent(
    """
    import sys
    from alertmail.core.queue_lock import QueueLock

    lock = QueueLock()
    print("acquired" if lock.acquire() else "busy", flush=True)
    sys.stdin.readline()
    """
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def start(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    """Kill a child that is still running and wait for it."""
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=30)


def integrity(path) -> str:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        raw.close()


def test_concurrent_add_from_two_processes():
    children = [start(ADDER, "40"), start(ADDER, "40")]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        # Both start adding at the same moment.
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            stop(child)

    assert [child.returncode for child in children] == [0, 0], [error for _, error in outputs]
    printed = [int(line) for output, _ in outputs for line in output.split()]
    assert len(printed) == 80
    assert len(set(printed)) == 80
    with Queue() as queue:
        stored = queue.list()
        path = queue.path
    assert sorted(message.id for message in stored) == sorted(printed)
    assert len({message.message_id for message in stored}) == 80
    assert integrity(path) == "ok"


@posix_only
def test_sigkill_loses_no_printed_id():
    printed: list[int] = []
    for round_number in range(6):
        child = start(ADDER, "100000")
        try:
            assert child.stdout.readline().strip() == "ready"
            child.stdin.write("go\n")
            child.stdin.flush()
            # Kill after a different number of adds each round, so the kill
            # lands at different points of the insert and commit.
            for _ in range(5 + 7 * round_number):
                line = child.stdout.readline()
                assert line, child.stderr.read()
                printed.append(int(line))
            os.kill(child.pid, signal.SIGKILL)
            # An id printed between the last read and the kill counts too.
            remaining, _ = child.communicate(timeout=30)
            printed.extend(int(line) for line in remaining.split())
        finally:
            stop(child)
        assert child.returncode == -signal.SIGKILL

    with Queue() as queue:
        stored = {message.id for message in queue.list()}
        path = queue.path
    assert len(printed) >= 5 + 12 + 19 + 26 + 33 + 40
    assert set(printed) <= stored
    assert integrity(path) == "ok"


def test_lock_excludes_second_holder_in_process(isolated_dirs):
    first = QueueLock()
    second = QueueLock()
    try:
        assert first.acquire() is True
        assert second.acquire() is False
        assert first.held
        assert not second.held
        first.release()
        assert second.acquire() is True
    finally:
        first.release()
        second.release()
    assert first.path == isolated_dirs["data"] / "alertmail" / "mailer.lock"


def test_lock_excludes_other_process():
    holder = start(LOCK_HOLDER)
    try:
        assert holder.stdout.readline().strip() == "acquired"
        with QueueLock() as lock:
            assert lock.acquire() is False
        contender = start(LOCK_HOLDER)
        try:
            assert contender.stdout.readline().strip() == "busy"
        finally:
            stop(contender)
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.communicate(timeout=30)
    assert holder.returncode == 0

    with QueueLock() as lock:
        assert lock.acquire() is True


@posix_only
def test_lock_released_when_holder_killed():
    holder = start(LOCK_HOLDER)
    try:
        assert holder.stdout.readline().strip() == "acquired"
        with QueueLock() as lock:
            assert lock.acquire() is False
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=30)
    finally:
        stop(holder)

    assert holder.returncode == -signal.SIGKILL
    with QueueLock() as lock:
        assert lock.acquire() is True
        assert lock.path.read_text().strip() == str(os.getpid())


def test_recover_after_killed_mailer():
    settings = Settings()
    settings["general.errors_to"] = "ops@example.com"
    settings["general.from_address"] = "alerts@example.com"
    with Queue() as queue:
        ids = [queue.add("errors", f"alert {number}", "body", settings) for number in range(3)]
    claimer = subprocess.run(
        [sys.executable, "-c", "from alertmail.core.queue import Queue\n"
         "with Queue() as queue: print(len(queue.claim_batch(limit=2)))"],
        capture_output=True, text=True, timeout=60,
    )
    assert claimer.stdout.strip() == "2", claimer.stderr

    with QueueLock() as lock, Queue() as queue:
        assert lock.acquire()
        assert queue.recover_interrupted() == 2
        claimed = queue.claim_batch()

    assert [message.id for message in claimed] == ids
