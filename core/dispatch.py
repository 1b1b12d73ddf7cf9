"""The SMTP dispatcher: one session through one server, one transaction per message.

The Test Email button, ``alertmail test-email`` and the mailer all send
through ``SmtpDispatcher``. ``connect()`` opens the session, with the
steps listed in smtp_connect.py. ``send()`` runs MAIL, RCPT for each
recipient and DATA, and returns a ``MessageResult`` with the outcome of
that message. ``close()`` ends the session with QUIT.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

from .connection import CancelToken, Resolver
from .errors import ConnectionLost, Step
from .messages import OutgoingMessage
from .settings import ServerSettings
from .smtp_connect import Session, open_session
from .smtp_wire import WireError
from .transaction import MessageCancelled, MessageLost, MessageResult, Transaction
from .transcript import Transcript

__all__ = [
    "CancelToken",
    "MessageCancelled",
    "MessageLost",
    "MessageResult",
    "SmtpDispatcher",
]

log = logging.getLogger(__name__)

# A slow reply to QUIT is not worth waiting for, because every message is
# already accepted or refused by then.
QUIT_TIMEOUT_S = 5.0


class SmtpDispatcher:
    """One SMTP session through one server.

    ``password_for(server_name)`` returns the password or raises
    ``SecretStoreError``; it defaults to the keyring. Without a
    ``transcript``, the lines of the messages' commands and replies are
    recorded only while the ``alertmail.transcript`` logger logs DEBUG,
    because no one reads them. ``ssl_context``
    defaults to a context that verifies against the operating system's
    trust store. ``resolver(host, port)`` returns ``getaddrinfo`` tuples and
    defaults to ``socket.getaddrinfo``; IP addresses never reach it.
    """

    def __init__(
        self,
        server: ServerSettings,
        *,
        password_for: Callable[[str], str] | None = None,
        transcript: Transcript | None = None,
        ssl_context: ssl.SSLContext | None = None,
        cancel: CancelToken | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.server = server
        self.password_for = password_for
        self.transcript = transcript if transcript is not None else Transcript()
        self._transcribe = transcript is not None
        self.ssl_context = ssl_context
        self.cancel = cancel if cancel is not None else CancelToken()
        self.resolver = resolver
        self._session: Session | None = None
        self._lost: ConnectionLost | None = None
        # The last result, while its log line is still to be written.
        self._unlogged: MessageResult | None = None

    @property
    def connected(self) -> bool:
        """True while a session is open and has not been lost."""
        return self._session is not None and self._lost is None

    def connect(self) -> None:
        """Open the session: everything up to and including AUTH.

        Raises ``ConnectFailure`` with the failed step, or ``DeliveryCancelled``.
        """
        if self._session is not None:
            raise RuntimeError("connect() was already called on this dispatcher")
        self._session = open_session(
            self.server,
            password_for=self.password_for,
            transcript=self.transcript,
            ssl_context=self.ssl_context,
            cancel=self.cancel,
            resolver=self.resolver,
        )
        self._session.channel.transcribe = self._transcribe
        log.info(
            "connected to the %s server %s port %d", self.server.label, self.server.host,
            self.server.port,
        )

    def send(
        self,
        message: OutgoingMessage,
        *,
        while_waiting: Callable[[], None] | None = None,
        before_data: Callable[[], None] | None = None,
    ) -> MessageResult:
        """Send ``message`` in one transaction and return its result.

        Refusals and temporary failures are results, not exceptions. Raises
        ``MessageLost`` (a ``ConnectionLost``) when the session dies or the
        server replies 421, ``MessageCancelled`` when cancelled, and
        ``SettingError`` when an address contains CR or LF.

        The hooks are those of ``Transaction``: ``while_waiting`` runs while
        each command's reply is awaited, ``before_data`` before the data is
        sent, and an exception from either ends the session and propagates.

        The INFO log line of each result is written while the server works
        on the next message's data, or when the session closes, so that
        writing it does not delay the session.
        """
        if self._session is None:
            raise RuntimeError("connect() must succeed before send()")
        transaction = Transaction(
            self._session, self.server, message, while_waiting=while_waiting,
            before_data=before_data, after_data=self._write_unlogged,
        )
        if self._lost is not None:
            lost = ConnectionLost(
                Step.MAIL, f"the connection was lost earlier: {self._lost.detail}",
                server=self.server.name,
            )
            raise MessageLost(lost, transaction.not_sent(lost))
        try:
            result = transaction.run()
        except MessageLost as error:
            self._lost = error
            raise
        except MessageCancelled:
            self._lost = ConnectionLost(Step.MAIL, "cancelled by the user", server=self.server.name)
            raise
        except BaseException:
            if transaction.session_lost is not None:
                self._lost = transaction.session_lost
            raise
        if transaction.session_lost is not None:
            self._lost = transaction.session_lost
        self._write_unlogged()
        if log.isEnabledFor(logging.INFO):
            self._unlogged = result
        return result

    def _write_unlogged(self) -> None:
        result, self._unlogged = self._unlogged, None
        if result is not None:
            log.info(
                "message %s (%s) through the %s server: %s", result.message_id, result.kind,
                self.server.label, result.summary(),
            )

    def close(self) -> None:
        """End the session with QUIT; a failed QUIT is only logged at DEBUG level."""
        self._write_unlogged()
        session, self._session = self._session, None
        if session is None:
            return
        channel = session.channel
        try:
            if self._lost is None and not self.cancel.cancelled:
                channel.timeout_s = min(channel.timeout_s, QUIT_TIMEOUT_S)
                channel.send_line("QUIT")
                channel.read_reply()
        except (WireError, OSError) as error:
            log.debug("QUIT to the %s server failed: %s", self.server.label, error)
        finally:
            channel.close()

    def __enter__(self) -> SmtpDispatcher:
        """Return the dispatcher; ``connect()`` is still called explicitly inside the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
