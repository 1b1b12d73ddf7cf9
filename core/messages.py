"""Outgoing messages: building them from the settings and turning them into wire bytes.

A message is built once, with its Message-ID, and keeps that ID on every
resend. ``message_bytes`` writes it with CRLF line endings whatever line
endings the stored copy has; dot-stuffing happens when the data is sent.
"""

from __future__ import annotations

import copy
import email.policy
import email.utils
import re
import textwrap
from datetime import datetime
from email.headerregistry import Address, Group
from email.message import EmailMessage
from email.parser import BytesParser

from . import validation
from .errors import SettingError
from .message_render import MessageFields, render_plain
from .settings import Settings

RECIPIENT_KEYS = {"errors": "general.errors_to", "reports": "general.reports_to"}
KIND_TITLES = {"errors": "Errors", "reports": "Reports/Stats"}
ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc")

_LINE_END = re.compile(rb"\r\n|\r|\n")


class OutgoingMessage:
    """One message ready for delivery.

    ``sender`` and ``recipients`` are the bare envelope addresses.
    ``message_id`` (``<...@...>``) stays the same on every resend.
    ``fields`` contains the parts the message was built from, and is
    ``None`` for a message restored from stored bytes. ``message`` is the
    ``EmailMessage`` with the headers From, To, Subject, Date and Message-ID.
    The wire bytes are rendered once and kept, so a change made to
    ``message`` afterwards is not sent.
    """

    def __init__(
        self,
        kind: str,
        sender: str,
        recipients: list[str],
        message_id: str,
        *,
        message: EmailMessage | None = None,
        fields: MessageFields | None = None,
    ) -> None:
        if message is None and fields is None:
            raise ValueError("an OutgoingMessage needs its EmailMessage or its fields")
        self.kind = kind
        self.sender = sender
        self.recipients = recipients
        self.message_id = message_id
        self.fields = fields
        self._message = message
        # Wire bytes by the smtputf8 flag they were rendered for.
        self._wire: dict[bool, bytes] = {}

    @property
    def message(self) -> EmailMessage:
        """The message as an ``EmailMessage``, built on first use for a plain message."""
        if self._message is None:
            assert self.fields is not None
            self._message = build_email(self.fields)
        return self._message

    @property
    def subject(self) -> str:
        """The Subject header, decoded."""
        if self.fields is not None:
            return self.fields.subject
        return str(self.message.get("Subject", ""))

    def __repr__(self) -> str:
        return f"OutgoingMessage({self.kind!r}, {self.message_id!r}, to {self.recipients!r})"


def ascii_domain(domain: str) -> str:
    """Return ``domain`` in ASCII: IDNA (punycode) for an internationalized name.

    A domain the IDNA codec cannot encode is returned unchanged, so the server
    rejects it with its own reply.
    """
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _recipients_key(kind: str) -> str:
    try:
        return RECIPIENT_KEYS[kind]
    except KeyError:
        raise ValueError(f"unknown message kind {kind!r}: use errors or reports") from None


def _sender(settings: Settings) -> str:
    sender = settings["general.from_address"]
    if not sender:
        raise SettingError(
            "general.from_address", sender, "a From address is required to send mail"
        )
    return sender


def make_message_id(sender: str) -> str:
    """Return a new unique Message-ID whose domain is the sender's domain."""
    domain = ascii_domain(sender.rpartition("@")[2]) or "alertmail.invalid"
    # Passing the domain keeps make_msgid from calling socket.getfqdn(), a DNS lookup.
    return email.utils.make_msgid(domain=domain)


def check_message_id(message_id: str) -> str:
    """Return ``message_id`` when it has the form ``<left@right>``, or raise ``SettingError``."""
    validation.reject_line_breaks("message_id", message_id)
    if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
        raise SettingError("message_id", message_id, "a Message-ID has the form <left@right>")
    return message_id


def build_email(fields: MessageFields) -> EmailMessage:
    """Build the ``EmailMessage`` of ``fields`` with the ``email`` package."""
    message = EmailMessage(policy=email.policy.default)
    message["From"] = Address(display_name=fields.from_name, addr_spec=fields.from_address)
    message["To"] = ", ".join(fields.to)
    message["Subject"] = fields.subject
    message["Date"] = fields.date
    message["Message-ID"] = fields.message_id
    # RFC 3834: vacation responders and ticket systems must not reply to it.
    message["Auto-Submitted"] = "auto-generated"
    if fields.body.isascii():
        message.set_content(fields.body)
    else:
        # Quoted-printable keeps the body 7-bit, so it needs no 8BITMIME.
        message.set_content(fields.body, cte="quoted-printable")
    return message


def compose(kind: str, fields: MessageFields, recipients: list[str]) -> OutgoingMessage:
    """Make the ``OutgoingMessage`` of checked ``fields``, sent to the envelope ``recipients``.

    A plain message (see message_render.py) gets its wire bytes now and its
    ``EmailMessage`` only when ``message`` is first read. Any other message is
    built with the ``email`` package now, so its errors surface here.
    """
    plain = render_plain(fields)
    message = build_email(fields) if plain is None else None
    outgoing = OutgoingMessage(
        kind, fields.from_address, recipients, fields.message_id, message=message, fields=fields
    )
    if plain is not None:
        outgoing._wire[False] = outgoing._wire[True] = plain
    return outgoing


def format_date(moment: datetime) -> str:
    """Return ``moment`` (a time with its zone) as the value of a Date header."""
    return email.utils.format_datetime(moment)


def build_message(
    settings: Settings, kind: str, subject: str, body: str, *, message_id: str | None = None
) -> OutgoingMessage:
    """Build a message to the recipients of ``kind`` ("errors" or "reports").

    Raises ``SettingError`` naming the key when the From address or the
    recipient list is empty, or when the subject contains CR or LF.
    ``message_id`` is given when a queued message is built again.
    """
    key = _recipients_key(kind)
    sender = _sender(settings)
    entries = list(settings[key])
    if not entries:
        raise SettingError(key, entries, "no recipient: enter at least one address")
    validation.reject_line_breaks("subject", subject)
    message_id = check_message_id(message_id) if message_id else make_message_id(sender)
    fields = MessageFields(
        from_name=settings["general.from_name"],
        from_address=sender,
        to=tuple(entries),
        subject=subject,
        date=format_date(datetime.now().astimezone()),
        message_id=message_id,
        body=body,
    )
    return compose(kind, fields, validation.envelope_addresses(entries))


def restore_message(kind: str, sender: str, recipients: list[str], data: bytes) -> OutgoingMessage:
    """Rebuild an ``OutgoingMessage`` from stored message bytes, any line endings allowed."""
    _recipients_key(kind)
    message = BytesParser(policy=email.policy.default).parsebytes(data)
    message_id = str(message.get("Message-ID", "")).strip()
    return OutgoingMessage(kind, sender, list(recipients), message_id, message=message)


def _server_phrase(settings: Settings, server_name: str) -> str:
    if server_name == "auto":
        return "the server chosen by the failover rules"
    server = settings.server(server_name)
    return f"the {server.label} server ({server.host or 'no host set'} port {server.port})"


def build_test_messages(settings: Settings, server_name: str) -> list[OutgoingMessage]:
    """Build the two test messages: one to the Errors and one to the Reports/Stats recipients.

    ``server_name`` is "primary", "secondary" or "auto" and only changes the
    wording. An empty recipient list is skipped; ``SettingError`` names the
    key when the From address is empty or both lists are empty.
    """
    _sender(settings)
    if not settings["general.errors_to"] and not settings["general.reports_to"]:
        raise SettingError(
            "general.errors_to",
            [],
            "no recipient: enter Errors or Reports/Stats addresses to send a test",
        )
    phrase = _server_phrase(settings, server_name)
    short = "auto" if server_name == "auto" else server_name
    built = []
    for kind, title in KIND_TITLES.items():
        if not settings[RECIPIENT_KEYS[kind]]:
            continue
        subject = f"alertmail test ({title}) through the {short} server"
        if server_name == "auto":
            subject = f"alertmail test ({title}) through the primary or secondary server"
        body = textwrap.fill(
            f"This is a test message from alertmail to the {title} recipients, "
            f"sent through {phrase}.", width=72,
        ) + "\n\nIf it arrived, alerts and reports sent with these settings arrive too.\n"

        built.append(build_message(settings, kind, subject, body))
    return built


def _ascii_mailbox(address: Address) -> Address | Group:
    """Return ``address`` in a form that needs no SMTPUTF8.

    The domain becomes IDNA. A non-ASCII local part has no ASCII form, so
    the mailbox becomes an empty group named after it, as the SMTPUTF8
    downgrade of RFC 6857 does. The generator then encodes that name (RFC 2047).
    """
    domain = ascii_domain(address.domain)
    if address.username.isascii():
        return Address(display_name=address.display_name, username=address.username, domain=domain)
    name = address.addr_spec
    if address.display_name:
        name = f"{address.display_name} <{address.addr_spec}>"
    return Group(display_name=name, addresses=())


def _ascii_headers(message: EmailMessage) -> EmailMessage:
    """Return ``message``, or a converted copy when an address header needs SMTPUTF8."""
    names = []
    for name in ADDRESS_HEADERS:
        header = message.get(name)
        if header is not None and hasattr(header, "groups") and not str(header).isascii():
            names.append(name)
    if not names:
        return message
    converted = copy.deepcopy(message)
    for name in names:
        header = converted[name]
        items: list[Address | Group] = []
        for group in header.groups:
            mailboxes = [_ascii_mailbox(address) for address in group.addresses]
            if group.display_name is None:
                items.extend(mailboxes)
            else:
                plain = [mailbox for mailbox in mailboxes if isinstance(mailbox, Address)]
                items.append(Group(display_name=group.display_name, addresses=plain))
        converted.replace_header(name, items)
    return converted


def message_bytes(message: OutgoingMessage, *, smtputf8: bool) -> bytes:
    """Return the message as sent after DATA, with CRLF line endings everywhere.

    Without ``smtputf8`` every header is ASCII: display names and subjects
    are encoded per RFC 2047 and domains as IDNA. With it, headers are UTF-8
    (RFC 6532). Dot-stuffing is left to the sender. The bytes are kept on
    ``message``, so the next call returns them at once.
    """
    data = message._wire.get(smtputf8)
    if data is not None:
        return data
    if smtputf8:
        data = message.message.as_bytes(policy=email.policy.SMTPUTF8)
    else:
        data = _ascii_headers(message.message).as_bytes(policy=email.policy.SMTP)
    # The generator keeps the line endings of a body parsed from stored bytes,
    # so every CR, LF or CRLF is written as CRLF here.
    data = _LINE_END.sub(b"\r\n", data)
    message._wire[smtputf8] = data
    return data
