"""Token endpoint failures in plain words, as ``ConnectFailure`` at the token request step.

Identity providers reject a token request with a JSON object
holding ``error`` and ``error_description`` (RFC 6749 section 5.2).
Microsoft's descriptions start with an ``AADSTS`` code; Google's JWT-bearer
errors say ``unauthorized_client`` or ``invalid_grant`` when domain-wide
delegation is missing. The message keeps the provider's own text and
status, and adds what to do.
"""

from __future__ import annotations

import re
import ssl

from .errors import ConnectFailure, Step, seconds_text
from .tls import describe_certificate_error

_AADSTS = re.compile(r"\bAADSTS(\d+)")

# Microsoft Entra ID error codes, from Microsoft's AADSTS error code reference.
_MICROSOFT_CODES = {
    "7000215": "the client secret is wrong or expired: create a new one in the app registration "
    "and store it with 'alertmail config set-password'",
    "7000222": "the client secret has expired: create a new one in the app registration "
    "and store it with 'alertmail config set-password'",
    "700016": "the application (client) id was not found in this tenant: check the client id and "
    "the tenant id",
    "90002": "the tenant was not found: check the tenant id",
    "65001": "an administrator must grant consent to the application's permissions "
    "(SMTP.SendAsApp) in the app registration",
    "1003031": "an administrator must grant consent to the application's permissions",
}

_DELEGATION_HINT = (
    "domain-wide delegation is not set up for this client id and scope: in the Google Admin "
    "console, authorize the service account's client id for https://mail.google.com/, and check "
    "that the mailbox exists in the domain"
)


def explain_provider_error(provider: str, error: str, description: str) -> str:
    """Return what an ``error`` / ``error_description`` pair means and what to do, or ``""``."""
    code = _AADSTS.search(description or "")
    if code and code.group(1) in _MICROSOFT_CODES:
        return _MICROSOFT_CODES[code.group(1)]
    if provider == "google" and error in ("unauthorized_client", "invalid_grant", "access_denied"):
        return _DELEGATION_HINT
    if error == "invalid_client":
        return "the identity provider rejected the client id or client secret"
    if error == "invalid_scope":
        return "the identity provider does not grant the requested scope to this client"
    return ""


def refused_failure(
    provider: str, status: int | None, error: str, description: str, *, server: str
) -> ConnectFailure:
    """Return the failure for a token endpoint that returned an OAuth error."""
    meaning = explain_provider_error(provider, error, description)
    # Name the server in the command that stores a new secret.
    meaning = meaning.replace("'alertmail config set-password'", f"'alertmail config set-password {server}'")
    words = f"the identity provider refused the token request: {meaning}" if meaning else (
        "the identity provider refused the token request"
    )
    status_text = f"HTTP {status} " if status is not None else ""
    reply = f"{status_text}{error}: {description}".strip().rstrip(":")
    return ConnectFailure(Step.TOKEN, words, reply=reply, server=server)


def transport_failure(error: Exception, endpoint: str, timeout_s: float, *, server: str) -> ConnectFailure:
    """Return the failure for a token request that got no OAuth response (``requests`` errors)."""
    import requests

    host = endpoint_host(endpoint)
    certificate = _certificate_error(error)
    if certificate is not None:
        detail = describe_certificate_error(certificate, host).replace(
            "the server's certificate", "the identity provider's certificate", 1
        )
    elif isinstance(error, requests.Timeout):
        detail = f"no reply from the token endpoint {host} within {seconds_text(timeout_s)}"
    elif isinstance(error, requests.ConnectionError):
        detail = f"the token endpoint {host} could not be reached: {_reason(error)}"
    elif isinstance(error, requests.HTTPError) and error.response is not None:
        response = error.response
        detail = f"the token endpoint {host} answered HTTP {response.status_code} without a token"
    else:
        detail = f"the token endpoint {host} sent an invalid response: {error}"
    return ConnectFailure(Step.TOKEN, detail, server=server)


def endpoint_host(url: str) -> str:
    """Return the host name of a token endpoint's URL, for messages."""
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url


def _certificate_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """Find the certificate verification error that ``requests`` wrapped, if any."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending.extend([current.__cause__, current.__context__, *current.args])
        pending.append(getattr(current, "reason", None))
    return None


# The innermost errors of a failed connection, in words.
_REASONS = (
    ("RemoteDisconnected", "the endpoint closed the connection without a response"),
    ("ConnectionRefusedError", "the connection was refused"),
    ("ConnectionResetError", "the endpoint reset the connection"),
    ("gaierror", "the name does not resolve"),
)


def _reason(error: BaseException) -> str:
    """Return the innermost reason of a wrapped connection error, in words where it is a known one."""
    reason: BaseException = error
    for _ in range(6):
        inner = next((arg for arg in reason.args if isinstance(arg, BaseException)), None)
        inner = inner or getattr(reason, "reason", None)
        # urllib3's NewConnectionError keeps the socket's error only as its cause.
        inner = inner or reason.__cause__ or reason.__context__
        if not isinstance(inner, BaseException):
            break
        reason = inner
    for type_name, words in _REASONS:
        if any(cls.__name__ == type_name for cls in type(reason).__mro__):
            return words
    return str(reason) or type(reason).__name__
