"""SMTP AUTH with PLAIN and LOGIN, and reading the server's password.

``smtplib.SMTP.login()`` encodes credentials as ASCII (CPython 3.11), so a
password such as ``Pässwörd€1`` fails before anything is sent. Here both
mechanisms send the UTF-8 bytes of the user name and password, base64
encoded (RFC 4616 for PLAIN; LOGIN is the de facto form of the same).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

from .errors import ConnectFailure, SecretStoreError, SettingError, Step
from .settings import ServerSettings
from .smtp_wire import Reply, SmtpChannel

log = logging.getLogger(__name__)

PasswordSource = Callable[[str], str]

# Preferred first. Both send the password itself, so neither is safer than
# the other; PLAIN needs one round trip less.
SUPPORTED_MECHANISMS = ("PLAIN", "LOGIN")


def read_password(password_for: PasswordSource | None, server: ServerSettings) -> str:
    """Return the password of ``server``, or raise ``ConnectFailure`` at the password step.

    ``password_for`` defaults to reading the operating system's keyring. An
    empty or missing password is a failure: no login is ever sent with an
    empty password or with the text ``None``.
    """
    what = f"SMTP password for the {server.label} server could not be read from the keyring"
    if password_for is None:
        from .secrets import read_password as password_for
    try:
        password = password_for(server.name)
    except SecretStoreError as error:
        reason = str(error)
        detail = reason if reason.startswith(what) else f"{what}: {reason}"
        raise ConnectFailure(Step.PASSWORD, detail, server=server.name) from None
    except Exception as error:  # a keyring plugin may raise anything
        raise ConnectFailure(
            Step.PASSWORD, f"{what}: {type(error).__name__}: {error}", server=server.name
        ) from None
    if not password:
        raise ConnectFailure(
            Step.PASSWORD, f"{what}: no password is stored for it", server=server.name
        )
    return str(password)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def choose_mechanism(offered: str, server: ServerSettings) -> str:
    """Return the first supported mechanism the server lists in its AUTH line."""
    listed = offered.upper().split()
    for mechanism in SUPPORTED_MECHANISMS:
        if mechanism in listed:
            return mechanism
    raise ConnectFailure(
        Step.AUTH,
        "the server offers no login method that alertmail supports (PLAIN or LOGIN); "
        f"it offers {offered or 'none'}",
        server=server.name,
    )


def authenticate(
    channel: SmtpChannel,
    mechanism: str,
    username: str,
    password: str,
    server: ServerSettings,
) -> Reply:
    """Log in with ``mechanism``; return the server's 235 reply.

    Raises ``ConnectFailure`` at the AUTH step with the server's reply when
    the login is rejected, and ``WireError`` when the connection fails.
    """
    if "\r" in username or "\n" in username:
        raise SettingError(f"{server.name}.username", username, "line breaks are not allowed")
    if mechanism == "PLAIN":
        # RFC 4616: authorization identity (empty), NUL, user name, NUL, password.
        channel.send_line("AUTH PLAIN " + _b64(f"\0{username}\0{password}"), secret=True)
        reply = channel.read_reply()
        if reply.code == 334:
            # The server wants the response after an empty challenge.
            channel.send_line(_b64(f"\0{username}\0{password}"), secret=True)
            reply = channel.read_reply()
    else:
        channel.send_line("AUTH LOGIN")
        reply = channel.read_reply()
        if reply.code == 334:
            channel.send_line(_b64(username), secret=True)
            reply = channel.read_reply()
        if reply.code == 334:
            channel.send_line(_b64(password), secret=True)
            reply = channel.read_reply()
    if reply.code != 235:
        raise ConnectFailure(
            Step.AUTH,
            f"the server rejected the login for user {username} with {mechanism}",
            code=reply.code,
            reply=reply.text,
            server=server.name,
        )
    channel.transcript.note(f"logged in as {username} with AUTH {mechanism}")
    return reply
