"""The choice of server, and delivery of a batch with failover to the secondary.

The rules:

1. When the primary server cannot be used (any failure before the first
   ``MAIL FROM``: lookup, connect, greeting, EHLO, STARTTLS, certificate,
   password, login), the secondary is tried at once, in the same call.
2. A session lost after it was established is not failed over: the
   remaining messages are deferred, and the caller tries again later.
3. When the primary is not enabled, the secondary is used.
4. When neither is enabled, nothing is sent and ``NoServerEnabledError`` is raised.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
from collections.abc import Callable

from .connection import CancelToken, Resolver
from .dispatch import MessageCancelled, MessageLost, MessageResult, SmtpDispatcher
from .errors import ConnectFailure, DeliveryCancelled, DeliveryError, NoServerEnabledError
from .messages import OutgoingMessage
from .settings import ServerSettings, Settings
from .transcript import Transcript

log = logging.getLogger(__name__)

CHOICES = ("auto", "primary", "secondary")


def servers_in_order(settings: Settings, choice: str = "auto") -> list[ServerSettings]:
    """Return the servers to try, in order.

    "auto" follows the failover rules: the primary then the secondary when
    both are enabled, only the secondary when the primary is not enabled,
    and ``NoServerEnabledError`` when neither is. "primary" or "secondary"
    returns just that server, enabled or not, as Test Email on its tab needs.
    """
    if choice in ("primary", "secondary"):
        return [settings.server(choice)]
    if choice != "auto":
        raise ValueError(f"unknown server choice {choice!r}: use auto, primary or secondary")
    primary = settings.server("primary")
    secondary = settings.server("secondary")
    if not primary.enabled and not secondary.enabled:
        raise NoServerEnabledError()
    if not primary.enabled:
        return [secondary]
    return [primary, secondary] if secondary.enabled else [primary]


@dataclasses.dataclass
class DeliveryReport:
    """The outcome of one ``deliver()`` call.

    ``server`` names the server whose session carried the messages, ``None``
    when no session opened. ``results`` contains one result per message, in
    order, once a session opened, and is empty otherwise. ``passed_over``
    lists the servers that could not be used, in order, each failure with
    its ``server`` set. ``error`` is the error that ended the attempt: the
    last connect failure when no server could be used, a lost session, or
    a cancellation; ``None`` when the session ran to its end.
    """

    server: str | None
    results: list[MessageResult]
    passed_over: list[ConnectFailure]
    error: DeliveryError | None

    @property
    def ok(self) -> bool:
        """True when every message was delivered; partial delivery counts as delivered."""
        return self.error is None and bool(self.results) and all(
            result.delivered for result in self.results
        )


def deliver(
    settings: Settings,
    messages: list[OutgoingMessage],
    *,
    choice: str = "auto",
    password_for: Callable[[str], str] | None = None,
    transcript: Transcript | None = None,
    ssl_context: ssl.SSLContext | None = None,
    cancel: CancelToken | None = None,
    resolver: Resolver | None = None,
    on_result: Callable[[MessageResult], None] | None = None,
    while_waiting: Callable[[], None] | None = None,
    before_data: Callable[[], None] | None = None,
) -> DeliveryReport:
    """Send ``messages`` through the first usable server; return what happened.

    A connect failure on one server is logged, kept in ``passed_over``, and
    the next server is tried at once. Once a session is open, every message
    goes through it; a lost session defers the rest without failing over.
    Raises ``NoServerEnabledError`` (rule 4) and ``SettingError`` when a
    field contains CR or LF; every delivery failure is in the report.

    ``on_result`` is called with each message's result as soon as it is
    known, before any command of the next message is sent.
    ``while_waiting`` and ``before_data`` are the hooks of
    ``SmtpDispatcher.send``: the first is called while the server's replies
    are awaited, the second before each message's data is sent, and an
    exception from either ends the session and propagates. Without a
    ``transcript`` no line of the messages' commands is recorded, unless
    the ``alertmail.transcript`` logger logs DEBUG.
    """
    servers = servers_in_order(settings, choice)
    cancel = cancel if cancel is not None else CancelToken()
    report = DeliveryReport(server=None, results=[], passed_over=[], error=None)
    for server in servers:
        dispatcher = SmtpDispatcher(
            server, password_for=password_for, transcript=transcript, ssl_context=ssl_context,
            cancel=cancel, resolver=resolver,
        )
        try:
            dispatcher.connect()
        except ConnectFailure as failure:
            failure.server = server.name
            log.warning("%s server passed over: %s", server.label, failure.describe())
            report.passed_over.append(failure)
            report.error = failure
            continue
        except DeliveryCancelled as error:
            log.info("delivery cancelled while connecting to the %s server", server.label)
            report.error = error
            return report
        report.server = server.name
        report.error = None
        try:
            _send_all(dispatcher, messages, report, on_result, (while_waiting, before_data))
        finally:
            dispatcher.close()
        return report
    return report


def _send_all(
    dispatcher: SmtpDispatcher,
    messages: list[OutgoingMessage],
    report: DeliveryReport,
    on_result: Callable[[MessageResult], None] | None,
    hooks: tuple[Callable[[], None] | None, Callable[[], None] | None],
) -> None:
    """Send each message over the open session; defer the rest when it is lost.

    ``hooks`` are ``while_waiting`` and ``before_data`` for ``SmtpDispatcher.send``.
    """
    while_waiting, before_data = hooks

    def record(result: MessageResult) -> None:
        report.results.append(result)
        if on_result is not None:
            on_result(result)

    for index, message in enumerate(messages):
        try:
            result = dispatcher.send(message, while_waiting=while_waiting, before_data=before_data)
        except (MessageLost, MessageCancelled) as error:
            log.warning(
                "%s server: session ended at message %s: %s", dispatcher.server.label,
                message.message_id, error.describe(),
            )
            report.error = error
            record(error.result)
            for remaining in messages[index + 1:]:
                record(_deferred(remaining, error))
            return
        record(result)


def _deferred(message: OutgoingMessage, error: DeliveryError) -> MessageResult:
    return MessageResult(
        message_id=message.message_id,
        kind=message.kind,
        outcome="deferred",
        accepted=[],
        refused={},
        code=None,
        reply="",
        step=error.step,
        detail=f"not sent: the session ended before this message ({error.detail})",
        attempted=False,
    )
