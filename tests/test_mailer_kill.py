"""A mailer killed with SIGKILL in the middle of batches loses no message and resends few."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time

import pytest
from mailer_support import (
    PROCESS_WAIT_S,
    MailerProcess,
    fields,
    header,
    stored_all,
    wait_until,
    write_settings,
)

from alertmail.core.queue import Queue

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
]

MESSAGES = 300
KILLS = 4


def integrity(path) -> str:
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        raw.close()


def unsent_count() -> int:
    return sum(1 for message in stored_all() if message.state != "sent")


def kill_after(mailer: MailerProcess, server, more: int) -> int:
    """SIGKILL ``mailer`` once ``server`` received ``more`` messages since now; return how many it had."""
    target = len(server.received) + more
    deadline = time.monotonic() + PROCESS_WAIT_S
    while len(server.received) < target:
        assert mailer.running(), mailer.stderr
        assert time.monotonic() < deadline, f"the mailer sent fewer than {more} messages in time"
        time.sleep(0.002)
    assert mailer.kill() == -signal.SIGKILL
    return len(server.received)


def test_sigkill_mid_batch_loses_nothing(smtp_server, tmp_path):
    sink = smtp_server()
    settings = write_settings(primary=fields(sink))
    with Queue() as queue:
        for number in range(MESSAGES):
            queue.add("errors", f"alert {number}", f"body of alert {number}\n", settings)
        database = queue.path
    queued_ids = {message.message_id for message in stored_all()}
    seed = random.randrange(1_000_000)
    chooser = random.Random(seed)

    left_after_kills = []
    for _ in range(KILLS):
        with MailerProcess(tmp_path) as mailer:
            kill_after(mailer, sink, chooser.randint(5, 40))
        left_after_kills.append(unsent_count())

    with MailerProcess(tmp_path) as mailer:
        wait_until(lambda: unsent_count() == 0, PROCESS_WAIT_S, "every message sent")
        exit_status = mailer.terminate()

    assert exit_status == 0, mailer.stderr
    # Each kill came before its batch ended, while messages were still unsent.
    assert all(left > 0 for left in left_after_kills), (seed, left_after_kills)
    received_ids = [header(message.content, "Message-ID") for message in sink.received]
    assert set(received_ids) == queued_ids, seed
    duplicates = len(received_ids) - len(set(received_ids))
    assert duplicates <= KILLS, (seed, duplicates)
    states = {message.state for message in stored_all()}
    assert states == {"sent"}
    assert integrity(database) == "ok"
