"""Validation of host names, ports, e-mail addresses and recipient lists.

Each function returns the normalized value or raises ``SettingError`` with a
reason that names what is allowed. ``email_validator`` is imported on first
use, so the dialog does not pay for it before its first frame.

``email.utils`` and ``ipaddress`` are imported inside the functions for the
same reason.
"""

from __future__ import annotations

import re

from .errors import SettingError

_SPECIALS = set('()<>@,;:\\".[]')
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def reject_line_breaks(key: str, text: str) -> str:
    """Return ``text`` unchanged, or raise when it contains CR or LF."""
    if "\r" in text or "\n" in text:
        raise SettingError(
            key,
            text,
            "line breaks (CR or LF) are not allowed here; enter the value on one line",
        )
    return text


def normalize_host(key: str, text: str) -> str:
    """Return a host as it will be connected to: trimmed, IPv6 without brackets.

    Accepts a DNS name (internationalized names allowed), an IPv4 address or
    an IPv6 literal with or without brackets. An empty string is returned
    as is; whether a host is required is decided by the caller.
    """
    reject_line_breaks(key, text)
    host = text.strip()
    if not host:
        return ""

    if "://" in host or "/" in host:
        raise SettingError(
            key, text, "enter only the server name or address, without a scheme or path"
        )
    if "@" in host:
        raise SettingError(
            key, text, "enter only the server name or address, without a user name"
        )

    if host.startswith("["):
        inner, bracket, rest = host[1:].partition("]")
        if not bracket:
            raise SettingError(key, text, "the closing ']' of the IPv6 address is missing")
        if rest:
            raise SettingError(
                key, text, "put the port in the Port field, not after the address"
            )
        return _ipv6(key, text, inner)

    if ":" in host:
        if host.count(":") == 1:
            raise SettingError(
                key,
                text,
                "put the port in the Port field; the server name must not end in ':port'",
            )
        return _ipv6(key, text, host)

    if re.fullmatch(r"[0-9.]+", host):
        import ipaddress

        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise SettingError(key, text, "not a valid IPv4 address") from None

    return _dns_name(key, text, host)


def _ipv6(key: str, text: str, literal: str) -> str:
    import ipaddress

    address, _, zone = literal.partition("%")
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        raise SettingError(key, text, "not a valid IPv6 address") from None
    return f"{parsed.compressed}%{zone}" if zone else parsed.compressed


def _dns_name(key: str, text: str, host: str) -> str:
    name = host[:-1] if host.endswith(".") else host
    try:
        # The IDNA codec costs the dialog's first frame about 1.5 ms to load,
        # and an ASCII name needs no conversion.
        ascii_name = name if name.isascii() else name.encode("idna").decode("ascii")
    except UnicodeError:
        raise SettingError(
            key, text, "not a valid host name: each part must be 1 to 63 letters, digits or '-'"
        ) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise SettingError(
            key,
            text,
            "not a valid host name: use letters, digits, '-' and dots, "
            "for example smtp.example.com",
        )
    return host


def check_range(key: str, value: int, minimum: int, maximum: int) -> int:
    """Return ``value`` when it lies in ``minimum``..``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(key, value, f"must be a whole number from {minimum} to {maximum}")
    if not minimum <= value <= maximum:
        raise SettingError(key, value, f"must be from {minimum} to {maximum}")
    return value


# --- addresses ----------------------------------------------------------------


def split_address_list(text: str) -> list[str]:
    """Split on commas and semicolons outside quotes, angle brackets and comments.

    Empty entries (doubled or trailing separators) are dropped.
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    comment = 0
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
            continue
        if char == "\\" and (quoted or comment):
            current.append(char)
            escaped = True
            continue
        if char == '"' and not comment:
            quoted = not quoted
        elif not quoted:
            if char == "<":
                angle += 1
            elif char == ">" and angle:
                angle -= 1
            elif char == "(":
                comment += 1
            elif char == ")" and comment:
                comment -= 1
            elif char in ",;" and not angle and not comment:
                parts.append("".join(current))
                current = []
                continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_mailbox(key: str, text: str) -> tuple[str, str]:
    """Parse one ``Name <addr>`` or bare address into ``(display name, address)``.

    The address is checked for syntax, internationalized addresses included;
    no DNS lookup is made.
    """
    import email.utils

    reject_line_breaks(key, text)
    entry = text.strip()
    if "<" not in entry and '"' not in entry and len(entry.split()) > 1 and entry.count("@") > 1:
        raise SettingError(
            key, text, "separate the addresses with commas or semicolons, not with spaces"
        )
    found = [pair for pair in email.utils.getaddresses([entry]) if pair[1]]
    if len(found) > 1:
        raise SettingError(key, text, "enter one address here")
    name, address = found[0] if found else ("", "")
    if not address or "@" not in address:
        raise SettingError(
            key, text, "not an e-mail address; enter it as name@example.com or Name <name@example.com>"
        )
    if "<" in entry and not entry.rstrip().endswith(">"):
        raise SettingError(key, text, "text after '>' is not allowed")
    check_address_syntax(key, address)
    return name, address


def check_address_syntax(key: str, address: str) -> str:
    """Return ``address`` when its syntax is valid, raise ``SettingError`` otherwise."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=True,
            allow_domain_literal=True,
            test_environment=True,
        )
    except EmailNotValidError as error:
        local, _, domain = address.rpartition("@")
        if local and _LABEL.match(domain) and _is_valid_local_part(local):
            # A one-label domain such as root@localhost or ops@mailhost is
            # valid on an internal relay, though not on the Internet.
            return address
        raise SettingError(key, address, f"not a valid e-mail address: {error}") from None
    return address


def _is_valid_local_part(local: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(f"{local}@example.com", check_deliverability=False, allow_smtputf8=True,
                       allow_quoted_local=True)
    except EmailNotValidError:
        return False
    return True


def format_mailbox(name: str, address: str) -> str:
    """Format a mailbox for display and storage, quoting the name when needed.

    Non-ASCII names stay readable here; the message builder encodes them
    (RFC 2047) when the header is written.
    """
    if not name:
        return address
    if any(char in _SPECIALS for char in name) or name != name.strip():
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        name = f'"{escaped}"'
    return f"{name} <{address}>"


def normalize_recipients(key: str, value: str | list[str]) -> list[str]:
    """Return a recipient list as stored: one formatted mailbox per entry.

    ``value`` is the text of a recipients field (comma or semicolon separated)
    or a list of entries read from the settings file. An empty field gives an
    empty list; a field of separators only is invalid.
    """
    if isinstance(value, str):
        reject_line_breaks(key, value)
        entries = split_address_list(value)
        if not entries and value.strip():
            raise SettingError(
                key, value, "no address found; enter addresses separated by commas or semicolons"
            )
    else:
        entries = []
        for item in value:
            if not isinstance(item, str):
                raise SettingError(key, item, "each recipient must be a text string")
            entries.extend(split_address_list(reject_line_breaks(key, item)))
    return [format_mailbox(*parse_mailbox(key, entry)) for entry in entries]


def envelope_addresses(entries: list[str]) -> list[str]:
    """Return the bare addresses of stored recipient entries, in order."""
    import email.utils

    return [email.utils.parseaddr(entry)[1] for entry in entries]


def is_ascii_mailbox(address: str) -> bool:
    """True when the local part is ASCII, so the address can travel without SMTPUTF8."""
    local, _, _ = address.rpartition("@")
    return local.isascii()


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_https_url(key: str, url: str) -> str:
    """Return ``url`` trimmed when it is an absolute https URL with a host; raise ``SettingError`` otherwise."""
    from urllib.parse import urlsplit

    reject_line_breaks(key, url)
    url = url.strip()
    # Messages quote the URL, so a user name and password in it are left out.
    quoted = re.sub(r"(?<=//)[^/?#]*@", "***@", url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        raise SettingError(key, quoted, f"is not a valid URL ({error})") from None
    if parts.scheme.lower() != "https":
        raise SettingError(
            key, quoted, "enter an absolute https:// URL; a token endpoint is never used over plain http"
        )
    if not host:
        raise SettingError(key, quoted, "the URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise SettingError(
            key, quoted, "remove the user name and password from the URL; the client secret goes in "
            "the keyring"
        )
    try:
        normalize_host(key, host)
    except SettingError as error:
        raise SettingError(key, quoted, error.reason) from None
    return url


def check_tenant(key: str, tenant: str) -> str:
    """Return a Microsoft tenant id (a GUID) or tenant domain, trimmed; raise ``SettingError`` otherwise."""
    reject_line_breaks(key, tenant)
    tenant = tenant.strip()
    if _GUID.match(tenant):
        return tenant
    reason = "a tenant ID is a GUID or a domain name such as contoso.onmicrosoft.com"
    if "." not in tenant:
        raise SettingError(key, tenant, reason)
    try:
        return normalize_host(key, tenant)
    except SettingError:
        raise SettingError(key, tenant, reason) from None
