"""A body with bare LF line endings and a lone "." line, read back from the queue by a new mailer."""

from __future__ import annotations

import pytest
from mailer_support import change_settings, fields, run_cli, send_cli, stored, write_settings
from smtp_servers import BARE_LF, free_port

pytestmark = pytest.mark.network

BODY = "Backup report\n.\n.hidden file kept\nlast line\n"
BODY_ON_WIRE = b"Backup report\r\n..\r\n..hidden file kept\r\nlast line\r\n"
BODY_RECEIVED = b"Backup report\r\n.\r\n.hidden file kept\r\nlast line\r\n"


def queue_report_then_restart() -> int:
    """Queue the report with ``alertmail send``, and let one mailer process fail to send it."""
    message_id = send_cli("Nightly backup", BODY, kind="reports")
    first = run_cli("mailer", "run", "--once")
    assert first.returncode == 1, first.stderr
    assert stored(message_id).state == "queued"
    return message_id


def test_strict_server_accepts_report_from_queue(smtp_server):
    strict = smtp_server(strict_crlf=True)
    write_settings(primary=fields(host="127.0.0.1", port=free_port()))
    message_id = queue_report_then_restart()
    change_settings({"primary.port": strict.port})

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert stored(message_id).body == BODY
    assert stored(message_id).state == "sent"
    assert len(strict.received) == 1
    content = strict.received[0].content
    assert BARE_LF.search(content) is None
    assert content.endswith(BODY_RECEIVED)
    assert strict.received[0].rcpt_tos == ["reports@example.com"]


def test_wire_data_is_crlf_and_dot_stuffed(fault_smtp_server):
    recorder = fault_smtp_server("ok")
    write_settings(primary=fields(host="127.0.0.1", port=free_port()))
    message_id = queue_report_then_restart()
    change_settings({"primary.port": recorder.port})

    result = run_cli("mailer", "run", "--once")

    assert result.returncode == 0, result.stderr
    assert stored(message_id).state == "sent"
    assert recorder.connections == 1
    raw = recorder.sessions[0].data[0]
    assert BARE_LF.search(raw) is None
    assert raw.endswith(BODY_ON_WIRE)
    # The only lines that start with a dot are the two stuffed ones.
    assert [line for line in raw.split(b"\r\n") if line.startswith(b".")] == [b"..", b"..hidden file kept"]
