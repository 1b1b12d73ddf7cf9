"""SMTP AUTH with PLAIN, LOGIN and XOAUTH2, and reading the server's password.

``smtplib.SMTP.login()`` encodes credentials as ASCII (CPython 3.11), so a
password such as ``Pässwörd€1`` fails before anything is sent. Here both
mechanisms send the UTF-8 bytes of the user name and password, base64
encoded (RFC 4616 for PLAIN; LOGIN is the de facto form of the same).

XOAUTH2 (the mechanism of Microsoft 365 and Google) sends an OAuth 2.0
access token in place of a password; see ``authenticate_xoauth2``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Protocol

from .connection import CancelToken
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


class TokenProvider(Protocol):
    """A source of OAuth 2.0 access tokens for one mailbox (``oauth.TokenSource``)."""

    @property
    def mailbox(self) -> str:
        """The XOAUTH2 user name."""

    def token(self, timeout_s: float, cancel: CancelToken | None = None) -> str:
        """Return a valid access token; raise ``ConnectFailure`` at ``Step.TOKEN``."""

    def invalidate(self) -> None:
        """Drop the cached token."""


def token_source_of(password_for: PasswordSource | None, server_name: str) -> TokenProvider | None:
    """Return the token source that ``password_for`` holds for ``server_name``, or ``None``.

    ``SmtpDispatcher`` and ``failover.deliver`` hand ``password_for`` to the
    login step unchanged, so an object with a ``token_source(server_name)``
    method (``oauth.OAuthCredentials``) selects XOAUTH2 without a new
    argument. A plain function selects the password login.
    """
    lookup = getattr(password_for, "token_source", None)
    return lookup(server_name) if callable(lookup) else None


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


def xoauth2_response(user: str, token: str) -> str:
    """Return the base64 initial response of XOAUTH2: ``user=…^Aauth=Bearer …^A^A``."""
    return _b64(f"user={user}\x01auth=Bearer {token}\x01\x01")


def _decode_challenge(text: str) -> str:
    """Return the error a 334 XOAUTH2 challenge carries, decoded from base64 JSON when it is."""
    try:
        decoded = base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return text.strip()
    try:
        data = json.loads(decoded)
    except ValueError:
        return decoded
    if not isinstance(data, dict):
        return decoded
    return ", ".join(f"{key} {value}" for key, value in data.items())


def authenticate_xoauth2(
    channel: SmtpChannel, tokens: TokenProvider, server: ServerSettings
) -> Reply:
    """Log in with XOAUTH2 and a token from ``tokens``; return the server's 235 reply.

    The caller checks first that the session is encrypted and that the server
    offers XOAUTH2, because requesting a token is the point of no return for
    the secret. When the server rejects the token it sends a 334 challenge
    with a base64 JSON error (Google). The client must reply with an empty
    line before the server sends its final reply. The decoded error goes
    into the failure, and the cached token is dropped, so the next session
    requests a new one.
    """
    user = tokens.mailbox
    if not getattr(tokens, "has_valid_token", False):
        # The request can take up to the timeout, so the transcript names what it waits for.
        where = getattr(tokens, "endpoint_host", "the identity provider")
        channel.transcript.note(f"requesting an OAuth 2.0 token for {user} from {where}")
    token = tokens.token(server.timeout_s, channel.cancel)
    channel.send_line("AUTH XOAUTH2 " + xoauth2_response(user, token), secret=True)
    reply = channel.read_reply()
    detail = ""
    if reply.code == 334:
        detail = _decode_challenge(reply.text)
        channel.send_line("")
        reply = channel.read_reply()
    if reply.code != 235:
        tokens.invalidate()
        words = f"the server rejected the OAuth 2.0 token for {user}"
        if detail:
            words += f" ({detail})"
        words += (
            "; check that the mailbox exists and that the application may send as it "
            "(SMTP AUTH enabled for the mailbox, SMTP.SendAsApp or https://mail.google.com/ granted)"
        )
        raise ConnectFailure(
            Step.AUTH, words, code=reply.code, reply=reply.text, server=server.name
        )
    channel.transcript.note(f"logged in as {user} with AUTH XOAUTH2")
    return reply
