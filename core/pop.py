"""POP before send: log in to a POP3 server, then QUIT, before the SMTP session opens.

Servers that use this scheme allow relaying from an address for a while
after a successful POP3 login from it. The login uses ``poplib`` on a socket
connected within the same time budget as SMTP: name lookup, every address
and the greeting share ``timeout_s``, and each later reply gets
``timeout_s``. User name and password are sent as UTF-8.
"""

from __future__ import annotations

import logging
import poplib
import socket

from .connection import (
    CancelToken,
    Deadline,
    Resolver,
    cancelled_error,
    open_connection,
    peer_address,
    resolve,
)
from .errors import ConnectFailure, DeliveryError, SettingError, Step, seconds_text
from .settings import ServerSettings
from .transcript import Transcript

log = logging.getLogger(__name__)

STEP = Step.POP_LOGIN


class _ConnectedPop3(poplib.POP3):
    """``poplib.POP3`` on a socket that is already connected."""

    def __init__(self, sock: socket.socket, host: str, port: int, timeout: float) -> None:
        self._connected = sock
        try:
            super().__init__(host, port, timeout)
        except BaseException:
            # The file poplib made from the socket keeps the descriptor open.
            if getattr(self, "file", None) is not None:
                self.file.close()
            raise

    def release(self) -> None:
        """Close the file and the socket; errors of an already broken connection are ignored."""
        try:
            self.close()
        except OSError as error:
            log.debug("closing the POP connection failed: %s", error)

    def _create_socket(self, timeout: float) -> socket.socket:
        self._connected.settimeout(timeout)
        return self._connected


def _reply_text(error: poplib.error_proto) -> str:
    value = error.args[0] if error.args else ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _closed(error: poplib.error_proto) -> bool:
    # poplib raises error_proto('-ERR EOF') with a str when the connection
    # closes, and with the reply bytes when the server replies -ERR.
    return bool(error.args) and isinstance(error.args[0], str)


class _PopLogin:
    """One POP3 login; turns every failure into ``ConnectFailure`` at the POP login step."""

    def __init__(
        self, server: ServerSettings, transcript: Transcript, cancel: CancelToken
    ) -> None:
        self.server = server
        self.transcript = transcript
        self.cancel = cancel
        self.where = f"the POP server {server.pop_host} port {server.pop_port}"

    def fail(self, detail: str, reply: str = "") -> DeliveryError:
        if self.cancel.cancelled:
            return cancelled_error(STEP, self.server.name)
        return ConnectFailure(STEP, detail, reply=reply, server=self.server.name)

    def command(self, client: poplib.POP3, call, line: str, *, secret: bool = False) -> bytes:
        """Run one poplib call that sends ``line``; record both sides in the transcript."""
        self.transcript.client(line, secret=secret)
        try:
            reply = call()
        except poplib.error_proto as error:
            if _closed(error):
                raise self.fail(f"{self.where} closed the connection") from None
            text = _reply_text(error)
            self.transcript.server(text)
            verb = line.split(" ")[0]
            raise self._rejected(verb, text) from None
        except TimeoutError:
            raise self.fail(
                f"{self.where} did not reply within {seconds_text(self.server.timeout_s)}"
            ) from None
        except OSError as error:
            raise self.fail(f"the connection to {self.where} failed ({error})") from None
        self.transcript.server(reply.decode("utf-8", errors="replace"))
        return reply

    def _rejected(self, verb: str, text: str) -> DeliveryError:
        username = self.server.username
        if verb == "USER":
            return self.fail(f"{self.where} rejected the user name {username}", text)
        if verb == "PASS":
            return self.fail(f"{self.where} rejected the login for user {username}", text)
        return self.fail(f"{self.where} rejected {verb}", text)

    def greet(self, sock: socket.socket, deadline: Deadline) -> _ConnectedPop3:
        try:
            client = _ConnectedPop3(
                sock, self.server.pop_host, self.server.pop_port, max(deadline.remaining(), 0.001)
            )
        except poplib.error_proto as error:
            if _closed(error):
                raise self.fail(f"{self.where} closed the connection before its greeting") from None
            text = _reply_text(error)
            self.transcript.server(text)
            raise self.fail(f"{self.where} rejected the session in its greeting", text) from None
        except TimeoutError:
            raise self.fail(
                f"{self.where} sent no greeting within {seconds_text(deadline.seconds)}"
            ) from None
        except OSError as error:
            raise self.fail(f"the connection to {self.where} failed ({error})") from None
        self.transcript.server(client.getwelcome().decode("utf-8", errors="replace"))
        sock.settimeout(self.server.timeout_s)
        return client


def login_before_send(
    server: ServerSettings,
    password: str,
    *,
    transcript: Transcript,
    cancel: CancelToken,
    resolver: Resolver | None = None,
) -> None:
    """Log in to the POP3 server of ``server`` with USER and PASS, then QUIT.

    Raises ``ConnectFailure`` at the POP login step with the server's reply
    when the login fails, or ``DeliveryCancelled``. A failed QUIT after a
    successful login is only logged: the login has already happened.
    """
    if any(char in server.username for char in "\r\n"):
        raise SettingError(f"{server.name}.username", server.username, "line breaks are not allowed")
    if any(char in password for char in "\r\n"):
        raise ConnectFailure(
            Step.PASSWORD,
            "the stored password contains a line break, which a POP3 login cannot send",
            server=server.name,
        )
    login = _PopLogin(server, transcript, cancel)
    deadline = Deadline(server.timeout_s)
    transcript.note(f"POP before send: {server.pop_host} port {server.pop_port}")
    addresses = resolve(
        server.pop_host, server.pop_port, deadline=deadline, resolver=resolver, cancel=cancel,
        server=server.name, step=STEP, role="POP server ",
    )
    sock = open_connection(
        addresses, deadline=deadline, cancel=cancel, server=server.name,
        host=server.pop_host, port=server.pop_port, step=STEP,
    )
    transcript.note(f"connected to POP server {peer_address(sock)} port {server.pop_port}")
    cancel.register(sock)
    client: _ConnectedPop3 | None = None
    try:
        client = login.greet(sock, deadline)
        login.command(client, lambda: client.user(server.username), f"USER {server.username}")
        login.command(client, lambda: client.pass_(password), f"PASS {password}", secret=True)
        try:
            login.command(client, client.quit, "QUIT")
        except DeliveryError as error:
            if cancel.cancelled:
                raise
            log.debug("POP QUIT after a successful login failed: %s", error.describe())
    finally:
        cancel.unregister(sock)
        if client is not None:
            client.release()
        sock.close()
    transcript.note("POP login done")
