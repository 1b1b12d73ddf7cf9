"""One SMTP mail transaction: MAIL, RCPT for each recipient, DATA, and its result.

A refused or temporarily refused message is a result, not an exception, so
one bad message never stops a batch. Only a lost session (closed, reset,
silent, or a 421 reply) and cancellation raise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import validation
from .errors import ConnectionLost, DeliveryCancelled, DeliveryError, SettingError, Step, seconds_text
from .messages import RECIPIENT_KEYS, OutgoingMessage, ascii_domain, message_bytes
from .settings import ServerSettings
from .smtp_connect import Session, wire_failure
from .smtp_wire import Reply, WireError


OUTCOMES = ("sent", "partial", "refused", "deferred", "uncertain")
NO_SMTPUTF8 = "the server does not support SMTPUTF8, which this address needs"


@dataclasses.dataclass
class MessageResult:
    """What happened to one message.

    ``outcome`` is one of "sent" (2xx to the data), "partial" (sent, but
    some recipients refused), "refused" (permanent failure), "deferred"
    (temporary failure, or never sent because the session ended) and
    "uncertain". An uncertain message had its data sent and got no reply,
    so the server may have accepted it. ``refused`` maps each refused address to the
    server's code (``None`` when refused before sending) and reply or
    reason. ``code`` and ``reply`` are the reply to the end of the data, or
    to the command that failed; ``step`` is the step that failed, ``None``
    when sent. ``detail`` explains a failure in words.
    """

    message_id: str
    kind: str
    outcome: str
    accepted: list[str]
    refused: dict[str, tuple[int | None, str]]
    code: int | None
    reply: str
    step: Step | None
    detail: str = ""
    attempted: bool = True
    """False for a message the session ended before any command of it was sent."""

    @property
    def delivered(self) -> bool:
        """True when the server replied 2xx to the data for at least one recipient."""
        return self.outcome in ("sent", "partial")

    def summary(self) -> str:
        """Describe the result in one line of plain words."""
        if self.outcome == "sent":
            return f"delivered to {_count(len(self.accepted), 'recipient')}"
        if self.outcome == "partial":
            total = len(self.accepted) + len(self.refused)
            return (
                f"{len(self.refused)} of {total} recipients refused: {self._refusals()}; "
                f"delivered to {', '.join(self.accepted)}"
            )
        if self.outcome == "uncertain":
            return f"outcome uncertain: {self.detail}"
        if self.outcome == "refused" and self.step is Step.RCPT:
            return f"not delivered: every recipient was refused: {self._refusals()}"
        if self.outcome == "refused":
            return f"not delivered: {self.detail}"
        return f"not delivered yet: {self.detail}"

    def _refusals(self) -> str:
        parts = []
        for address, (code, text) in self.refused.items():
            parts.append(f"{address} {code} {text}".rstrip() if code is not None else f"{address}: {text}")
        return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def ascii_address(address: str) -> str:
    """Return ``address`` with its domain in IDNA form."""
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{ascii_domain(domain)}" if at else address


class MessageLost(ConnectionLost):
    """The session was lost while a message was being sent.

    ``result`` is that message's result: "uncertain" when its data had been
    sent in full and no reply came, "deferred" otherwise.
    """

    def __init__(self, error: DeliveryError, result: MessageResult) -> None:
        super().__init__(
            error.step, error.detail, code=error.code, reply=error.reply, server=error.server
        )
        self.result = result


class MessageCancelled(DeliveryCancelled):
    """The delivery was cancelled while a message was being sent; ``result`` as in ``MessageLost``."""

    def __init__(self, error: DeliveryError, result: MessageResult) -> None:
        super().__init__(
            error.step, error.detail, code=error.code, reply=error.reply, server=error.server
        )
        self.result = result


class Transaction:
    """Sends one message over an open session.

    ``session_lost`` is set when the session died after the message's
    result was already known (a failed RSET), or when a hook raised. The
    next message then fails at once.

    Optional hooks let the caller work while the server does.
    ``while_waiting`` is called after each command is sent, before its
    reply is read. ``before_data`` is called after the server accepted the
    DATA command and before the data is sent. ``after_data`` is called
    after the data is sent, before the reply to it is read. Whatever a hook
    raises ends the session and propagates, because the server still
    expects a reply to be read or data to be sent.
    """

    def __init__(
        self,
        session: Session,
        server: ServerSettings,
        message: OutgoingMessage,
        *,
        while_waiting: Callable[[], None] | None = None,
        before_data: Callable[[], None] | None = None,
        after_data: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.channel = session.channel
        self.server = server
        self.message = message
        self.while_waiting = while_waiting
        self.before_data = before_data
        self.after_data = after_data
        self.session_lost: ConnectionLost | None = None
        self.accepted: list[str] = []
        self.refused: dict[str, tuple[int | None, str]] = {}

    # --- results ---------------------------------------------------------------

    def result(
        self, outcome: str, step: Step | None, detail: str = "", reply: Reply | None = None
    ) -> MessageResult:
        return MessageResult(
            message_id=self.message.message_id,
            kind=self.message.kind,
            outcome=outcome,
            accepted=list(self.accepted),
            refused=dict(self.refused),
            code=reply.code if reply else None,
            reply=reply.text if reply else "",
            step=step,
            detail=detail,
        )

    def not_sent(self, error: DeliveryError) -> MessageResult:
        """Return the "deferred" result of a message the session never got to send."""
        return self.result("deferred", error.step, f"not sent: {error.detail}")

    def _failed_reply(self, step: Step, reply: Reply, what: str) -> MessageResult:
        """Return the result of a non-2xx reply that ends the transaction; raise on 421."""
        if reply.code == 421:
            raise self._lost_421(step, reply)
        if 500 <= reply.code < 600:
            return self.result("refused", step, f"the server refused {what}: {reply}", reply)
        return self.result(
            "deferred", step, f"the server refused {what} for now (temporary failure): {reply}", reply
        )

    def _lost_421(self, step: Step, reply: Reply) -> MessageLost:
        error = ConnectionLost(
            step, "the server is closing the session (421)", code=reply.code, reply=reply.text,
            server=self.server.name,
        )
        return MessageLost(error, self.result("deferred", step, f"not sent: {error.describe()}", reply))

    def _lost(self, step: Step, error: WireError, *, data_sent: bool = False) -> DeliveryError:
        failure = wire_failure(ConnectionLost, step, error, self.server)
        if data_sent and error.kind in ("timeout", "closed"):
            if error.kind == "timeout":
                what = f"no reply after the message data within {seconds_text(self.server.timeout_s)}"
            else:
                what = "the server closed the connection after the message data, before its reply"
            detail = f"{what}; the server may have accepted the message"
            failure = ConnectionLost(step, detail, server=self.server.name)
            result = self.result("uncertain", step, detail)
        elif data_sent:
            result = self.result("uncertain", step, f"{failure.detail} after the message data")
        else:
            result = self.result("deferred", step, f"not sent: {failure.detail}")
        if isinstance(failure, DeliveryCancelled):
            return MessageCancelled(failure, result)
        return MessageLost(failure, result)

    # --- commands --------------------------------------------------------------

    def command(self, line: str, step: Step) -> Reply:
        try:
            self.channel.send_line(line)
            if self.while_waiting is not None:
                self._call_hook(self.while_waiting, step)
            return self.channel.read_reply()
        except WireError as error:
            raise self._lost(step, error) from None

    def _call_hook(self, hook: Callable[[], None], step: Step) -> None:
        """Call a caller's hook; when it raises, mark the session lost and re-raise."""
        try:
            hook()
        except BaseException as error:
            self.session_lost = ConnectionLost(
                step, f"the session was ended by an error of the sending program: {error}",
                server=self.server.name,
            )
            raise

    def reset(self) -> None:
        """Send RSET after a failed transaction; a failure here only ends the session."""
        try:
            reply = self.command("RSET", Step.MAIL)
        except (MessageLost, MessageCancelled) as error:
            self.session_lost = error
            return
        if reply.code == 421:
            self.session_lost = ConnectionLost(
                Step.MAIL, "the server is closing the session (421)", code=421,
                reply=reply.text, server=self.server.name,
            )

    # --- the transaction -------------------------------------------------------

    def _check_fields(self) -> None:
        message = self.message
        key = RECIPIENT_KEYS.get(message.kind, "recipients")
        validation.reject_line_breaks("general.from_address", message.sender)
        for address in message.recipients:
            validation.reject_line_breaks(key, address)
        if any(char in message.message_id for char in "\r\n"):
            raise SettingError("message_id", message.message_id, "line breaks are not allowed")

    def _envelope(self) -> tuple[bool, str, list[tuple[str, str]]] | MessageResult:
        """Return (use SMTPUTF8, MAIL FROM address, [(recipient, RCPT address)]), or a result."""
        message = self.message
        recipients = list(dict.fromkeys(message.recipients))
        needs_utf8 = not validation.is_ascii_mailbox(message.sender) or not all(
            validation.is_ascii_mailbox(address) for address in recipients
        )
        if needs_utf8 and self.session.offers("SMTPUTF8"):
            return True, message.sender, [(address, address) for address in recipients]
        if not validation.is_ascii_mailbox(message.sender):
            return self.result(
                "refused", Step.MAIL,
                "the server does not support SMTPUTF8, which the sender address "
                f"{message.sender} needs",
            )
        planned = []
        for address in recipients:
            if validation.is_ascii_mailbox(address):
                planned.append((address, ascii_address(address)))
            else:
                self.refused[address] = (None, NO_SMTPUTF8)
        return False, ascii_address(message.sender), planned

    def _mail_command(self, sender: str, utf8: bool, data: bytes) -> str:
        line = f"MAIL FROM:<{sender}>"
        if "SIZE" in self.session.features:
            line += f" SIZE={len(data)}"
        if not data.isascii() and self.session.offers("8BITMIME"):
            line += " BODY=8BITMIME"
        if utf8:
            line += " SMTPUTF8"
        return line

    def run(self) -> MessageResult:
        """Send the message; return its result or raise ``MessageLost`` / ``MessageCancelled``."""
        self._check_fields()
        envelope = self._envelope()
        if isinstance(envelope, MessageResult):
            return envelope
        utf8, sender, planned = envelope
        if not planned:
            return self._all_refused(None)

        data = message_bytes(self.message, smtputf8=utf8)
        self.channel.utf8 = utf8
        try:
            return self._exchange(sender, utf8, planned, data)
        finally:
            self.channel.utf8 = False

    def _exchange(
        self, sender: str, utf8: bool, planned: list[tuple[str, str]], data: bytes
    ) -> MessageResult:
        reply = self.command(self._mail_command(sender, utf8, data), Step.MAIL)
        if reply.code != 250:
            result = self._failed_reply(Step.MAIL, reply, "the sender")
            self.reset()
            return result

        last: Reply | None = None
        for address, wire_address in planned:
            last = self.command(f"RCPT TO:<{wire_address}>", Step.RCPT)
            if last.code == 421:
                raise self._lost_421(Step.RCPT, last)
            if 200 <= last.code < 300:
                self.accepted.append(address)
            else:
                self.refused[address] = (last.code, last.text)
        if not self.accepted:
            result = self._all_refused(last)
            self.reset()
            return result

        reply = self.command("DATA", Step.DATA)
        if reply.code != 354:
            result = self._failed_reply(Step.DATA, reply, "the DATA command")
            self.reset()
            return result
        if self.before_data is not None:
            # The server accepts the message once the data has been sent, so
            # this is where the mailer makes sure the previous message's
            # result is committed (see mailer._deliver).
            self._call_hook(self.before_data, Step.DATA)
        try:
            self.channel.send_data(data)
        except WireError as error:
            raise self._lost(Step.DATA, error) from None
        if self.after_data is not None:
            self._call_hook(self.after_data, Step.DATA)
        try:
            reply = self.channel.read_reply()
        except WireError as error:
            raise self._lost(Step.DATA, error, data_sent=True) from None
        if 200 <= reply.code < 300:
            outcome = "partial" if self.refused else "sent"
            return self.result(outcome, Step.RCPT if self.refused else None, "", reply)
        return self._failed_reply(Step.DATA, reply, "the message after its data")

    def _all_refused(self, last: Reply | None) -> MessageResult:
        codes = [code for code, _ in self.refused.values()]
        temporary = any(code is not None and 400 <= code < 500 for code in codes)
        if not self.refused:
            return self.result("refused", Step.RCPT, "the message has no recipient")
        outcome = "deferred" if temporary else "refused"
        result = self.result(outcome, Step.RCPT, "", last)
        what = "no recipient was accepted, some only for now" if temporary else "every recipient was refused"
        result.detail = f"{what}: {result._refusals()}"
        return result
