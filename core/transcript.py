"""The transcript of one SMTP or POP3 conversation, with credentials redacted.

Each line starts with who produced it: ``C:`` the client (alertmail), ``S:``
the server, ``*:`` a note about the connection itself. Credentials are
redacted before a line is stored, logged or handed to a listener, so no
copy of them exists anywhere in the transcript's output.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("alertmail.transcript")

REDACTED = "<redacted>"

# Commands whose first words stay readable when the line is a secret: the
# mechanism of ``AUTH PLAIN <response>`` and the ``PASS`` of POP3.
_KEPT_WORDS = {"AUTH": 2, "PASS": 1}


def redact(text: str) -> str:
    """Return ``text`` with everything after the command words replaced by ``<redacted>``.

    ``AUTH PLAIN dGVzdA==`` becomes ``AUTH PLAIN <redacted>``, ``PASS x``
    becomes ``PASS <redacted>``; any other line (an AUTH LOGIN response) is
    replaced whole.
    """
    words = text.split(" ")
    kept = _KEPT_WORDS.get(words[0].upper(), 0)
    if kept and len(words) > kept:
        return " ".join(words[:kept] + [REDACTED])
    if kept:
        return text
    return REDACTED


class Transcript:
    """Lines of one SMTP conversation, with credentials redacted before they are stored.

    ``on_line`` is called with every line, after redaction, from the thread
    that sends; the dialog connects it to a Qt signal. Every line also goes
    to the ``alertmail.transcript`` logger at DEBUG level.
    """

    def __init__(self, on_line: Callable[[str], None] | None = None) -> None:
        self.lines: list[str] = []
        self._on_line = on_line
        self._lock = threading.Lock()

    def client(self, text: str, *, secret: bool = False) -> None:
        """Record a line the client sent; ``secret=True`` redacts its credentials."""
        self._add("C", redact(text) if secret else text)

    def server(self, text: str) -> None:
        """Record a line the server sent."""
        self._add("S", text)

    def note(self, text: str) -> None:
        """Record an event of the connection, such as connecting or the TLS handshake."""
        self._add("*", text)

    def _add(self, source: str, text: str) -> None:
        line = f"{source}: {text}"
        with self._lock:
            self.lines.append(line)
        log.debug("%s", line)
        if self._on_line is not None:
            self._on_line(line)
