"""The settings of an OAuth 2.0 sign-in for one SMTP server, and their validation.

Three identity providers are supported, each with the grant it uses:

- ``microsoft365``: the client-credentials grant with a tenant id, an
  application (client) id and a client secret.
- ``google``: the JWT-bearer grant (RFC 7523) signed with a service-account
  key that has domain-wide delegation, impersonating the mailbox.
- ``other``: the client-credentials grant with a token URL, a client id, a
  client secret and a scope.

Errors name the setting key as ``<server>.oauth_<field>``. No message or
``repr`` contains the client secret or the private key.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from .errors import SettingError
from .settings import (
    CLIENT_SECRET_SUFFIXES,
    PROVIDER_CHOICES,
    SERVICE_ACCOUNT_KEY_SUFFIX,
    server_fields_shown,
)
from .validation import check_address_syntax, check_https_url, check_tenant, reject_line_breaks

PROVIDERS = dict(PROVIDER_CHOICES)

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
GOOGLE_SCOPE = "https://mail.google.com/"

# The fields a service-account key file must contain to sign a JWT-bearer assertion.
SERVICE_ACCOUNT_FIELDS = ("type", "client_email", "private_key", "token_uri")

@dataclasses.dataclass(frozen=True)
class ServiceAccountKey:
    """The fields of a Google service-account key that the JWT-bearer grant uses."""

    client_email: str
    token_uri: str
    private_key_id: str
    private_key: str = dataclasses.field(repr=False)


def parse_service_account_key(text: str, source: str = "the service-account key") -> ServiceAccountKey:
    """Parse a service-account key file's JSON text; raise ``ValueError`` naming ``source`` and the field.

    ``source`` names where the text came from (a file name, or the keyring
    entry) for the message. Messages never quote the private key.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{source} is not valid JSON: {error}") from None
    except RecursionError:
        raise ValueError(f"{source} is not valid JSON: it is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source} is not a JSON object, so it is not a service-account key")
    missing = [name for name in SERVICE_ACCOUNT_FIELDS if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise ValueError(
            f"{source} is missing the field{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
            "download a new JSON key for the service account in the Google Cloud console"
        )
    if data["type"] != "service_account":
        raise ValueError(
            f"{source} has type {data['type']!r}, not 'service_account': use the JSON key of a "
            "service account"
        )
    if "PRIVATE KEY-----" not in data["private_key"]:
        raise ValueError(f"{source} has a private_key field that is not a PEM private key")
    _check_private_key(data["private_key"], source)
    try:
        check_https_url("token_uri", data["token_uri"])
    except SettingError as error:
        raise ValueError(f"{source} has an invalid token_uri: {error.reason}") from None
    return ServiceAccountKey(
        client_email=data["client_email"],
        token_uri=data["token_uri"],
        private_key_id=str(data.get("private_key_id") or ""),
        private_key=data["private_key"],
    )


# A key file with a 2048-bit RSA key has 2 to 3 KB of JSON (an estimate from
# the fields Google writes), so a larger file is some other file.
MAX_KEY_FILE_BYTES = 64 * 1024


def key_from_bytes(data: bytes, source: str) -> tuple[str, ServiceAccountKey]:
    """Return the text and the parsed key of a key file's bytes; raise ``ValueError`` naming ``source``."""
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ValueError(
            f"{source} is larger than {MAX_KEY_FILE_BYTES // 1024} KB, so it is not a service-account key"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{source} is not UTF-8 text, so it is not a JSON key") from None
    return text, parse_service_account_key(text, source)


def read_key_file(path: str) -> tuple[str, ServiceAccountKey]:
    """Return the text and the parsed key of the key file at ``path``; raise ``ValueError`` naming it."""
    import os
    import stat

    source = f"the key file {path}"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            # Reading a named pipe or a device could wait forever.
            raise ValueError(f"{source} is not a regular file: give the path of the JSON key file")
        with open(path, "rb") as file:
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise ValueError(
            f"{source} could not be read ({error.strerror or error}): give the path of the JSON key "
            "downloaded from the Google Cloud console"
        ) from None
    return key_from_bytes(data, source)


def _check_private_key(pem: str, source: str) -> None:
    """Raise ``ValueError`` naming ``source`` when ``pem`` is not a readable RSA private key."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise ValueError(
            f"{source} has a private_key that cannot be read: download a new JSON key for the "
            "service account in the Google Cloud console"
        ) from None
    except Exception as error:  # cryptography raises UnsupportedAlgorithm for other key types
        raise ValueError(f"{source} has a private_key of a kind that cannot be used ({type(error).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{source} has a private_key that is not an RSA key, which Google's tokens need")


check_token_url = check_https_url


@dataclasses.dataclass(frozen=True)
class OAuthConfig:
    """The OAuth 2.0 settings of one server, validated on creation.

    ``secret`` is the client secret (``microsoft365``, ``other``) or the
    service-account key's JSON text (``google``). ``token_url`` is required
    for ``other``. For ``microsoft365`` an empty ``token_url`` means the
    global Microsoft endpoint of ``tenant_id``, and a national cloud such as
    login.microsoftonline.us needs its own URL. For ``google`` it means the
    key's ``token_uri``. ``scope`` defaults to the provider's SMTP scope.
    Instances are hashable, so a token cache can be keyed by them.
    """

    provider: str
    mailbox: str
    secret: str = dataclasses.field(repr=False)
    client_id: str = ""
    tenant_id: str = ""
    token_url: str = ""
    scope: str = ""
    server: str = "primary"

    def __post_init__(self) -> None:
        self._check()

    def key(self, field: str) -> str:
        """Return the dotted setting key of ``field``, such as ``primary.oauth_client_id``."""
        return f"{self.server}.oauth_{field}"

    def _check(self) -> None:
        if self.provider not in PROVIDERS:
            raise SettingError(
                self.key("provider"), self.provider, "choose one of " + ", ".join(PROVIDERS)
            )
        reject_line_breaks(self.key("mailbox"), self.mailbox)
        if not self.mailbox.strip():
            raise SettingError(
                self.key("mailbox"), self.mailbox,
                "enter the mailbox to send as, for example alerts@example.com",
            )
        check_address_syntax(self.key("mailbox"), self.mailbox.strip())
        if self.provider == "google":
            self.service_account_key()
        else:
            self._check_client()
        if self.token_url or self.provider == "other":
            check_token_url(self.key("token_url"), self.token_url)
        reject_line_breaks(self.key("scope"), self.scope)
        if self.provider == "other" and not self.scope.strip():
            raise SettingError(
                self.key("scope"), self.scope, "enter the scope the provider grants for SMTP"
            )

    def _check_client(self) -> None:
        reject_line_breaks(self.key("client_id"), self.client_id)
        if not self.client_id.strip():
            raise SettingError(
                self.key("client_id"), self.client_id,
                "enter the application (client) id of the app registration",
            )
        if not self.secret:
            # The value shown is a placeholder: an empty secret is still a secret field.
            raise SettingError(
                self.key("client_secret"), "(empty)",
                f"no client secret is stored: run 'alertmail config set-password {self.server}'",
            )
        if self.provider == "microsoft365":
            if not self.tenant_id.strip():
                raise SettingError(
                    self.key("tenant_id"), self.tenant_id,
                    "enter the directory (tenant) id: a GUID or a domain such as contoso.onmicrosoft.com",
                )
            check_tenant(self.key("tenant_id"), self.tenant_id)

    def service_account_key(self) -> ServiceAccountKey:
        """Return the parsed service-account key of a ``google`` configuration."""
        try:
            key = parse_service_account_key(self.secret, "the stored service-account key")
        except ValueError as error:
            raise SettingError(
                self.key("service_account_key"), "(stored key)",
                f"{error}; store it again with 'alertmail config set-password {self.server} "
                "--key-file FILE'",
            ) from None
        return key

    @property
    def endpoint(self) -> str:
        """The token endpoint's URL."""
        if self.token_url:
            return self.token_url.strip()
        if self.provider == "microsoft365":
            return MICROSOFT_TOKEN_URL.format(tenant=self.tenant_id.strip())
        return self.service_account_key().token_uri

    @property
    def effective_scope(self) -> str:
        """The scope requested: the configured one, else the provider's SMTP scope."""
        if self.scope.strip():
            return self.scope.strip()
        return GOOGLE_SCOPE if self.provider == "google" else MICROSOFT_SCOPE

    @property
    def user(self) -> str:
        """The XOAUTH2 user name: the mailbox, trimmed."""
        return self.mailbox.strip()


# The client secret has a keyring entry of its own, apart from the password,
# so a server's SMTP password is never sent to a token endpoint after its
# authentication type changes.

# OAuthConfig fields and the setting keys they are read from, ``<server>.`` + key.
SETTING_KEYS = {
    "provider": "oauth_provider",
    "tenant_id": "oauth_tenant_id",
    "client_id": "oauth_client_id",
    "token_url": "oauth_token_url",
    "scope": "oauth_scope",
    "mailbox": "oauth_mailbox",
}


def secret_entry(server: str, provider: str) -> str:
    """Return the keyring user name that stores the secret of ``server`` for ``provider``."""
    if provider == "google":
        return server + SERVICE_ACCOUNT_KEY_SUFFIX
    return server + CLIENT_SECRET_SUFFIXES[provider]


def config_from_values(values: Mapping[str, Any], server: str, secret: str) -> OAuthConfig:
    """Build the ``OAuthConfig`` of ``server`` from dotted setting values and its secret.

    A key missing from ``values`` counts as empty, so the validation of
    ``OAuthConfig`` names it.
    """
    fields = {field: str(values.get(f"{server}.{key}", "") or "") for field, key in SETTING_KEYS.items()}
    return OAuthConfig(secret=secret, server=server, **_applicable(fields))


def config_from_server(server: Any, secret: str) -> OAuthConfig:
    """Build the ``OAuthConfig`` of a ``settings.ServerSettings`` and its secret."""
    fields = {field: str(getattr(server, key) or "") for field, key in SETTING_KEYS.items()}
    return OAuthConfig(secret=secret, server=server.name, **_applicable(fields))


def _applicable(fields: dict[str, str]) -> dict[str, str]:
    """Return ``fields`` with the ones that the chosen provider does not use emptied.

    The dialog hides those rows but keeps their values, for example a token
    URL typed before switching to Google Workspace, and a hidden value must
    not decide where a token is requested or for which scope.
    """
    shown = server_fields_shown("oauth2", fields["provider"].strip().lower())
    return {
        field: value if field in ("provider", "mailbox") or SETTING_KEYS[field] in shown else ""
        for field, value in fields.items()
    }


def secret_noun(provider: str) -> str:
    """Return what the keyring contains for ``provider``: a client secret or a service-account key."""
    return "service-account key" if provider == "google" else "OAuth 2.0 client secret"
