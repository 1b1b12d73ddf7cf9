"""The message record of the queue and the checks every stored field passes.

Kept apart from the database code so the record can be shown (command line,
dialog) and validated without opening the database.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from . import validation
from .errors import AlertmailError, SettingError
from .settings import Settings

KINDS = ("errors", "reports")
STATES = ("queued", "sending", "sent", "failed")
RECIPIENT_KEYS = {"errors": "general.errors_to", "reports": "general.reports_to"}
KIND_TITLES = {"errors": "Errors", "reports": "Reports/Stats"}

_DOT_ATOM_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")

# The columns of the messages table, in the order QueuedMessage takes them.
COLUMNS = (
    "id, kind, sender, recipients, subject, body, message_id, state, attempts, "
    "last_error, refused, queued_at, updated_at, sent_at"
)


class QueuedMessage(NamedTuple):
    """One message as stored in the queue.

    ``sender`` and each entry of ``recipients`` are mailboxes as the settings
    store them (``Name <address>`` or a bare address). ``body`` is the text
    exactly as it was given, line endings included. ``refused`` maps each
    address the server rejected to ``(code, reply text)``. Times are UTC in
    ISO 8601; ``sent_at`` is ``None`` until the message is sent.

    A named tuple rather than a frozen dataclass: on CPython 3.11 the
    dataclass took about 2 ms longer to define, and every ``alertmail send``
    would pay that.
    """

    id: int
    kind: str
    sender: str
    recipients: list[str]
    subject: str
    body: str
    message_id: str
    state: str
    attempts: int
    last_error: str | None
    refused: dict[str, tuple[int | None, str]]
    queued_at: str
    updated_at: str
    sent_at: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> QueuedMessage:
        """Build a record from a row selected with ``COLUMNS``."""
        values = list(row)
        values[3] = json.loads(values[3])
        values[10] = {address: (code, text) for address, (code, text) in json.loads(values[10]).items()}
        return cls(*values)

    @property
    def envelope_recipients(self) -> list[str]:
        """The bare recipient addresses, in order."""
        return validation.envelope_addresses(self.recipients)

    def as_dict(self) -> dict[str, Any]:
        """Return the record as plain JSON-ready values."""
        data = self._asdict()
        data["recipients"] = list(self.recipients)
        data["refused"] = {address: {"code": code, "reply": text} for address, (code, text) in self.refused.items()}
        return data


def now() -> str:
    """Return the current UTC time in ISO 8601, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def check_kind(kind: str) -> str:
    """Return ``kind`` when it is "errors" or "reports"; raise ``ValueError`` otherwise."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}: use errors or reports")
    return kind


def check_subject(subject: str) -> str:
    """Return ``subject`` when it can be a Subject header, or raise ``SettingError``.

    A line break of any kind (CR, LF, or another character that
    ``str.splitlines`` breaks at) would end the header, so it is rejected, and
    so is a subject that is empty or only white space.
    """
    if not isinstance(subject, str):
        raise SettingError("subject", subject, "must be text")
    validation.reject_line_breaks("subject", subject)
    if subject.splitlines() not in ([subject], []):
        raise SettingError(
            "subject", subject, "line breaks are not allowed in the subject; enter it on one line"
        )
    if not subject.strip():
        raise SettingError("subject", subject, "the subject is empty; give a short summary of the alert")
    return subject


def _no_recipient(key: str, value: object, kind: str) -> SettingError:
    return SettingError(
        key,
        value,
        f"no {KIND_TITLES[kind]} recipient is set; enter at least one address on the "
        f"General tab or with 'alertmail config set {key} ADDRESSES'",
    )


def _check_has_at(key: str, entry: str) -> None:
    """Reject an entry that cannot be an address: the cheap check of an unchecked setting."""
    if "@" not in entry:
        raise SettingError(
            key, entry, "not an e-mail address; enter it as name@example.com or Name <name@example.com>"
        )


def check_recipients(kind: str, value: str | list[str]) -> list[str]:
    """Return recipient entries as stored, or raise ``SettingError`` naming the setting.

    ``value`` is a recipients field (addresses separated by commas or
    semicolons) or a list of entries. Each address gets the full syntax
    check, and an empty result is rejected.
    """
    key = RECIPIENT_KEYS[check_kind(kind)]
    entries = validation.normalize_recipients(key, value)
    if not entries:
        raise _no_recipient(key, value, kind)
    return entries


def recipients_from_settings(kind: str, settings: Settings) -> list[str]:
    """Return the recipient entries of ``kind`` from ``settings``, or raise ``SettingError``.

    ``Settings`` validated the list when it was assigned, so it is not
    checked again. A list loaded with ``load_settings(defer_address_checks=True)``
    passed only the cheap checks (no CR or LF), so here each entry must also
    contain an '@'. The full syntax check of such a list runs in ``to_outgoing``.
    """
    key = RECIPIENT_KEYS[check_kind(kind)]
    entries = list(settings[key])
    if not entries:
        raise _no_recipient(key, entries, kind)
    if key in settings.unchecked:
        for entry in entries:
            _check_has_at(key, entry)
    return entries


def check_sender(value: str) -> str:
    """Return a sender mailbox (``Name <address>`` or an address) as stored."""
    if not isinstance(value, str):
        raise SettingError("general.from_address", value, "must be an e-mail address")
    name, address = validation.parse_mailbox("general.from_address", value)
    return validation.format_mailbox(name, address)


def sender_from_settings(settings: Settings) -> tuple[str, str]:
    """Return the sender mailbox made of ``general.from_name`` and ``general.from_address``, and the address.

    Raises ``SettingError`` when no From address is set.
    """
    key = "general.from_address"
    address = settings[key]
    if not address:
        raise SettingError(
            key,
            address,
            "a From address is required to send mail; enter it on the General tab or with "
            f"'alertmail config set {key} ADDRESS'",
        )
    if key in settings.unchecked:
        _check_has_at(key, address)
    return validation.format_mailbox(settings["general.from_name"], address), address


def new_message_id(sender_address: str) -> str:
    """Return a new unique Message-ID whose domain is the sender's domain.

    Like ``email.utils.make_msgid``, the left part combines the time, the
    process id and 64 random bits. Building it here spares ``alertmail send``
    the import of ``email.utils``.
    """
    domain = sender_address.rpartition("@")[2]
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
    if not _DOT_ATOM_DOMAIN.fullmatch(domain):
        # A domain literal such as [127.0.0.1], or a value that skipped the full check.
        domain = "alertmail.invalid"
    return f"<{time.time_ns()}.{os.getpid()}.{os.urandom(8).hex()}@{domain}>"


def refused_json(refused: dict[str, tuple[int | None, str | bytes]] | None) -> str:
    """Return refused recipients as the JSON text stored in the ``refused`` column."""
    if not refused:
        return "{}"
    stored = {}
    for address, (code, text) in refused.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        stored[str(address)] = [int(code) if code is not None else None, str(text)]
    return json.dumps(stored, ensure_ascii=False)


def describe_refused(refused: dict[str, tuple[int | None, str | bytes]] | None) -> str | None:
    """Return one line naming each refused address with the server's reply, or ``None``."""
    if not refused:
        return None
    parts = []
    for address, (code, text) in refused.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        reply = f"{code} {text}".strip() if code is not None else str(text)
        parts.append(f"{address} ({reply})")
    return "refused by the server: " + "; ".join(parts)


class QueueError(AlertmailError):
    """The queue database could not be read or written, or a change is not allowed."""


class MessageNotFoundError(QueueError):
    """No message in the queue has the given id."""

    def __init__(self, message_id: int) -> None:
        self.id = message_id
        super().__init__(f"no message with id {message_id}")
