"""Server passwords in the operating system's keyring.

Each server has one password, stored under service ``alertmail`` with the
server name (``primary`` or ``secondary``) as the user name. A server that
signs in with OAuth 2.0 keeps its client secret in the same entry, and a
Google service-account key under ``<server>:oauth-key``. None of them is
ever written anywhere else. ``keyring`` takes about as long to import as Qt
itself, so it is imported on first use, never at module import.

Every keyring failure is turned into a ``SecretStoreError`` subclass whose
message states what happened and what to do.
"""

from __future__ import annotations

import logging

from .errors import (
    KeyringLockedError,
    NoKeyringBackendError,
    PasswordReadError,
    PasswordWriteError,
    SecretStoreError,
)
from .settings import SERVERS

# The keyring user name of a Google service-account key (``oauth_config`` uses the same).
KEY_SUFFIX = ":oauth-key"
ENTRIES = (*SERVERS, *(server + KEY_SUFFIX for server in SERVERS))

SERVICE = "alertmail"

log = logging.getLogger(__name__)

_NO_BACKEND = (
    "no keyring backend is available, so no password can be stored; install and "
    "unlock a keyring (for example GNOME Keyring or KWallet on Linux, Windows "
    "Credential Manager, macOS Keychain)"
)


def _check_server(server: str) -> None:
    if server not in ENTRIES:
        raise ValueError(f"unknown server {server!r}: use primary or secondary")


def _describe(entry: str, noun: str | None) -> tuple[str, str, str]:
    """Return the server, the noun and the fix for the keyring entry ``entry``."""
    server, _, suffix = entry.partition(":")
    if suffix:
        return server, noun or "service-account key", (
            f"run 'alertmail config set-password {server} --key-file FILE'"
        )
    return server, noun or "SMTP password", (
        f"enter it on the server tab or run 'alertmail config set-password {server}'"
    )


def _backend():
    """Return the keyring backend in use, or raise ``NoKeyringBackendError``."""
    import keyring
    from keyring.backends import fail

    from keyring.backends import null

    backend = keyring.get_keyring()
    # The null backend accepts a password and discards it at once.
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        raise NoKeyringBackendError(_NO_BACKEND)
    if getattr(backend, "backends", None) == []:
        # A chainer with nothing to chain behaves like no backend at all.
        raise NoKeyringBackendError(_NO_BACKEND)
    return backend


def backend_name() -> str | None:
    """Return the name of the keyring backend that stores passwords, or ``None``."""
    try:
        backend = _backend()
    except NoKeyringBackendError:
        return None
    except Exception as error:  # a broken backend plugin must not stop the dialog
        log.warning("keyring backend could not be loaded: %s", error)
        return None
    return str(backend.name)


def _translate(error: Exception, action: str) -> SecretStoreError:
    """Map a ``keyring`` exception to alertmail's types with a plain reason."""
    from keyring import errors

    reason = str(error) or type(error).__name__
    if isinstance(error, errors.NoKeyringError):
        return NoKeyringBackendError(_NO_BACKEND)
    if isinstance(error, errors.KeyringLocked):
        return KeyringLockedError(
            f"the keyring is locked, so the password could not be {action}; "
            f"unlock it and try again ({reason})"
        )
    if isinstance(error, (errors.PasswordSetError, errors.PasswordDeleteError)):
        return PasswordWriteError(f"the keyring rejected the password ({reason})")
    return PasswordWriteError(f"the keyring failed ({reason})")


def read_password(server: str, noun: str | None = None) -> str:
    """Return the stored password of ``server``, or the secret of another keyring entry.

    ``server`` is a server name or one of ``ENTRIES``; ``noun`` names what
    is read in messages ("SMTP password" by default). Raises
    ``PasswordReadError`` when none is stored or it cannot be read, so a
    caller never sends an empty password or the text ``None``.
    """
    _check_server(server)
    name, noun, fix = _describe(server, noun)
    what = f"{noun} for the {name} server could not be read from the keyring"
    try:
        password = _backend().get_password(SERVICE, server)
    except NoKeyringBackendError as error:
        raise PasswordReadError(f"{what}: {error}") from None
    except Exception as error:
        raise PasswordReadError(f"{what}: {_translate(error, 'read')}") from None
    if not password:
        raise PasswordReadError(f"{what}: none is stored; {fix}")
    return password


def has_password(server: str) -> bool:
    """True when a password for ``server`` is stored; False when none is or none can be read."""
    _check_server(server)
    try:
        return bool(_backend().get_password(SERVICE, server))
    except Exception as error:
        log.info("stored %s password could not be checked: %s", server, error)
        return False


def store_password(server: str, password: str) -> None:
    """Store the password of ``server``, replacing any stored one."""
    _check_server(server)
    if not password:
        raise PasswordWriteError(
            "an empty password is not stored; use Clear password to remove the stored one"
        )
    try:
        _backend().set_password(SERVICE, server, password)
    except SecretStoreError:
        raise
    except Exception as error:
        raise _translate(error, "stored") from None
    log.info("%s password stored in the keyring", server)


def clear_password(server: str) -> None:
    """Remove the stored password of ``server``; removing a missing one is not an error."""
    _check_server(server)
    from keyring import errors

    backend = _backend()
    try:
        if backend.get_password(SERVICE, server) is None:
            return
        backend.delete_password(SERVICE, server)
    except errors.PasswordDeleteError as error:
        raise PasswordWriteError(f"the keyring did not remove the password ({error})") from None
    except Exception as error:
        raise _translate(error, "removed") from None
    log.info("%s password removed from the keyring", server)
