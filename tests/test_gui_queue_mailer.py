"""The Queue tab's mailer controls: Send now, Start mailer, Stop mailer and the status line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QTimer

from alertmail.core.queue import Queue
from alertmail.core.status import mailer_running
from alertmail.core.store import config_path, load_settings
from gui_queue_support import (
    add_messages,
    open_queue_tab,
    queue_settings,
    start_mailer,
    stop_process,
    table_ids,
)
from gui_support import click, set_field

pytestmark = pytest.mark.network


@pytest.fixture
def processes():
    """Mailer processes a test started, stopped with SIGTERM when it ends."""
    started = []
    yield started
    for process in started:
        stop_process(process)


def states() -> list[str]:
    with Queue() as queue:
        return [message.state for message in queue.list()]


def status_text(tab) -> str:
    return tab.controls.status_line.text()


def test_send_now_delivers_without_mailer(qtbot, smtp_server):
    server = smtp_server()
    settings = queue_settings(server.port)
    add_messages(settings, "sw1: link down", "sw2: fan failure")
    dialog, tab = open_queue_tab(qtbot, settings)
    assert len(table_ids(tab)) == 2

    with qtbot.waitSignal(tab.controls.runner.running_changed, timeout=5000) as started:
        click(qtbot, dialog, "sendNowButton")
    assert started.args == [True]
    assert not tab.controls.send_now_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.controls.batch_running, timeout=15000)

    assert sorted(message.rcpt_tos for message in server.received) == [
        ["ops@example.com", "noc@example.com"],
        ["ops@example.com", "noc@example.com"],
    ]
    qtbot.waitUntil(lambda: table_ids(tab) == [], timeout=5000)
    assert states() == ["sent", "sent"]
    assert tab.message.text() == "Send now: batch through the primary server: 2 sent, 0 kept, 0 failed."
    assert tab.controls.send_now_button.isEnabled()
    assert dialog.tab_widget.tabText(dialog.tab_widget.indexOf(tab)) == "&Queue (0)"


def test_send_now_skips_server_with_invalid_values(qtbot, smtp_server):
    server = smtp_server()
    settings = queue_settings(server.port)
    add_messages(settings, "sw1: link down")
    dialog, tab = open_queue_tab(qtbot, settings)
    path = config_path()
    path.write_text(path.read_text().replace('security = "none"', 'security = "ssl"', 1))

    click(qtbot, dialog, "sendNowButton")
    qtbot.waitUntil(lambda: not tab.controls.batch_running, timeout=15000)

    assert server.received == []
    assert server.connections == 0
    assert states() == ["queued"]
    assert tab.message.text().startswith("Send now: nothing sent")


def test_send_now_responsive_and_cancelled_on_close(qtbot, fault_smtp_server):
    server = fault_smtp_server("no_greeting")
    settings = queue_settings(server.port, **{"primary.timeout_s": 60})
    (message_id,) = add_messages(settings, "stuck")
    dialog, tab = open_queue_tab(qtbot, settings)

    click(qtbot, dialog, "sendNowButton")
    qtbot.waitUntil(lambda: server.connections == 1, timeout=5000)
    timer = QTimer()
    timer.setSingleShot(True)
    # The GUI thread keeps running its event loop while the batch waits for the greeting.
    with qtbot.waitSignal(timer.timeout, timeout=2000):
        timer.start(100)

    assert tab.controls.batch_running
    assert not tab.controls.send_now_button.isEnabled()
    assert status_text(tab) == "Sending the queued messages from this dialog\N{HORIZONTAL ELLIPSIS}"
    assert states() == ["sending"]

    started = time.monotonic()
    dialog.reject()
    elapsed = time.monotonic() - started

    assert elapsed < 3
    assert not tab.controls.batch_running
    with Queue() as queue:
        message = queue.get(message_id)
    assert message.state == "queued"


def test_send_now_with_mailer_requests_batch(qtbot, smtp_server, tmp_path, processes):
    server = smtp_server()
    settings = queue_settings(server.port, **{"mailer.send_interval_s": 3600})
    add_messages(settings, "sw1: link down")
    dialog, tab = open_queue_tab(qtbot, settings)
    processes.append(start_mailer(tmp_path / "mailer.out"))
    qtbot.waitUntil(lambda: "next batch in about" in status_text(tab), timeout=20000)
    assert status_text(tab).startswith(f"The mailer is running (process {processes[0].pid})")
    batches = []
    tab.controls.runner.running_changed.connect(batches.append)

    click(qtbot, dialog, "sendNowButton")

    assert tab.message.text() == "A mailer is running; it was asked to send the queue now."
    qtbot.waitUntil(lambda: len(server.received) == 1, timeout=15000)
    qtbot.waitUntil(lambda: table_ids(tab) == [], timeout=5000)
    assert states() == ["sent"]
    assert batches == []


def test_start_and_stop_save_only_enabled(qtbot, processes):
    settings = queue_settings(**{"mailer.enabled": False})
    dialog, tab = open_queue_tab(qtbot, settings)
    set_field(dialog, "general.from_name", "Unsaved Name")
    assert dialog.apply_button.isEnabled()
    assert not tab.controls.stop_button.isEnabled()
    assert not tab.controls.send_now_button.isEnabled()

    click(qtbot, dialog, "startMailerButton")
    processes.append(tab.controls.mailer_process)

    on_file = load_settings().settings
    assert on_file["mailer.enabled"] is True
    assert on_file["general.from_name"] == "Network Alerts"
    assert dialog.saved_settings["mailer.enabled"] is True
    assert dialog.working["general.from_name"] == "Unsaved Name"
    assert dialog.apply_button.isEnabled()
    assert tab.controls.mailer_process is not None
    qtbot.waitUntil(lambda: status_text(tab).startswith("The mailer is running"), timeout=20000)
    assert mailer_running()
    assert not tab.controls.start_button.isEnabled()
    assert tab.controls.stop_button.isEnabled()

    click(qtbot, dialog, "stopMailerButton")

    on_file = load_settings().settings
    assert on_file["mailer.enabled"] is False
    assert on_file["general.from_name"] == "Network Alerts"
    assert dialog.working["general.from_name"] == "Unsaved Name"
    assert dialog.working["mailer.enabled"] is False
    assert tab.controls.mailer_process.poll() is None
    assert "stopped (mailer.enabled = false)" in status_text(tab)
    assert tab.controls.start_button.isEnabled()
    assert not tab.controls.send_now_button.isEnabled()


def test_start_with_running_mailer_starts_none(qtbot, tmp_path, processes):
    settings = queue_settings(**{"mailer.enabled": False})
    dialog, tab = open_queue_tab(qtbot, settings)
    processes.append(start_mailer(tmp_path / "mailer.out"))
    qtbot.waitUntil(lambda: "but stopped" in status_text(tab), timeout=20000)

    click(qtbot, dialog, "startMailerButton")

    assert tab.controls.mailer_process is None
    assert load_settings().settings["mailer.enabled"] is True
    assert tab.message.text() == "The running mailer sends the queue again."
    assert status_text(tab).startswith("The mailer is running")


def test_start_keeps_invalid_value_in_file(qtbot, processes):
    dialog, tab = open_queue_tab(qtbot, queue_settings(**{"mailer.enabled": False}))
    path = config_path()
    path.write_text(path.read_text().replace("send_interval_s = 20", "send_interval_s = 0  # typed by hand"))

    click(qtbot, dialog, "startMailerButton")
    processes.append(tab.controls.mailer_process)

    text = path.read_text()
    assert "send_interval_s = 0  # typed by hand" in text
    assert "enabled = true" in text.split("[mailer]")[1].split("[")[0]
    assert dialog.saved_settings["mailer.enabled"] is True


def test_start_rejected_for_unreadable_file(qtbot):
    dialog, tab = open_queue_tab(qtbot, queue_settings(**{"mailer.enabled": False}))
    path = config_path()
    path.write_text(path.read_text() + "\n[mailer\n")
    before = path.read_bytes()

    click(qtbot, dialog, "startMailerButton")

    assert path.read_bytes() == before
    assert tab.controls.mailer_process is None
    assert tab.message.text().startswith(f"The mailer was not started: the settings file {path} could not be read")
    assert dialog.saved_settings["mailer.enabled"] is False
    assert tab.controls.start_button.isEnabled()


def test_apply_keeps_enabled_set_elsewhere(qtbot):
    dialog, tab = open_queue_tab(qtbot, queue_settings())
    result = subprocess.run(
        [sys.executable, "-m", "alertmail.core.cli", "config", "set", "mailer.enabled", "false"],
        capture_output=True, timeout=60, env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    set_field(dialog, "general.from_name", "NOC")

    click(qtbot, dialog, "applyButton")

    on_file = load_settings().settings
    assert on_file["general.from_name"] == "NOC"
    assert on_file["mailer.enabled"] is False


def test_restore_defaults_keeps_enabled(qtbot):
    dialog, tab = open_queue_tab(qtbot, queue_settings(**{"mailer.enabled": False}))

    click(qtbot, dialog, "restoreDefaultsButton")

    assert dialog.working["mailer.enabled"] is False
    assert dialog.working["general.from_address"] == ""
