"""A small threaded POP3 server for tests of POP before send.

It speaks the AUTHORIZATION and TRANSACTION states of RFC 1939 as far as a
login needs them: greeting, USER, PASS, STAT, QUIT. ``mode`` chooses the
behaviour: "ok" logs in known users, "silent" accepts TCP and never greets,
"reject" replies to every PASS with an Exchange-style logon failure.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping

POLL_S = 0.05
LOGON_FAILURE = "-ERR Logon failure: unknown user name or bad password"
MODES = ("ok", "silent", "reject")


class Pop3Server:
    """A POP3 server on loopback that records what happened, with timestamps.

    ``events`` lists ``(time.monotonic(), event)`` where event is "connect",
    "greeting", "USER <name>", "PASS", "login ok", "login failed", "STAT",
    "QUIT" or "close". ``logins`` lists the ``(user, password)`` pairs
    received, decoded as UTF-8, so a test can compare them exactly.
    """

    def __init__(self, mode: str = "ok", users: Mapping[str, str] | None = None,
                 host: str = "127.0.0.1") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown POP3 mode {mode!r}")
        self.mode = mode
        self.users = dict(users or {})
        self.host = host
        self.events: list[tuple[float, str]] = []
        self.logins: list[tuple[str, str]] = []
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(POLL_S)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="pop3", daemon=True)

    def record(self, event: str) -> None:
        self.events.append((time.monotonic(), event))

    def time_of(self, event: str) -> float:
        """Return the time of the first ``event``; raise ``LookupError`` when it never happened."""
        for stamp, name in self.events:
            if name == event:
                return stamp
        raise LookupError(event)

    def start(self) -> Pop3Server:
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
            self.record("connect")
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(POLL_S)
        buffer = bytearray()
        try:
            if self.mode == "silent":
                while self._read_line(conn, buffer) is not None:
                    pass
                return
            self._send(conn, "+OK alertmail test POP3 server ready")
            self.record("greeting")
            self._dialog(conn, buffer)
        except OSError:
            pass
        finally:
            self.record("close")
            conn.close()

    def _dialog(self, conn: socket.socket, buffer: bytearray) -> None:
        user = None
        while (line := self._read_line(conn, buffer)) is not None:
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            if verb == "USER":
                user = argument
                self.record(f"USER {argument}")
                self._send(conn, "+OK send PASS")
            elif verb == "PASS":
                self.record("PASS")
                self.logins.append((user or "", argument))
                if self.mode == "ok" and user in self.users and self.users[user] == argument:
                    self.record("login ok")
                    self._send(conn, "+OK maildrop locked and ready")
                else:
                    self.record("login failed")
                    self._send(conn, LOGON_FAILURE if self.mode == "reject" else "-ERR invalid password")
            elif verb == "STAT":
                self.record("STAT")
                self._send(conn, "+OK 0 0")
            elif verb == "QUIT":
                self.record("QUIT")
                self._send(conn, "+OK bye")
                return
            else:
                self._send(conn, "-ERR unknown command")

    def _send(self, conn: socket.socket, line: str) -> None:
        conn.sendall(line.encode("utf-8") + b"\r\n")

    def _read_line(self, conn: socket.socket, buffer: bytearray) -> str | None:
        """Return the next line, or ``None`` when the client closed or the server stops."""
        while b"\r\n" not in buffer:
            if self._stop.is_set():
                return None
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return None
            buffer += chunk
        end = buffer.index(b"\r\n")
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        return line.decode("utf-8", errors="replace")
