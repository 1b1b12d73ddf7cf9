"""Starting the mailer process and describing what the mailer does.

The dialog never runs the mailer loop itself: Start mailer launches
``alertmail mailer run`` as a process of its own, which keeps running after
the dialog closes. Whether a mailer runs is decided by the mailer lock
(``mailer_running``); its status file only records what a running mailer
is doing.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time

log = logging.getLogger(__name__)

MAILER_COMMAND = (sys.executable, "-m", "alertmail.core.cli", "mailer", "run")
HOW_TO_START = "Press Start mailer, or run 'alertmail mailer run'."


def start_mailer_process() -> subprocess.Popen:
    """Start ``alertmail mailer run`` in the background, in a session of its own.

    The process outlives the dialog. It logs to the mail log while Keep a
    mail log is on, and its standard streams are discarded.
    """
    process = subprocess.Popen(
        MAILER_COMMAND,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    log.info("mailer process %d started from the dialog", process.pid)
    return process


def describe_status(
    running: bool, enabled: bool, status: dict | None, *, interval_s: int, batch_running: bool
) -> str:
    """Return the status line of the Queue tab.

    ``running`` is whether a process holds the mailer lock, ``enabled`` the
    saved ``mailer.enabled``, ``status`` the mailer's last status record,
    ``interval_s`` the saved send interval and ``batch_running`` whether this
    dialog's own Send now batch holds the lock.
    """
    if batch_running:
        return "Sending the queued messages from this dialog\N{HORIZONTAL ELLIPSIS}"
    if not running:
        if enabled:
            return f"No mailer is running, so queued messages are not sent. {HOW_TO_START}"
        return (
            "No mailer is running, and the mailer is stopped (mailer.enabled = false): "
            f"queued messages are kept and not sent. {HOW_TO_START}"
        )
    pid = f" (process {status['pid']})" if status and status.get("pid") else ""
    if not enabled:
        return (
            f"The mailer is running{pid} but stopped (mailer.enabled = false): it sends nothing "
            "until you press Start mailer."
        )
    return f"The mailer is running{pid}{_activity(status, interval_s)}."


def _activity(status: dict | None, interval_s: int) -> str:
    """Return ": " and what the mailer does now, or "" when its status is unknown."""
    if not status or status.get("state") in (None, "stopped") or not status.get("message"):
        return ""
    age = max(0.0, time.time() - float(status.get("time") or 0))
    state = status["state"]
    if state == "waiting":
        # The mailer writes "next batch in N s" when it starts waiting, so
        # the time left is counted from the record's time.
        return f": next batch in about {format_age(max(0.0, interval_s - age))}"
    if state == "idle" and age >= 1:
        return f": {status['message']} ({format_age(age)} ago)"
    return f": {status['message']}"


def format_age(seconds: float) -> str:
    """Return a duration in the largest whole unit: "45 s", "3 min", "2 h"."""
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"
