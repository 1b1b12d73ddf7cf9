"""Exception types of alertmail.

core/ turns errors from smtplib, socket, ssl, poplib and keyring into these
types, so callers (the dialog, the command line, the mailer) catch only what
is defined here and decide what to show.
"""

from __future__ import annotations

import enum


def seconds_text(seconds: float) -> str:
    """Return a duration for a message: "1 second", "2.5 seconds"."""
    return "1 second" if seconds == 1 else f"{seconds:g} seconds"


class AlertmailError(Exception):
    """Base class of every error alertmail raises on purpose."""


# --- settings ----------------------------------------------------------------


class SettingError(AlertmailError, ValueError):
    """A setting value is invalid.

    ``key`` is the dotted key (``primary.port``), ``value`` the rejected input
    and ``reason`` a sentence that states what is allowed or what to do.
    """

    def __init__(self, key: str, value: object, reason: str) -> None:
        self.key = key
        self.value = value
        self.reason = reason
        super().__init__(f"{key}: {value!r} is invalid: {reason}")


class UnknownSettingError(SettingError):
    """A dotted key that no setting declares."""

    def __init__(self, key: str, known: list[str] | None = None) -> None:
        hint = "run 'alertmail config show' to list the keys"
        if known:
            hint = "known keys are " + ", ".join(known)
        SettingError.__init__(self, key, key, hint)
        self.args = (f"unknown setting {key!r}: {hint}",)


class ConfigFileError(AlertmailError):
    """The settings file could not be written."""


# --- secrets -----------------------------------------------------------------


class SecretStoreError(AlertmailError):
    """Base class of keyring failures, whose message states what happened and why."""


class NoKeyringBackendError(SecretStoreError):
    """No usable keyring backend exists, so no password can be stored or read."""


class KeyringLockedError(SecretStoreError):
    """The keyring is locked and was not unlocked."""


class PasswordWriteError(SecretStoreError):
    """The keyring rejected storing or deleting a password."""


class PasswordReadError(SecretStoreError):
    """A stored password could not be read, or none is stored."""


# --- delivery ----------------------------------------------------------------


class Step(enum.Enum):
    """A step of one SMTP session, in the order they happen."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS = "TLS handshake"
    GREETING = "greeting"
    EHLO = "EHLO"
    STARTTLS = "STARTTLS"
    PASSWORD = "password"
    TOKEN = "token request"
    POP_LOGIN = "POP login"
    AUTH = "AUTH"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"
    QUIT = "QUIT"

    @property
    def before_mail(self) -> bool:
        """True for steps that come before the first ``MAIL FROM`` of a session."""
        return self in _BEFORE_MAIL


_BEFORE_MAIL = frozenset(
    {
        Step.RESOLVE,
        Step.CONNECT,
        Step.TLS,
        Step.GREETING,
        Step.EHLO,
        Step.STARTTLS,
        Step.PASSWORD,
        Step.TOKEN,
        Step.POP_LOGIN,
        Step.AUTH,
    }
)


class DeliveryError(AlertmailError):
    """An SMTP session failed at ``step``.

    ``code`` and ``reply`` are the server's reply when there was one (``None``
    and ``""`` otherwise); ``detail`` is the explanation in words, with a fix
    where one is likely. ``server`` names the server ("primary" or
    "secondary") when known.
    """

    def __init__(
        self,
        step: Step,
        detail: str,
        *,
        code: int | None = None,
        reply: str = "",
        server: str | None = None,
    ) -> None:
        self.step = step
        self.detail = detail
        self.code = code
        self.reply = reply
        self.server = server
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return one line: the step, the explanation and the server's reply."""
        text = f"{self.step.value} failed: {self.detail}"
        if self.code is not None:
            text += f" (server replied {self.code} {self.reply})".rstrip()
        elif self.reply:
            text += f" (server replied {self.reply})"
        return text


class ConnectFailure(DeliveryError):
    """The server could not be used: a failure before the first ``MAIL FROM``.

    Under the failover rules this is "cannot connect": the secondary server
    is tried at once.
    """


class ConnectionLost(DeliveryError):
    """An established session was closed or reset, got a 421 reply, or went silent.

    Under the failover rules the mailer waits one send interval and tries the
    same server again.
    """


class DeliveryCancelled(DeliveryError):
    """The session was cancelled by the user."""


class NoServerEnabledError(AlertmailError):
    """Neither the primary nor the secondary server is enabled."""

    def __init__(self) -> None:
        super().__init__(
            "no mail server is enabled: tick 'Use this server' on the Mail Server "
            "or Secondary Mail Server tab (primary.enabled or secondary.enabled)"
        )
