"""Declarations of every alertmail setting, and the settings model.

Each setting is declared once here, with its dotted key, kind, default,
range, label and help text. The settings file, the dialog's labels, tooltips
and validation, and ``alertmail config`` all read these declarations, so no
default or range is written anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from . import validation
from .errors import SettingError, UnknownSettingError

SCHEMA_VERSION = 1
SERVERS = ("primary", "secondary")
SERVER_TITLES = {"primary": "primary", "secondary": "secondary"}

SECURITY_CHOICES = (
    ("none", "None"),
    ("starttls", "STARTTLS"),
    ("tls", "Implicit TLS"),
)
AUTH_CHOICES = (
    ("none", "None"),
    ("smtp", "SMTP AUTH"),
    ("pop_before_smtp", "POP before send"),
    ("oauth2", "OAuth 2.0"),
)
# The identity providers of OAuth 2.0 sign-in. ``oauth_config`` defines the grant of each.
PROVIDER_CHOICES = (
    ("microsoft365", "Microsoft 365"),
    ("google", "Google Workspace"),
    ("other", "Other provider"),
)
# The usual port of each connection security: submission with STARTTLS is 587
# (RFC 6409), implicit TLS is 465 (RFC 8314), plain relay is 25.
USUAL_PORTS = {"none": 25, "starttls": 587, "tls": 465}

# Mnemonics the dialog itself uses, which no setting label may take: the
# buttons OK, Cancel, Apply, Help and Restore Defaults on every tab, and on the
# server tabs Test Email, Abort test, Show (Hide), Clear password and the
# password label.
RESERVED_MNEMONICS = {"dialog": "ocahd", "server": "tbhow"}

# Keyring user names of a server's OAuth 2.0 secrets: the server's name, then
# one of these. The server's name alone is the entry of its SMTP password.
# Each provider's client secret has its own entry, so a secret is only ever
# sent to the provider it was entered for.
CLIENT_SECRET_SUFFIXES = {"microsoft365": ":oauth-secret-microsoft365", "other": ":oauth-secret-other"}
SERVICE_ACCOUNT_KEY_SUFFIX = ":oauth-key"

# The fields of a server tab that every authentication type shows.
_COMMON_FIELDS = ("enabled", "host", "port", "timeout_s", "security", "auth")
# The rows each OAuth 2.0 provider needs besides the mailbox. ``client_secret``
# and ``service_account_key`` are keyring entries, not settings.
_PROVIDER_FIELDS = {
    "microsoft365": ("oauth_tenant_id", "oauth_client_id", "client_secret", "oauth_token_url"),
    "google": ("service_account_key",),
    "other": ("oauth_client_id", "client_secret", "oauth_token_url", "oauth_scope"),
}


def server_fields_shown(auth: str, provider: str) -> tuple[str, ...]:
    """Return the names of the server fields that apply to ``auth`` and ``provider``, top to bottom.

    Names are setting names without the ``<server>.`` prefix, plus the
    keyring entries ``password``, ``client_secret`` and
    ``service_account_key``. OAuth 2.0 replaces the user name, password and
    POP rows with its own, so only one of the two groups is ever shown.
    """
    if auth == "oauth2":
        return (*_COMMON_FIELDS, "oauth_provider", *_PROVIDER_FIELDS.get(provider, ()), "oauth_mailbox")
    return (*_COMMON_FIELDS, "username", "password", "pop_host", "pop_port")


class Setting:
    """One setting: where it lives in the file, what it accepts, how it is shown.

    ``kind`` is one of ``bool``, ``int``, ``text``, ``username`` (text kept
    exactly as typed), ``host``, ``address``, ``recipients``, ``choice``,
    ``url`` (an https URL or empty) and ``tenant`` (a Microsoft tenant id or
    domain, or empty). ``label`` carries the dialog's mnemonic as an ``&``;
    ``help`` is the tooltip and the help text.
    """

    # A plain class rather than a dataclass: importing ``dataclasses`` costs
    # the dialog about 3 ms before its first frame.
    __slots__ = ("key", "kind", "default", "label", "help", "minimum", "maximum", "choices")

    def __init__(
        self,
        key: str,
        kind: str,
        default: Any,
        label: str,
        help: str,  # noqa: A002 - the field is the setting's help text
        minimum: int | None = None,
        maximum: int | None = None,
        choices: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.key = key
        self.kind = kind
        self.default = default
        self.label = label
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices

    def __repr__(self) -> str:
        return f"Setting({self.key!r}, {self.kind!r}, default={self.default!r})"

    @property
    def section(self) -> str:
        """The TOML table the setting lives in."""
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        """The key inside its TOML table."""
        return self.key.partition(".")[2]

    @property
    def plain_label(self) -> str:
        """The label without its mnemonic marker and trailing colon."""
        return self.label.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(":")

    def validate(self, value: Any) -> Any:
        """Return ``value`` normalized, or raise ``SettingError`` naming the fix."""
        return _VALIDATORS[self.kind](self, value)

    def parse(self, text: str) -> Any:
        """Parse the text form of a value (command line, text field) and validate it."""
        if self.kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise SettingError(self.key, text, "must be true or false")
        if self.kind == "int":
            stripped = text.strip()
            # ASCII digits only: int() also accepts other scripts' digits,
            # and str.isdigit() accepts superscripts that int() rejects.
            digits = stripped[1:] if stripped.startswith("-") else stripped
            if not digits or not (digits.isascii() and digits.isdigit()):
                raise SettingError(
                    self.key, text, f"must be a whole number from {self.minimum} to {self.maximum}"
                )
            return self.validate(int(stripped))
        return self.validate(text)

    def format(self, value: Any) -> str:
        """Return the text form of a value, as ``parse`` accepts it."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "recipients":
            return ", ".join(value)
        return str(value)


def _validate_bool(setting: Setting, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingError(setting.key, value, "must be true or false")
    return value


def _validate_int(setting: Setting, value: Any) -> int:
    assert setting.minimum is not None and setting.maximum is not None
    return validation.check_range(setting.key, value, setting.minimum, setting.maximum)


def _validate_text(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be text")
    return validation.reject_line_breaks(setting.key, value).strip()


def _validate_username(setting: Setting, value: Any) -> str:
    # Not trimmed: a user name may hold any character, spaces included.
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be text")
    return validation.reject_line_breaks(setting.key, value)


def _validate_host(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be a host name or address")
    return validation.normalize_host(setting.key, value)


def _validate_address(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be an e-mail address")
    validation.reject_line_breaks(setting.key, value)
    if not value.strip():
        return ""
    return validation.check_address_syntax(setting.key, value.strip())


def _validate_recipients(setting: Setting, value: Any) -> list[str]:
    if not isinstance(value, (str, list)):
        raise SettingError(setting.key, value, "must be a list of e-mail addresses")
    return validation.normalize_recipients(setting.key, value)


def _validate_choice(setting: Setting, value: Any) -> str:
    allowed = [choice for choice, _ in setting.choices]
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    raise SettingError(setting.key, value, "must be one of " + ", ".join(allowed))


def _validate_url(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be an https:// URL")
    if not value.strip():
        return ""
    return validation.check_https_url(setting.key, value)


def _validate_tenant(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(setting.key, value, "must be a tenant id or domain")
    if not value.strip():
        return ""
    return validation.check_tenant(setting.key, value)


_VALIDATORS: dict[str, Callable[[Setting, Any], Any]] = {
    "bool": _validate_bool,
    "int": _validate_int,
    "text": _validate_text,
    "username": _validate_username,
    "host": _validate_host,
    "address": _validate_address,
    "recipients": _validate_recipients,
    "choice": _validate_choice,
    "url": _validate_url,
    "tenant": _validate_tenant,
}


def _server_settings(server: str) -> list[Setting]:
    primary = server == "primary"
    which = "primary" if primary else "secondary"
    return [
        Setting(
            f"{server}.enabled", "bool", primary, "&Use this server",
            f"Send mail through the {which} server. "
            + ("When it cannot be reached, the secondary server is used."
               if primary else "It is used when the primary server cannot be reached "
               "or is not enabled."),
        ),
        Setting(
            f"{server}.host", "host", "", "Server &Name / Address:",
            "DNS name, IPv4 address or IPv6 address of the SMTP server, "
            "for example smtp.example.com. Put the port in the SMTP Port field.",
        ),
        Setting(
            f"{server}.port", "int", 25, "SMTP &Port:",
            "TCP port of the SMTP server: usually 25 for a relay, 587 for STARTTLS, "
            "465 for implicit TLS.",
            minimum=1, maximum=65535,
        ),
        Setting(
            f"{server}.timeout_s", "int", 30, "T&imeout (seconds):",
            "Seconds allowed for reaching the server (name lookup, every address, "
            "the greeting) and for each later reply.",
            minimum=1, maximum=3600,
        ),
        Setting(
            f"{server}.security", "choice", "none", "Connection &security:",
            "None sends in plain text. STARTTLS upgrades the connection and fails "
            "if the server does not offer it. Implicit TLS encrypts from the first byte. "
            "Certificates are checked against the system's trusted authorities.",
            choices=SECURITY_CHOICES,
        ),
        Setting(
            f"{server}.auth", "choice", "none", "Authentication t&ype:",
            "None: the server relays without a login. SMTP AUTH: log in with the user "
            "name and password. POP before send: log in to a POP3 server first. "
            "OAuth 2.0: log in with a token from Microsoft 365, Google Workspace or another "
            "identity provider (XOAUTH2, over STARTTLS or Implicit TLS only).",
            choices=AUTH_CHOICES,
        ),
        Setting(
            f"{server}.username", "username", "", "Userna&me:",
            "User name for SMTP AUTH or the POP login. Any characters are allowed; "
            "they are sent as UTF-8.",
        ),
        Setting(
            f"{server}.pop_host", "host", "", "POP Ser&ver Name:",
            "POP3 server to log in to before sending, when the authentication type "
            "is POP before send.",
        ),
        Setting(
            f"{server}.pop_port", "int", 110, "POP Po&rt:",
            "TCP port of the POP3 server, usually 110.",
            minimum=1, maximum=65535,
        ),
        Setting(
            f"{server}.oauth_provider", "choice", "microsoft365", "Identity pro&vider:",
            "Who issues the OAuth 2.0 token. Microsoft 365: an app registration's tenant, "
            "client id and client secret. Google Workspace: a service-account key with "
            "domain-wide delegation. Other provider: a token URL, client id, client secret "
            "and scope (client-credentials grant).",
            choices=PROVIDER_CHOICES,
        ),
        Setting(
            f"{server}.oauth_tenant_id", "tenant", "", "Tenant ID or do&main:",
            "Directory (tenant) ID of the Microsoft 365 app registration, a GUID, or the "
            "tenant's domain such as contoso.onmicrosoft.com.",
        ),
        Setting(
            f"{server}.oauth_client_id", "text", "", "Cli&ent ID:",
            "Application (client) ID of the app registration that may send mail.",
        ),
        Setting(
            f"{server}.oauth_token_url", "url", "", "To&ken URL:",
            "Token endpoint of the identity provider, an https:// URL. For Microsoft 365, "
            "leave it empty to use the global cloud's endpoint of the tenant; enter one for "
            "a national cloud.",
        ),
        Setting(
            f"{server}.oauth_scope", "text", "", "Scope &for SMTP:",
            "Scope to request, as the provider documents it for SMTP, for example "
            "https://outlook.office365.com/.default.",
        ),
        Setting(
            f"{server}.oauth_mailbox", "address", "", "Mailbo&x:",
            "Mailbox to send as: the XOAUTH2 user name, for example alerts@example.com. "
            "For Google Workspace it is the user the service account impersonates.",
        ),
    ]


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "general.errors_to", "recipients", [], "&Errors:",
        "Addresses that receive error alerts, separated by commas or semicolons. "
        'Display names are allowed: "Doe, Jane" <jane@example.com>.',
    ),
    Setting(
        "general.reports_to", "recipients", [], "&Reports/Stats:",
        "Addresses that receive reports and statistics, separated by commas or semicolons.",
    ),
    Setting(
        "general.from_address", "address", "", "&From address:",
        "Sender address of every message, for example alerts@example.com.",
    ),
    Setting(
        "general.from_name", "text", "", "From &name:",
        "Display name of the sender, for example Network Alerts. Optional.",
    ),
    Setting(
        "general.log_enabled", "bool", True, "&Keep a mail log",
        "Write a rotating log of every batch the mailer sends.",
    ),
    Setting(
        "general.log_verbose", "bool", False, "&Verbose log",
        "Add the whole SMTP conversation to the log, with credentials redacted.",
    ),
    Setting(
        "mailer.enabled", "bool", True, "&Mailer running",
        "A stopped mailer keeps its queue and sends nothing.",
    ),
    Setting(
        "mailer.send_interval_s", "int", 20, "Send &interval (seconds):",
        "Seconds the mailer waits before it sends the queued messages as one batch.",
        minimum=1, maximum=86400,
    ),
    Setting(
        "mailer.max_attempts", "int", 10, "Maximum a&ttempts:",
        "Tries without success before a message is parked as failed.",
        minimum=1, maximum=1000,
    ),
    *_server_settings("primary"),
    *_server_settings("secondary"),
)

_BY_KEY = {setting.key: setting for setting in SETTINGS}


def setting(key: str) -> Setting:
    """Return the declaration of a dotted key, or raise ``UnknownSettingError``."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownSettingError(key) from None


def keys() -> list[str]:
    """Return every dotted key, in declaration order."""
    return [declared.key for declared in SETTINGS]


def defaults() -> dict[str, Any]:
    """Return a fresh mapping of every key to its default value."""
    return {
        declared.key: list(declared.default) if isinstance(declared.default, list) else declared.default
        for declared in SETTINGS
    }


class ServerSettings(NamedTuple):
    """The settings of one SMTP server, as the dispatcher uses them."""

    name: str
    enabled: bool
    host: str
    port: int
    timeout_s: int
    security: str
    auth: str
    username: str
    pop_host: str
    pop_port: int
    oauth_provider: str = "microsoft365"
    oauth_tenant_id: str = ""
    oauth_client_id: str = ""
    oauth_token_url: str = ""
    oauth_scope: str = ""
    oauth_mailbox: str = ""

    @property
    def label(self) -> str:
        """Human name of the server for messages: 'primary' or 'secondary'."""
        return SERVER_TITLES.get(self.name, self.name)


class Settings(Mapping[str, Any]):
    """All settings as validated values, keyed by dotted key.

    Values are validated on assignment; two ``Settings`` compare equal when
    every value is equal, which is how the dialog decides whether Apply is
    enabled.
    """

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values = defaults()
        self._unchecked: set[str] = set()
        if values:
            for key, value in values.items():
                self[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = setting(key).validate(value)
        self._unchecked.discard(key)

    def set_unchecked(self, key: str, value: Any) -> None:
        """Assign an address or recipient list now and check its syntax later.

        Checking address syntax loads ``email_validator``, which the dialog
        cannot afford before its first frame. Only cheap checks run here (the
        type, and no CR or LF); ``check_unchecked`` runs the full ones.
        """
        declared = setting(key)
        if declared.kind not in ("address", "recipients"):
            self[key] = value
            return
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            raise SettingError(key, value, "must be text")
        for item in items:
            validation.reject_line_breaks(key, item)
        if declared.kind == "recipients":
            entries: list[str] = []
            for item in items:
                entries.extend(validation.split_address_list(item))
            self._values[key] = entries
        else:
            self._values[key] = value.strip()
        self._unchecked.add(key)

    @property
    def unchecked(self) -> frozenset[str]:
        """Keys assigned with ``set_unchecked`` whose full check has not run yet."""
        return frozenset(self._unchecked)

    def check_unchecked(self) -> list[SettingError]:
        """Run the full check of every unchecked key; invalid ones revert to defaults."""
        errors = []
        for key in sorted(self._unchecked):
            value = self._values[key]
            try:
                self[key] = value
            except SettingError as error:
                errors.append(error)
                self[key] = setting(key).default
        self._unchecked.clear()
        return errors

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Settings):
            return self._values == other._values
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Settings({self._values!r})"

    def copy(self) -> Settings:
        """Return an independent copy."""
        clone = Settings()
        clone._values = {
            key: list(value) if isinstance(value, list) else value
            for key, value in self._values.items()
        }
        clone._unchecked = set(self._unchecked)
        return clone

    def server(self, name: str) -> ServerSettings:
        """Return the settings of ``primary`` or ``secondary``."""
        if name not in SERVERS:
            raise ValueError(f"unknown server {name!r}: use primary or secondary")
        fields = ServerSettings._fields[1:]
        return ServerSettings(name, *(self._values[f"{name}.{field}"] for field in fields))

    def problems(self) -> list[SettingError]:
        """Return the rules that span several settings and are not met.

        A single value is checked when it is set; this checks what only makes
        sense together, such as an enabled server without a host.
        """
        found: list[SettingError] = []
        for name in SERVERS:
            server = self.server(name)
            if not server.enabled:
                continue
            if not server.host:
                found.append(SettingError(
                    f"{name}.host", "", "a server name or address is required while the server is used"))
            if server.auth == "oauth2":
                found.extend(_oauth_problems(server))
                continue
            if server.auth != "none" and not server.username:
                found.append(SettingError(
                    f"{name}.username", "", "a user name is required for this authentication type"))
            if server.auth == "pop_before_smtp" and not server.pop_host:
                found.append(SettingError(
                    f"{name}.pop_host", "", "a POP server is required for POP before send"))
        return found


_OAUTH_REQUIRED = {
    "oauth_tenant_id": "the directory (tenant) ID is required for Microsoft 365",
    "oauth_client_id": "the application (client) ID is required",
    "oauth_token_url": "the token URL of the identity provider is required",
    "oauth_scope": "the scope to request is required; the provider documents the one for SMTP",
}


def _oauth_problems(server: ServerSettings) -> list[SettingError]:
    """Return what an enabled server that signs in with OAuth 2.0 still lacks."""
    name = server.name
    found = []
    if server.security == "none":
        found.append(SettingError(
            f"{name}.security", "none",
            "OAuth 2.0 needs STARTTLS or Implicit TLS, because a token is never sent unencrypted"))
    shown = server_fields_shown("oauth2", server.oauth_provider)
    for field, reason in _OAUTH_REQUIRED.items():
        if field in shown and not getattr(server, field):
            if field == "oauth_token_url" and server.oauth_provider == "microsoft365":
                continue  # empty means the global Microsoft endpoint
            found.append(SettingError(f"{name}.{field}", "", reason))
    if not server.oauth_mailbox:
        found.append(SettingError(
            f"{name}.oauth_mailbox", "", "the mailbox to send as is required for OAuth 2.0"))
    return found
