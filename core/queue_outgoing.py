"""The message a queued record is sent as: ``to_outgoing``.

Kept apart from queue.py, which ``alertmail send`` imports, because this
part loads the ``email`` package and the address checks.
"""

from __future__ import annotations

import functools

from . import messages, validation
from .errors import SettingError
from .messages import OutgoingMessage
from .queue_records import RECIPIENT_KEYS, QueuedMessage
from .settings import Settings


def to_outgoing(message: QueuedMessage, settings: Settings) -> OutgoingMessage:
    """Build the ``OutgoingMessage`` the dispatcher sends for a queued message.

    The sender, recipients, subject, body and Message-ID are those stored
    with the message, and its Date header is the time it was queued.
    ``settings`` is not read: every part of the message is stored.

    Raises ``SettingError`` naming the key when a stored address fails the
    full syntax check. ``alertmail send`` skips that check to start fast, so
    a hand-edited settings file can put such an address in the queue. The
    mailer is expected to mark that message failed with this error.
    """
    name, address = _checked_sender(message.sender)
    key = RECIPIENT_KEYS[message.kind]
    entries: list[str] = []
    envelope: list[str] = []
    for stored in message.recipients:
        for formatted, bare in _checked_recipients(key, stored):
            entries.append(formatted)
            envelope.append(bare)
    if not entries:
        raise SettingError(key, entries, "no recipient: enter at least one address")
    validation.reject_line_breaks("subject", message.subject)
    fields = messages.MessageFields(
        from_name=name,
        from_address=address,
        to=tuple(entries),
        subject=message.subject,
        date=_date_header(message.queued_at),
        message_id=messages.check_message_id(message.message_id),
        body=message.body,
    )
    return messages.compose(message.kind, fields, envelope)


# The stored addresses of a batch are mostly the same few, so each one gets
# the full syntax check (email_validator) once per process, not per message.
# A failed check raises and is not cached.
_CHECKED_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=_CHECKED_CACHE_SIZE)
def _checked_sender(stored: str) -> tuple[str, str]:
    """Return the display name and address of a stored sender, checked as the settings check them."""
    import email.utils

    key = "general.from_address"
    name, address = email.utils.parseaddr(stored)
    name = validation.reject_line_breaks("general.from_name", name).strip()
    address = validation.reject_line_breaks(key, address).strip()
    if not address:
        raise SettingError(key, stored, "a From address is required to send mail")
    return name, validation.check_address_syntax(key, address)


@functools.lru_cache(maxsize=_CHECKED_CACHE_SIZE)
def _checked_recipients(key: str, stored: str) -> tuple[tuple[str, str], ...]:
    """Return (mailbox as written in To, bare address) for each address of a stored recipient entry."""
    formatted = validation.normalize_recipients(key, [stored])
    return tuple((entry, bare) for entry, bare in zip(formatted, validation.envelope_addresses(formatted)))


@functools.lru_cache(maxsize=64)
def _date_header(queued_at: str) -> str:
    """Return the Date header of a message queued at ``queued_at`` (UTC, ISO 8601), in local time."""
    import datetime

    return messages.format_date(datetime.datetime.fromisoformat(queued_at).astimezone())
