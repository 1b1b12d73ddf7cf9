"""Wire bytes of a plain message, written directly instead of through the ``email`` package.

Most alerts are plain: ASCII addresses and display names without special
characters, an ASCII subject on one line, and an ASCII body whose lines fit
in 78 characters. For such a message ``render_plain`` writes the headers
and body as text, byte for byte what ``EmailMessage.as_bytes`` with
``email.policy.SMTP`` writes for the message that ``messages.build_email``
builds. It takes about 7 microseconds where building and writing through
the ``email`` package took about 2.7 ms (CPython 3.11, the machine of the
throughput benchmark in benchmarks/README.md). For any other message it
returns ``None``, and the caller renders that message with the ``email`` package.

tests/test_message_render.py compares both outputs over generated messages,
so a change in the ``email`` package's output shows up there.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# RFC 5322 atext: the characters of an atom.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDRESS = rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# A display name of atoms separated by single spaces needs no quoting.
_PHRASE = rf"{_ATEXT}+(?: {_ATEXT}+)*"
# A quoted display name of printable ASCII without quotes or backslashes.
_QUOTED = r'"[ !#-\[\]-~]+"'

_PLAIN_ADDRESS = re.compile(_ADDRESS)
_PLAIN_NAME = re.compile(_PHRASE)
_PLAIN_MAILBOX = re.compile(rf"(?:(?:{_PHRASE}|{_QUOTED}) <{_ADDRESS}>|{_ADDRESS})")
_PLAIN_MESSAGE_ID = re.compile(rf"<{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
# Printable ASCII only: no control character, tab or line break.
_PLAIN_TEXT = re.compile(r"[ -~]*")

# The line length the email package folds headers at (policy.max_line_length)
# and up to which it leaves body lines in 7bit.
MAX_LINE = 78

_CONTENT_HEADERS = (
    "Auto-Submitted: auto-generated\r\n"
    'Content-Type: text/plain; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: 7bit\r\n"
    "MIME-Version: 1.0\r\n"
    "\r\n"
)


class MessageFields(NamedTuple):
    """The parts a message is built from.

    ``to`` contains the recipient mailboxes as the settings store them
    (``Name <address>`` or an address), ``date`` the Date header's value
    and ``body`` the text as given, any line endings allowed.
    """

    from_name: str
    from_address: str
    to: tuple[str, ...]
    subject: str
    date: str
    message_id: str
    body: str


def _fold_address_list(name: str, entries: tuple[str, ...]) -> str | None:
    """Return the header ``name`` with ``entries`` folded as the email package folds them.

    The whole list goes on the header's line when it fits. Otherwise it
    goes on a line of its own when it fits there, and otherwise each address
    that does not fit on the current line starts a new one, after the comma.
    Returns ``None`` for a list this function cannot fold exactly that way.
    """
    whole = ", ".join(entries)
    label = f"{name}: "
    if len(label) + len(whole) <= MAX_LINE:
        return label + whole
    if len(whole) + 1 <= MAX_LINE:
        return f"{name}:\r\n {whole}"
    lines = [label]
    for index, entry in enumerate(entries):
        part = entry if index == 0 else " " + entry
        if len(lines[-1]) + len(part) > MAX_LINE:
            # The email package moves a part to a new line only when the
            # part, with its leading space if it has one, is shorter than a line.
            if len(part) + 1 > MAX_LINE:
                return None
            if lines[-1].endswith(" "):
                lines[-1] = lines[-1][:-1]
            lines.append(" " + part.lstrip())
        else:
            lines[-1] += part
        if index + 1 < len(entries):
            if len(lines[-1]) + 1 > MAX_LINE:
                return None
            lines[-1] += ","
    return "\r\n".join(lines)


def _plain_headers(fields: MessageFields) -> str | None:
    """Return the From, To, Subject, Date and Message-ID lines, or ``None`` when not plain."""
    if not (fields.from_name == "" or _PLAIN_NAME.fullmatch(fields.from_name)):
        return None
    if not _PLAIN_ADDRESS.fullmatch(fields.from_address):
        return None
    if not fields.to or not all(_PLAIN_MAILBOX.fullmatch(entry) for entry in fields.to):
        return None
    subject = fields.subject
    if not _PLAIN_TEXT.fullmatch(subject) or subject != subject.strip() or not subject:
        return None
    if not _PLAIN_MESSAGE_ID.fullmatch(fields.message_id) or not _PLAIN_TEXT.fullmatch(fields.date):
        return None
    sender = f"{fields.from_name} <{fields.from_address}>" if fields.from_name else fields.from_address
    lines = [
        f"From: {sender}",
        _fold_address_list("To", fields.to),
        f"Subject: {subject}",
        f"Date: {fields.date}",
        f"Message-ID: {fields.message_id}",
    ]
    for line in lines:
        # A folded To header is None; an unfolded line must fit, and "=?"
        # would be read as the start of an RFC 2047 encoded word.
        if line is None or "=?" in line:
            return None
        if "\r\n" not in line and len(line) > MAX_LINE:
            return None
    return "\r\n".join(lines) + "\r\n"


def _plain_body(body: str) -> bytes | None:
    """Return an ASCII body with CRLF line endings, or ``None`` when it needs an encoding.

    ``bytes.splitlines`` splits at CR, LF and CRLF, as the email package
    does for a body it writes as 7bit. An empty body is one empty line.
    """
    if not body.isascii():
        return None
    lines = body.encode("ascii").splitlines()
    if max(map(len, lines), default=0) > MAX_LINE:
        return None
    return b"\r\n".join(lines) + b"\r\n"


def render_plain(fields: MessageFields) -> bytes | None:
    """Return the wire bytes of a plain message, with CRLF line endings, or ``None``.

    The bytes are the same with and without SMTPUTF8, because a plain
    message is all ASCII.
    """
    headers = _plain_headers(fields)
    if headers is None:
        return None
    body = _plain_body(fields.body)
    if body is None:
        return None
    return (headers + _CONTENT_HEADERS).encode("ascii") + body
