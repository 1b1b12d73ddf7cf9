"""SMTP servers for tests: aiosmtpd with recording, and fault-injecting raw servers.

``SmtpServer`` wraps aiosmtpd's ``Controller``; it records every envelope
with its raw data and counts connections. ``FaultSmtpServer`` plays a
scripted conversation from the ``FAULTS`` table, for behaviour that
aiosmtpd does not produce on request: no greeting, a dropped connection
after the data, silence after the data, and so on. Both listen on loopback
only and stop within a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import ssl
import threading
import time
from collections.abc import Mapping

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

BARE_LF = re.compile(rb"(?<!\r)\n")
SERVER_NAME = "mx.alertmail.test"
POLL_S = 0.05


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` now.

    aiosmtpd's ``Controller`` cannot listen on port 0 and report the port it
    got, so a free port is picked first. Another process could take it in
    between, but on a test machine that is rare.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Received:
    """One message as the server received it; ``content`` is the raw data after dot-unstuffing."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str]


class RecordingHandler:
    """aiosmtpd handler that records envelopes and refuses chosen recipients.

    ``refuse`` maps an address to the reply its RCPT gets. With
    ``strict_crlf`` a message whose data contains a LF not preceded by CR is
    refused with ``550 5.6.11 bare LF not allowed``, as strict servers do.
    """

    def __init__(self, refuse: Mapping[str, str], strict_crlf: bool, data_reply: str) -> None:
        self.refuse = dict(refuse)
        self.strict_crlf = strict_crlf
        self.data_reply = data_reply
        self.received: list[Received] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        if self.strict_crlf and BARE_LF.search(content):
            return "550 5.6.11 bare LF not allowed"
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=content,
                mail_options=list(envelope.mail_options),
            )
        )
        return self.data_reply


class _CountingSMTP(SMTP):
    def __init__(self, handler, *, owner: SmtpServer, **kwargs) -> None:
        self._owner = owner
        super().__init__(handler, **kwargs)

    def connection_made(self, transport) -> None:
        self._owner.record_connection()
        super().connection_made(transport)


class _Controller(Controller):
    def __init__(self, handler, *, owner: SmtpServer, **kwargs) -> None:
        self._owner = owner
        super().__init__(handler, **kwargs)

    def factory(self):
        return _CountingSMTP(self.handler, owner=self._owner, **self.SMTP_kwargs)


class SmtpServer:
    """A running aiosmtpd server on loopback.

    ``received`` lists the messages accepted, ``connections`` counts TCP
    connections (TLS ones once their handshake completed) and
    ``connection_times`` holds their ``time.monotonic()`` stamps;
    ``auth_attempts`` lists ``(mechanism, user, success)``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        users: Mapping[str, str] | None = None,
        auth_require_tls: bool = False,
        auth_exclude: tuple[str, ...] = (),
        starttls_context: ssl.SSLContext | None = None,
        implicit_tls_context: ssl.SSLContext | None = None,
        smtputf8: bool = True,
        refuse: Mapping[str, str] | None = None,
        strict_crlf: bool = False,
        data_reply: str = "250 2.0.0 queued",
    ) -> None:
        self.host = host
        self.port = free_port(host)
        self.users = dict(users or {})
        self.handler = RecordingHandler(refuse or {}, strict_crlf, data_reply)
        self.connections = 0
        self.connection_times: list[float] = []
        self.auth_attempts: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()
        options: dict = {
            "hostname": host,
            "port": self.port,
            "server_hostname": SERVER_NAME,
            "enable_SMTPUTF8": smtputf8,
            "decode_data": False,
            "ssl_context": implicit_tls_context,
            "ready_timeout": 5.0,
        }
        if starttls_context is not None:
            options["tls_context"] = starttls_context
        if users is not None:
            options["authenticator"] = self._authenticate
            options["auth_require_tls"] = auth_require_tls
            options["auth_exclude_mechanism"] = list(auth_exclude)
        self._controller = _Controller(self.handler, owner=self, **options)

    @property
    def received(self) -> list[Received]:
        """Messages accepted so far."""
        return self.handler.received

    def record_connection(self) -> None:
        with self._lock:
            self.connections += 1
            self.connection_times.append(time.monotonic())

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", errors="replace")
        try:
            password = auth_data.password.decode("utf-8")
        except UnicodeDecodeError:
            password = None
        success = user in self.users and self.users[user] == password
        self.auth_attempts.append((mechanism, user, success))
        return AuthResult(success=success, handled=False)

    def start(self) -> SmtpServer:
        self._controller.start()
        # Controller.start() opens one connection of its own to check that
        # the server replies, so the counts start after it.
        with self._lock:
            self.connections = 0
            self.connection_times.clear()
        return self

    def stop(self) -> None:
        self._controller.stop()


# --- fault-injecting servers -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FaultScript:
    """The replies of a ``FaultSmtpServer``.

    ``greeting=None`` never greets. ``rcpt_replies`` maps addresses to their
    RCPT reply, others get ``rcpt_default``. After the data, ``after_data``
    is sent unless it is ``None`` (silence), and ``close_after_data``
    closes the connection right after it. ``quit=None`` closes the
    connection without answering QUIT.
    """

    greeting: str | None = f"220 {SERVER_NAME} ESMTP fault server"
    ehlo: tuple[str, ...] = (f"250-{SERVER_NAME}", "250-8BITMIME", "250 SIZE 10240000")
    helo: str = f"250 {SERVER_NAME}"
    mail: str = "250 2.1.0 OK"
    rcpt_default: str = "250 2.1.5 OK"
    rcpt_replies: tuple[tuple[str, str], ...] = ()
    data: str = "354 End data with <CR><LF>.<CR><LF>"
    after_data: str | None = "250 2.0.0 queued"
    close_after_data: bool = False
    quit: str | None = "221 2.0.0 bye"


FAULTS: dict[str, FaultScript] = {
    "ok": FaultScript(),
    "no_greeting": FaultScript(greeting=None),
    "greeting_421": FaultScript(greeting="421 4.3.2 service not available, closing channel"),
    "greeting_554": FaultScript(greeting="554 5.3.2 no service for you"),
    "ehlo_502": FaultScript(ehlo=("502 5.5.1 EHLO not implemented",)),
    "ehlo_421": FaultScript(ehlo=("421 4.7.0 too many connections, try later",)),
    "mail_451": FaultScript(mail="451 4.7.1 greylisted, try again later"),
    "rcpt_451": FaultScript(rcpt_default="451 4.3.0 try again later"),
    "rcpt_421": FaultScript(rcpt_default="421 4.4.2 closing connection"),
    "rcpt_550_one": FaultScript(rcpt_replies=(("gone@example.com", "550 5.1.1 mailbox unavailable"),)),
    "data_554": FaultScript(after_data="554 5.7.1 message rejected as spam"),
    "data_451": FaultScript(after_data="451 4.3.0 local error, try again"),
    "drop_after_data": FaultScript(after_data=None, close_after_data=True),
    "silent_after_data": FaultScript(after_data=None),
    "close_after_accept": FaultScript(close_after_data=True, quit=None),
}


@dataclasses.dataclass
class FaultSession:
    """What one connection to a ``FaultSmtpServer`` sent: command lines and message data."""

    commands: list[str] = dataclasses.field(default_factory=list)
    data: list[bytes] = dataclasses.field(default_factory=list)


class _Closed(Exception):
    pass


class FaultSmtpServer:
    """A raw SMTP server on loopback that follows one ``FaultScript``.

    Each connection is served by its own thread; every wait checks the stop
    event at least every 50 ms, so ``stop()`` ends all of them promptly.
    ``connections`` counts accepted TCP connections, ``sessions`` records
    what each one sent.
    """

    def __init__(self, script: FaultScript | str, host: str = "127.0.0.1") -> None:
        self.script = FAULTS[script] if isinstance(script, str) else script
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(POLL_S)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.connection_times: list[float] = []
        self.sessions: list[FaultSession] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="fault-smtp", daemon=True)

    def start(self) -> FaultSmtpServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self.connection_times.append(time.monotonic())
            session = FaultSession()
            self.sessions.append(session)
            thread = threading.Thread(target=self._serve, args=(conn, session), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, session: FaultSession) -> None:
        conn.settimeout(POLL_S)
        reader = _LineReader(conn, self._stop)
        try:
            self._converse(conn, reader, session)
        except _Closed:
            pass
        finally:
            conn.close()

    def _converse(self, conn: socket.socket, reader: _LineReader, session: FaultSession) -> None:
        script = self.script
        if script.greeting is None:
            reader.wait_for_close()
            return
        _send(conn, script.greeting)
        if script.greeting.startswith("421"):
            return
        replies = dict(script.rcpt_replies)
        while True:
            line = reader.line().decode("utf-8", errors="replace")
            session.commands.append(line)
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                _send(conn, *(script.ehlo if verb == "EHLO" else (script.helo,)))
            elif verb == "MAIL":
                _send(conn, script.mail)
            elif verb == "RCPT":
                address = line.partition("<")[2].partition(">")[0]
                _send(conn, replies.get(address, script.rcpt_default))
            elif verb == "DATA":
                _send(conn, script.data)
                session.data.append(reader.data())
                if script.after_data is not None:
                    _send(conn, script.after_data)
                if script.close_after_data:
                    return
                if script.after_data is None:
                    reader.wait_for_close()
                    return
            elif verb == "QUIT":
                if script.quit is not None:
                    _send(conn, script.quit)
                return
            elif verb in ("RSET", "NOOP"):
                _send(conn, "250 2.0.0 OK")
            else:
                _send(conn, "502 5.5.1 command not implemented")


def _send(conn: socket.socket, *lines: str) -> None:
    try:
        conn.sendall("".join(line + "\r\n" for line in lines).encode("utf-8"))
    except OSError:
        raise _Closed from None


class _LineReader:
    """Reads CRLF lines from a socket with a short timeout, until stopped or closed."""

    def __init__(self, conn: socket.socket, stop: threading.Event) -> None:
        self.conn = conn
        self.stop = stop
        self.buffer = bytearray()

    def _fill(self) -> None:
        while not self.stop.is_set():
            try:
                chunk = self.conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                raise _Closed from None
            if not chunk:
                raise _Closed
            self.buffer += chunk
            return
        raise _Closed

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, _, rest = bytes(self.buffer).partition(b"\r\n")
        self.buffer = bytearray(rest)
        return line

    def data(self) -> bytes:
        """Read message data up to the lone ``.`` line; return it as sent (still dot-stuffed)."""
        while b"\r\n.\r\n" not in b"\r\n" + self.buffer:
            self._fill()
        framed = b"\r\n" + bytes(self.buffer)
        end = framed.index(b"\r\n.\r\n")
        self.buffer = bytearray(framed[end + 5:])
        return framed[2:end + 2]

    def wait_for_close(self) -> None:
        """Stay silent, discarding input, until the client closes or the server stops."""
        try:
            while True:
                self._fill()
                self.buffer.clear()
        except _Closed:
            return
