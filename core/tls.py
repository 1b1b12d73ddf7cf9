"""TLS for SMTP: the verifying context, and handshake errors in words.

The default context is ``truststore.SSLContext``, which verifies the
certificate chain and the host name against the operating system's trust
store, where corporate authorities are installed.

Trusting an extra authority (tests, or a private relay) on Linux:
truststore 0.10 on Linux calls ``SSLContext.set_default_verify_paths()``
before each handshake whenever ``ssl.get_default_verify_paths()`` reports an
existing CA file or a CA folder with hashed certificates. That call reads
the ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` environment variables, so setting
``SSL_CERT_FILE`` to a PEM bundle makes a child process trust exactly that
bundle, in place of the system one (read in truststore/_openssl.py). On
macOS and Windows truststore uses the platform verifier and ignores these
variables, so there the authority has to be added to the system trust store.
Inside one process, ``load_verify_locations()`` on the context adds an
authority to the system ones.
"""

from __future__ import annotations

import socket
import ssl

from .connection import CancelToken, Deadline, cancelled_error
from .errors import ConnectFailure, DeliveryError, Step
from .messages import ascii_domain

# OpenSSL error reasons for a peer that replies to the ClientHello with
# plain text. OpenSSL 3.0 reports WRONG_VERSION_NUMBER for an SMTP "220 ..."
# greeting (tested); NOTE: the other reasons are OpenSSL's names for other
# non-TLS input and were not seen in a test here.
_PLAIN_TEXT_REASONS = {
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
}

# OpenSSL's X509_V_ERR_* verification codes, grouped by what an administrator can do
# about them. The tests here produce 18, 20, 62 and 64.
_SELF_SIGNED = {18: "the certificate is self-signed", 19: "the certificate chain ends in a self-signed authority that is not trusted"}
_UNKNOWN_AUTHORITY = {2, 20, 21}
_HOST_MISMATCH = {62, 64}
_EXPIRED = {9: "the certificate is not valid yet", 10: "the certificate has expired"}

_TRUST_STORE_HINT = (
    "if the server uses a private or self-signed authority, add that authority's "
    "certificate to the system's trust store"
)


def default_context() -> ssl.SSLContext:
    """Return a client context that verifies against the operating system's trust store."""
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def server_hostname(host: str) -> str:
    """Return the name sent for SNI and checked against the certificate."""
    address = host.partition("%")[0]
    if ":" in address or address.replace(".", "").isdigit():
        return address
    return ascii_domain(host)


def describe_certificate_error(error: ssl.SSLCertVerificationError, host: str) -> str:
    """Explain why a certificate did not verify, with what to do about it."""
    code = error.verify_code
    message = error.verify_message or str(error)
    if code in _SELF_SIGNED:
        reason = f"{_SELF_SIGNED[code]}; {_TRUST_STORE_HINT}"
    elif code in _UNKNOWN_AUTHORITY:
        reason = f"it was issued by an unknown authority; {_TRUST_STORE_HINT}"
    elif code in _HOST_MISMATCH:
        reason = (
            f"the certificate is not valid for the host name {host}; enter the name the "
            "certificate was issued for in Server Name / Address"
        )
    elif code in _EXPIRED:
        reason = f"{_EXPIRED[code]}; the server's certificate must be renewed"
    else:
        reason = f"{message}; {_TRUST_STORE_HINT}"
    return f"the server's certificate could not be verified: {reason} (OpenSSL: {message})"


def handshake(
    sock: socket.socket,
    context: ssl.SSLContext,
    host: str,
    *,
    deadline: Deadline,
    cancel: CancelToken,
    server: str | None,
    step: Step,
) -> ssl.SSLSocket:
    """Run the TLS handshake on ``sock`` within ``deadline``; return the TLS socket.

    ``step`` is ``Step.TLS`` for implicit TLS and ``Step.STARTTLS`` after the
    STARTTLS command. Every failure becomes a ``ConnectFailure`` that
    explains the cause in words, or ``DeliveryCancelled``. ``sock`` must already
    be unregistered from ``cancel``: wrapping takes over its descriptor.
    """
    name = server_hostname(host)
    sock.settimeout(max(deadline.remaining(), 0.001))
    try:
        tls = context.wrap_socket(sock, server_hostname=name, do_handshake_on_connect=False)
    except (ssl.SSLError, OSError) as error:
        sock.close()
        raise ConnectFailure(step, f"TLS could not be started: {error}", server=server) from None
    cancel.register(tls)
    try:
        tls.do_handshake()
    except BaseException as error:
        cancel.unregister(tls)
        tls.close()
        if cancel.cancelled:
            raise cancelled_error(step, server) from None
        if isinstance(error, (OSError, ValueError)):
            raise _handshake_failure(error, host, deadline, server, step) from None
        raise
    return tls


def _handshake_failure(
    error: BaseException, host: str, deadline: Deadline, server: str | None, step: Step
) -> DeliveryError:
    implicit = step is Step.TLS
    if isinstance(error, ssl.SSLCertVerificationError):
        return ConnectFailure(step, describe_certificate_error(error, host), server=server)
    if isinstance(error, TimeoutError):
        detail = f"the TLS handshake did not finish within {deadline.seconds:g} seconds"
        if implicit:
            detail += "; the server may not speak TLS on this port"
        return ConnectFailure(step, detail, server=server)
    reason = getattr(error, "reason", None)
    if implicit and reason in _PLAIN_TEXT_REASONS:
        return ConnectFailure(
            step,
            "the server answered in plain text, not TLS: it probably expects STARTTLS; set "
            "Connection security to STARTTLS (usually port 587) or None (usually port 25) "
            f"(OpenSSL: {error})",
            server=server,
        )
    if isinstance(error, (ssl.SSLEOFError, ConnectionError)) or not isinstance(error, ssl.SSLError):
        return ConnectFailure(
            step, f"the server closed the connection during the TLS handshake ({error})", server=server
        )
    return ConnectFailure(step, f"the TLS handshake failed ({error})", server=server)
