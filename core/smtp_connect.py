"""Opening an SMTP session: everything before the first ``MAIL FROM``.

The steps, in order: POP before send (when chosen), name lookup, TCP
connect, implicit TLS, greeting, EHLO (HELO when EHLO is rejected with 5xx),
STARTTLS and EHLO again, reading the password (or requesting an OAuth 2.0
token for XOAUTH2), AUTH. Each failure raises
``ConnectFailure`` with its step, which the failover rules treat as "cannot
connect", or ``DeliveryCancelled``.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import ssl

from . import tls
from .connection import (
    CancelToken,
    Deadline,
    Resolver,
    cancelled_error,
    open_connection,
    peer_address,
    resolve,
)
from .errors import ConnectFailure, DeliveryError, Step, seconds_text
from .pop import login_before_send
from .settings import ServerSettings
from .smtp_auth import (
    PasswordSource,
    TokenProvider,
    authenticate,
    authenticate_xoauth2,
    choose_mechanism,
    read_password,
    token_source_of,
)
from .smtp_wire import Reply, SmtpChannel, WireError
from .transcript import Transcript

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


@dataclasses.dataclass
class Session:
    """An open SMTP session, ready for ``MAIL FROM``.

    ``features`` maps each EHLO keyword (upper case) to its parameters.
    """

    channel: SmtpChannel
    features: dict[str, str]
    encrypted: bool

    def offers(self, keyword: str) -> bool:
        """True when the server listed ``keyword`` in its EHLO reply."""
        return keyword.upper() in self.features


def wire_failure(
    error_type: type[DeliveryError], step: Step, error: WireError, server: ServerSettings
) -> DeliveryError:
    """Turn a ``WireError`` at ``step`` into ``error_type`` with the reason in words."""
    if error.kind == "cancelled":
        return cancelled_error(step, server.name)
    if error.kind == "timeout":
        detail = f"no reply from the server within {seconds_text(server.timeout_s)}"
    elif error.kind == "closed":
        detail = "the server closed the connection"
        if error.detail:
            detail += f" ({error.detail})"
    else:
        detail = f"the server sent an invalid reply: {error.detail}"
    return error_type(step, detail, server=server.name)


def ehlo_name(sock: socket.socket) -> str:
    """Return the name for EHLO: this host's name when fully qualified, else an address literal.

    ``socket.getfqdn()`` can wait on DNS, so it is not used; RFC 5321 allows
    an address literal when the client has no meaningful name.
    """
    name = socket.gethostname()
    labels = name.split(".")
    if len(labels) > 1 and all(_HOST_LABEL.match(label) for label in labels):
        return name
    address = sock.getsockname()[0].partition("%")[0]
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def parse_features(reply: Reply) -> dict[str, str]:
    """Return the EHLO keywords of ``reply``, upper case, with their parameters."""
    features: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, params = line.partition(" ")
        if keyword.upper().startswith("AUTH="):
            # Old servers announce "AUTH=LOGIN PLAIN" as well as, or instead of, "AUTH".
            keyword, params = "AUTH", keyword[5:] + (" " + params if params else "")
            features.setdefault("AUTH", params.strip())
            continue
        features[keyword.upper()] = params.strip()
    return features


class _Opener:
    """The steps of ``open_session`` for one server."""

    def __init__(
        self,
        server: ServerSettings,
        *,
        password_for: PasswordSource | None,
        transcript: Transcript,
        ssl_context: ssl.SSLContext | None,
        cancel: CancelToken,
        resolver: Resolver | None,
    ) -> None:
        self.server = server
        self.password_for = password_for
        self.transcript = transcript
        self.ssl_context = ssl_context
        self.cancel = cancel
        self.resolver = resolver

    def context(self) -> ssl.SSLContext:
        if self.ssl_context is None:
            self.ssl_context = tls.default_context()
        return self.ssl_context

    def fail(self, step: Step, detail: str, reply: Reply | None = None) -> ConnectFailure:
        return ConnectFailure(
            step,
            detail,
            code=reply.code if reply else None,
            reply=reply.text if reply else "",
            server=self.server.name,
        )

    def connect(self) -> SmtpChannel:
        """Resolve, connect, and run implicit TLS; the greeting is read within the same budget."""
        server = self.server
        deadline = Deadline(server.timeout_s)
        self.transcript.note(
            f"{server.label} server {server.host} port {server.port}, security {server.security}"
        )
        addresses = resolve(
            server.host, server.port, deadline=deadline, resolver=self.resolver,
            cancel=self.cancel, server=server.name,
        )
        sock = open_connection(
            addresses, deadline=deadline, cancel=self.cancel, server=server.name,
            host=server.host, port=server.port,
        )
        self.transcript.note(f"connected to {peer_address(sock)} port {server.port}")
        if server.security == "tls":
            sock = tls.handshake(
                sock, self.context(), server.host, deadline=deadline, cancel=self.cancel,
                server=server.name, step=Step.TLS,
            )
            self._note_tls(sock)
        channel = SmtpChannel(
            sock, transcript=self.transcript, cancel=self.cancel, timeout_s=server.timeout_s
        )
        try:
            self.greeting(channel, deadline)
        except BaseException:
            channel.close()
            raise
        return channel

    def _note_tls(self, sock: ssl.SSLSocket) -> None:
        cipher = sock.cipher()
        self.transcript.note(
            f"TLS established: {sock.version()}, {cipher[0] if cipher else 'unknown cipher'}, "
            "certificate verified"
        )

    def greeting(self, channel: SmtpChannel, deadline: Deadline) -> None:
        try:
            reply = channel.read_reply(deadline)
        except WireError as error:
            raise self._greeting_failure(error, deadline) from None
        if reply.code != 220:
            raise self.fail(Step.GREETING, "the server rejected the session in its greeting", reply)

    def _greeting_failure(self, error: WireError, deadline: Deadline) -> DeliveryError:
        server = self.server
        if error.kind == "timeout":
            detail = f"no SMTP greeting came back within {seconds_text(deadline.seconds)}"
            if server.security != "tls":
                detail += (
                    "; a server that expects TLS from the first byte waits silently like this, "
                    "and port 465 usually needs implicit TLS: set Connection security to "
                    "Implicit TLS if this is such a port"
                )
            return self.fail(Step.GREETING, detail)
        if error.kind == "closed":
            return self.fail(Step.GREETING, "the server closed the connection before its greeting")
        return wire_failure(ConnectFailure, Step.GREETING, error, server)

    def ehlo(self, channel: SmtpChannel) -> dict[str, str]:
        """Send EHLO, or HELO when EHLO is rejected with 5xx; return the EHLO keywords."""
        name = ehlo_name(channel.sock)
        channel.send_line(f"EHLO {name}")
        reply = channel.read_reply()
        if reply.code == 250:
            return parse_features(reply)
        if 500 <= reply.code < 600:
            channel.send_line(f"HELO {name}")
            helo = channel.read_reply()
            if helo.code == 250:
                return {}
            raise self.fail(Step.EHLO, "the server rejected both EHLO and HELO", helo)
        raise self.fail(Step.EHLO, "the server rejected EHLO", reply)

    def starttls(self, channel: SmtpChannel, features: dict[str, str]) -> None:
        if "STARTTLS" not in features:
            raise self.fail(
                Step.STARTTLS,
                "the server does not offer STARTTLS, so the connection cannot be encrypted and "
                "no credentials were sent; check the SMTP Port (587 usually offers STARTTLS) "
                "or choose another Connection security",
            )
        channel.send_line("STARTTLS")
        reply = channel.read_reply()
        if reply.code != 220:
            raise self.fail(Step.STARTTLS, "the server rejected STARTTLS", reply)
        if channel.buffered:
            # Anything sent before the handshake would be taken as if it came
            # through TLS (the STARTTLS command injection of RFC 3207's era).
            raise self.fail(
                Step.STARTTLS, "the server sent data after its STARTTLS reply, before TLS began"
            )
        sock = channel.detach()
        secured = tls.handshake(
            sock, self.context(), self.server.host, deadline=Deadline(self.server.timeout_s),
            cancel=self.cancel, server=self.server.name, step=Step.STARTTLS,
        )
        channel.attach(secured)
        self._note_tls(secured)

    def login(self, channel: SmtpChannel, features: dict[str, str], encrypted: bool) -> None:
        server = self.server
        if "AUTH" not in features:
            if not encrypted and "STARTTLS" in features:
                raise self.fail(
                    Step.AUTH,
                    "the server offers authentication only after STARTTLS; set Connection "
                    "security to STARTTLS",
                )
            raise self.fail(
                Step.AUTH,
                "the server does not offer SMTP AUTH (no AUTH in its EHLO reply); set "
                "Authentication type to None if it relays without a login",
            )
        mechanism = choose_mechanism(features["AUTH"], server)
        password = read_password(self.password_for, server)
        authenticate(channel, mechanism, server.username, password, server)

    def login_xoauth2(
        self, channel: SmtpChannel, features: dict[str, str], encrypted: bool,
        tokens: TokenProvider | None,
    ) -> None:
        """Log in with XOAUTH2; no token is requested unless it can go out encrypted.

        ``tokens`` is ``None`` when the token source comes from the server's
        own settings. That source is built after the checks, so a session
        that cannot use a token reads nothing from the keyring.
        """
        if not encrypted:
            raise self.fail(
                Step.AUTH,
                "OAuth 2.0 needs STARTTLS or implicit TLS; a token is never sent unencrypted, "
                "so none was requested: set Connection security to STARTTLS or Implicit TLS",
            )
        offered = features.get("AUTH", "").upper().split()
        if "XOAUTH2" not in offered:
            raise self.fail(
                Step.AUTH,
                "the server does not offer XOAUTH2, so it cannot take an OAuth 2.0 token; "
                f"it offers {' '.join(offered) or 'no AUTH at all'}: check the server name and "
                "port, or choose another Authentication type",
            )
        if tokens is None:
            from .oauth import server_token_source

            tokens = server_token_source(self.server, self.password_for, self.context())
        authenticate_xoauth2(channel, tokens, self.server)


def open_session(
    server: ServerSettings,
    *,
    password_for: PasswordSource | None,
    transcript: Transcript,
    ssl_context: ssl.SSLContext | None,
    cancel: CancelToken,
    resolver: Resolver | None,
) -> Session:
    """Open an SMTP session through ``server``, logged in when it needs a login.

    A server whose ``auth`` is ``oauth2`` logs in with XOAUTH2 and a token
    source built from its settings. When ``password_for`` carries a token
    source for the server (see ``smtp_auth.token_source_of``), that source is
    used, whatever ``server.auth`` says.
    """
    opener = _Opener(
        server, password_for=password_for, transcript=transcript, ssl_context=ssl_context,
        cancel=cancel, resolver=resolver,
    )
    if server.auth == "pop_before_smtp":
        password = read_password(password_for, server)
        login_before_send(server, password, transcript=transcript, cancel=cancel, resolver=resolver)

    channel = opener.connect()
    step = Step.EHLO
    try:
        features = opener.ehlo(channel)
        encrypted = server.security == "tls"
        if server.security == "starttls":
            step = Step.STARTTLS
            opener.starttls(channel, features)
            encrypted = True
            step = Step.EHLO
            features = opener.ehlo(channel)
        tokens = token_source_of(password_for, server.name)
        if tokens is not None or server.auth == "oauth2":
            step = Step.AUTH
            opener.login_xoauth2(channel, features, encrypted, tokens)
        elif server.auth == "smtp":
            step = Step.AUTH
            opener.login(channel, features, encrypted)
    except WireError as error:
        channel.close()
        raise wire_failure(ConnectFailure, step, error, server) from None
    except BaseException:
        channel.close()
        raise
    return Session(channel=channel, features=features, encrypted=encrypted)
