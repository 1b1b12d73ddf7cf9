"""Helpers for the mailer tests: settings files, the command line, mailer processes, waits.

The tests run the mailer two ways: in this process through ``open_mailer``
(a ``Mailer`` that rereads the settings file before each batch, with the
mail log attached), and as the real ``alertmail mailer run`` command through
``MailerProcess``. Both read the settings file, the queue and the keyring
from the temporary folders that tests/conftest.py sets up.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from delivery_helpers import make_settings, server_fields

from alertmail.core import maillog, status, store
from alertmail.core.mailer import Mailer
from alertmail.core.queue import Queue
from alertmail.core.queue_records import QueuedMessage
from alertmail.core.settings import Settings

CLI = [sys.executable, "-m", "alertmail.core.cli"]
# Short enough to keep the tests quick, long enough for a loaded test machine.
TIMEOUT_S = 2
INTERVAL_S = 1
# Bound of every wait for a mailer process: its start-up plus a few batches.
PROCESS_WAIT_S = 20


# --- settings ------------------------------------------------------------------


def write_settings(
    primary: dict[str, Any] | None = None,
    secondary: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> Settings:
    """Save a settings file and return its settings.

    From is alerts@example.com, Errors ops@example.com, Reports
    reports@example.com and the send interval ``INTERVAL_S``. A server left
    out is disabled. ``values`` maps dotted keys to values set on top.
    """
    settings = make_settings(primary=primary, secondary=secondary)
    settings["mailer.send_interval_s"] = INTERVAL_S
    for key, value in (values or {}).items():
        settings[key] = value
    store.save_settings(settings)
    return settings


def change_settings(values: dict[str, Any]) -> None:
    """Set dotted keys in the saved settings file, as an administrator's edit does."""
    settings = store.load_settings().settings
    for key, value in values.items():
        settings[key] = value
    store.save_settings(settings)


def fields(server: Any = None, **extra: Any) -> dict[str, Any]:
    """Return the fields of an enabled server with the ``TIMEOUT_S`` budget."""
    return server_fields(server, **{"timeout_s": TIMEOUT_S, **extra})


# --- the queue and the received messages ------------------------------------------


def queue_add(subject: str, body: str = "body\n", kind: str = "errors") -> int:
    """Queue a message with the saved settings, as ``alertmail send`` does, and return its id."""
    settings = store.load_settings().settings
    with Queue() as queue:
        return queue.add(kind, subject, body, settings)


def stored(message_id: int) -> QueuedMessage:
    """Return the queue's record of one message."""
    with Queue() as queue:
        return queue.get(message_id)


def queue_path() -> Path:
    """Return the path of the queue database."""
    with Queue() as queue:
        return queue.path


def stored_all() -> list[QueuedMessage]:
    """Return every message in the queue, oldest first."""
    with Queue() as queue:
        return queue.list()


def header(content: bytes, name: str) -> str | None:
    """Return one header of a message as received by a test server."""
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    value = parsed[name]
    return None if value is None else str(value)


def mail_log() -> str:
    """Return the text of the mail log, or "" when it does not exist."""
    path = maillog.log_path()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def mailer_status() -> dict | None:
    """Return the status the mailer wrote last."""
    return status.StatusFile().read()


def sample_status(seconds: float) -> list[dict]:
    """Read the mailer's status every 20 ms for ``seconds`` and return the records read."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record = mailer_status()
        if record is not None:
            samples.append(record)
        time.sleep(0.02)
    return samples


# --- waiting --------------------------------------------------------------------


def wait_until(condition: Callable[[], Any], timeout_s: float, description: str) -> Any:
    """Poll ``condition`` every 20 ms until it returns a true value, and return that value.

    Raises ``AssertionError`` naming ``description`` when ``timeout_s`` passes first.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {description}")
        time.sleep(0.02)


# --- the command line -------------------------------------------------------------


def run_cli(*args: str, stdin: str | None = None, timeout_s: float = 60) -> subprocess.CompletedProcess:
    """Run ``alertmail ARGS`` in a new process and return its result."""
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, timeout=timeout_s,
        env=dict(os.environ),
    )


def send_cli(subject: str, body: str = "body\n", kind: str = "errors") -> int:
    """Queue a message with ``alertmail send`` and return the id it printed."""
    result = run_cli("send", f"--{kind}", "--subject", subject, stdin=body)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


class MailerProcess:
    """``alertmail mailer run`` in a child process, as a context manager that always reaps it.

    Standard error goes to a file, so a chatty mailer never blocks on a
    full pipe. ``stderr`` returns what the child wrote so far.
    """

    def __init__(self, folder: Path, *args: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._stderr_path = folder / f"mailer-{time.monotonic_ns()}.stderr"
        self._stderr = self._stderr_path.open("wb")
        self.process = subprocess.Popen(
            [*CLI, "mailer", "run", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr, env=dict(os.environ),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stderr(self) -> str:
        return self._stderr_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout_s: float = PROCESS_WAIT_S) -> int:
        """Send SIGTERM and return the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> int:
        """Send SIGKILL and return the exit status."""
        self.process.kill()
        return self.process.wait(timeout=PROCESS_WAIT_S)

    def __enter__(self) -> MailerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=PROCESS_WAIT_S)
        self._stderr.close()


# --- the mailer in this process --------------------------------------------------------


def load_saved() -> Settings:
    """Read the settings file as the running mailer does before each batch."""
    return store.load_settings(keep_aside=False).settings


@contextlib.contextmanager
def open_mailer(**batch_options: Any) -> Iterator[Mailer]:
    """Yield a ``Mailer`` on the queue and the settings file, writing the mail log.

    ``batch_options`` go to ``run_batch`` (``resolver``, ``password_for``).
    The ``alertmail`` logger's level is restored afterwards.
    """
    logger = logging.getLogger("alertmail")
    level = logger.level
    settings = load_saved()
    log_file = maillog.MailLog(enabled=settings["general.log_enabled"], verbose=settings["general.log_verbose"])
    queue = Queue()
    try:
        yield Mailer(queue, load_saved, **batch_options)
    finally:
        queue.close()
        log_file.close()
        logger.setLevel(level)


class MailerThread:
    """``Mailer.run()`` on a thread of its own, as a context manager that stops and joins it.

    The queue's SQLite connection may only be used by the thread that opened
    it, so the mailer is built on its thread through ``open_mailer``.
    """

    def __init__(self, **batch_options: Any) -> None:
        self._batch_options = batch_options
        self._ready = threading.Event()
        self.mailer: Mailer | None = None
        self.thread = threading.Thread(target=self._run, name="mailer")

    def _run(self) -> None:
        try:
            with open_mailer(**self._batch_options) as mailer:
                self.mailer = mailer
                self._ready.set()
                mailer.run()
        finally:
            self._ready.set()

    def __enter__(self) -> MailerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._ready.wait(PROCESS_WAIT_S)
        if self.mailer is not None:
            self.mailer.stop()
        self.thread.join(PROCESS_WAIT_S)
