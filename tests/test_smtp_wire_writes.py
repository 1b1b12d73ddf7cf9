"""The write pattern of SmtpChannel.send_data, which decides the latency of each message."""

from __future__ import annotations

import logging

from alertmail.core.connection import CancelToken
from alertmail.core.smtp_wire import SmtpChannel
from alertmail.core.transcript import Transcript


class RecordingSocket:
    """Stands in for a connected socket and records each ``sendall`` payload."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def settimeout(self, timeout: float | None) -> None:
        pass

    def sendall(self, payload: bytes) -> None:
        self.writes.append(bytes(payload))

    def close(self) -> None:
        pass


def test_send_data_one_write_with_end_line():
    # Written apart, the short end line waits for the server's delayed ACK
    # of the data (Nagle's algorithm), about 40 ms per message on Linux.
    sock = RecordingSocket()
    transcript = Transcript()
    channel = SmtpChannel(sock, transcript=transcript, cancel=CancelToken(), timeout_s=5)

    channel.send_data(b"Subject: x\r\n\r\nline\r\n.hidden\r\n")

    assert sock.writes == [b"Subject: x\r\n\r\nline\r\n..hidden\r\n.\r\n"]
    assert transcript.lines == ["C: <message data, 29 bytes>", "C: ."]


def test_send_data_adds_missing_line_end():
    sock = RecordingSocket()
    channel = SmtpChannel(sock, transcript=Transcript(), cancel=CancelToken(), timeout_s=5)

    channel.send_data(b"body without line end")

    assert sock.writes == [b"body without line end\r\n.\r\n"]


def test_send_data_stuffs_leading_dot_of_first_line():
    sock = RecordingSocket()
    channel = SmtpChannel(sock, transcript=Transcript(), cancel=CancelToken(), timeout_s=5)

    channel.send_data(b".first\r\nsecond\r\n..third\r\n")

    assert sock.writes == [b"..first\r\nsecond\r\n...third\r\n.\r\n"]


def test_send_data_without_dots_unchanged():
    sock = RecordingSocket()
    channel = SmtpChannel(sock, transcript=Transcript(), cancel=CancelToken(), timeout_s=5)

    channel.send_data(b"Subject: x\r\n\r\nno dot. at any line start.\r\n")

    assert sock.writes == [b"Subject: x\r\n\r\nno dot. at any line start.\r\n.\r\n"]


def test_send_data_unrecorded_when_not_transcribed(caplog):
    # Lines are still made when DEBUG logging of the transcript is on.
    caplog.set_level(logging.INFO, logger="alertmail.transcript")
    sock = RecordingSocket()
    transcript = Transcript()
    channel = SmtpChannel(sock, transcript=transcript, cancel=CancelToken(), timeout_s=5)
    channel.transcribe = False

    channel.send_data(b"line\r\n")
    channel.send_line("NOOP")

    assert sock.writes == [b"line\r\n.\r\n", b"NOOP\r\n"]
    assert transcript.lines == []
