"""Lines and replies of an SMTP connection, with deadlines and cancellation.

``smtplib`` reduces a timeout, a closed connection and a reset to one
``SMTPServerDisconnected`` and closes the socket, but the dispatcher has to
tell "no reply within the timeout" from "the server closed the connection",
and has to redact credentials before any line is recorded. So the few
primitives it needs are here, on a plain or TLS socket.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import NamedTuple

from .connection import CancelToken, Deadline
from .transcript import Transcript

MAX_LINE_BYTES = 8192  # RFC 5321 allows 512 per reply line; servers send more.
MAX_REPLY_LINES = 1000
# How much longer than the time left for a reply the socket's timeout may be
# (see SmtpChannel._use_timeout).
TIMEOUT_SLACK_S = 0.001

# The logger Transcript writes every line to at DEBUG level.
_transcript_log = logging.getLogger("alertmail.transcript")

_REPLY_LINE = re.compile(r"^(\d{3})([ -]?)(.*)$")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class Reply(NamedTuple):
    """One SMTP reply: the three-digit code and the text of each line after it.

    A named tuple rather than a frozen dataclass, because the dispatcher
    makes five per message and a named tuple is made in a fraction of the time.
    """

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The reply text, lines joined by spaces, without the code."""
        return " ".join(line for line in self.lines if line)

    def __str__(self) -> str:
        return f"{self.code} {self.text}".rstrip()


class WireError(Exception):
    """The connection failed below the SMTP level.

    ``kind`` is "timeout" (no reply in time), "closed" (closed or reset by
    the server), "cancelled" (the user cancelled) or "invalid" (the server
    sent something that is not an SMTP reply). ``detail`` adds the reason.
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}" if detail else kind)


class SmtpChannel:
    """A connected socket that sends command lines and reads replies.

    Every line is recorded in ``transcript`` while ``transcribe`` is True
    (the default). With ``transcribe`` False, lines are made and recorded
    only while the ``alertmail.transcript`` logger logs DEBUG. The socket is
    registered with ``cancel`` so that cancelling interrupts a blocked read at once.
    """

    def __init__(
        self, sock: socket.socket, *, transcript: Transcript, cancel: CancelToken, timeout_s: float
    ) -> None:
        self.sock = sock
        self.transcript = transcript
        self.cancel = cancel
        self.timeout_s = timeout_s
        self.utf8 = False
        self.transcribe = True
        # The timeout last given to the socket, None when not known.
        self._sock_timeout: float | None = None
        self._buffer = bytearray()
        cancel.register(sock)

    def _recording(self) -> bool:
        return self.transcribe or _transcript_log.isEnabledFor(logging.DEBUG)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet read as a reply."""
        return len(self._buffer)

    def detach(self) -> socket.socket:
        """Stop using the socket and return it, for the STARTTLS handshake."""
        self.cancel.unregister(self.sock)
        self._sock_timeout = None
        return self.sock

    def attach(self, sock: socket.socket) -> None:
        """Use ``sock`` from now on, such as the TLS socket after STARTTLS."""
        self.sock = sock
        self._sock_timeout = None
        self._buffer.clear()
        self.cancel.register(sock)

    def _use_timeout(self, seconds: float) -> None:
        """Give the socket a timeout of ``seconds``, unless it has one at most 1 ms longer.

        ``settimeout`` is a system call, and without this the session made
        two per command. With it, the first read of a reply may wait up to
        ``TIMEOUT_SLACK_S`` past the reply's deadline.
        """
        current = self._sock_timeout
        if current is None or not 0 <= current - seconds <= TIMEOUT_SLACK_S:
            self.sock.settimeout(seconds)
            self._sock_timeout = seconds

    def close(self) -> None:
        """Close the socket without a QUIT."""
        self.cancel.unregister(self.sock)
        try:
            self.sock.close()
        except OSError:
            pass

    # --- sending ---------------------------------------------------------------

    def send_line(self, text: str, *, secret: bool = False) -> None:
        """Send one command line; ``secret`` redacts it in the transcript.

        Raises ``ValueError`` when ``text`` contains CR or LF, which would
        end the command early and let the rest act as another command.
        """
        if "\r" in text or "\n" in text:
            raise ValueError("an SMTP command must not contain CR or LF")
        if self._recording():
            self.transcript.client(text, secret=secret)
        encoding = "utf-8" if self.utf8 else "ascii"
        self._send(text.encode(encoding) + b"\r\n")

    def send_data(self, data: bytes) -> None:
        """Send message data dot-stuffed, followed by the ``.`` line that ends it.

        ``data`` must already have CRLF line endings.
        """
        stuffed = data
        if data.startswith(b".") or b"\n." in data:
            stuffed = _LEADING_DOT.sub(b"..", data)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        if self._recording():
            self.transcript.client(f"<message data, {len(data)} bytes>")
            self.transcript.client(".")
        # The data and its end line go out in one write. Written apart, Nagle's
        # algorithm delays the short end line until the server acknowledges
        # the data, so a server that delays its ACK (40 ms on Linux) makes
        # every message wait that long for its reply.
        self._send(stuffed + b".\r\n")

    def _send(self, payload: bytes) -> None:
        try:
            self._use_timeout(self.timeout_s)
            self.sock.sendall(payload)
        except TimeoutError:
            raise self._failure("timeout") from None
        except OSError as error:
            raise self._failure("closed", str(error)) from None

    # --- receiving -------------------------------------------------------------

    def read_reply(self, deadline: Deadline | None = None) -> Reply:
        """Read one reply, all of its lines, before ``deadline`` (default: the timeout)."""
        deadline = deadline or Deadline(self.timeout_s)
        code: int | None = None
        lines: list[str] = []
        recording = self._recording()
        while len(lines) < MAX_REPLY_LINES:
            raw = self._read_line(deadline)
            text = raw.decode("utf-8", errors="replace")
            if recording:
                self.transcript.server(text)
            match = _REPLY_LINE.match(text)
            if match is None or (code is not None and int(match.group(1)) != code):
                raise WireError("invalid", f"{text[:80]!r} is not an SMTP reply line")
            code = int(match.group(1))
            lines.append(match.group(3).strip())
            if match.group(2) != "-":
                return Reply(code, tuple(lines))
        raise WireError("invalid", f"a reply of more than {MAX_REPLY_LINES} lines")

    def _read_line(self, deadline: Deadline) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line.rstrip(b"\r\n")
            if len(self._buffer) > MAX_LINE_BYTES:
                raise WireError("invalid", f"a reply line longer than {MAX_LINE_BYTES} bytes")
            remaining = deadline.remaining()
            if remaining <= 0:
                raise self._failure("timeout")
            try:
                self._use_timeout(remaining)
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise self._failure("timeout") from None
            except OSError as error:
                raise self._failure("closed", str(error)) from None
            if not chunk:
                raise self._failure("closed")
            self._buffer += chunk

    def _failure(self, kind: str, detail: str = "") -> WireError:
        if self.cancel.cancelled:
            return WireError("cancelled")
        return WireError(kind, detail)
