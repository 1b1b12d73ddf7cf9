"""Server passwords in the operating system's keyring.

Each server has one password, stored under service ``alertmail`` with the
server name (``primary`` or ``secondary``) as the user name. A server that
signs in with OAuth 2.0 keeps its client secret under
``<server>:oauth-secret-<provider>`` and a Google service-account key under
``<server>:oauth-key``. None of them is
ever written anywhere else. ``keyring`` takes about as long to import as Qt
itself, so it is imported on first use, never at module import.

Every keyring failure is turned into a ``SecretStoreError`` subclass whose
message states what happened and what to do.
"""

from __future__ import annotations

import logging
import re
import secrets as _random

from .errors import (
    KeyringLockedError,
    NoKeyringBackendError,
    PasswordReadError,
    PasswordWriteError,
    SecretStoreError,
)
from .settings import CLIENT_SECRET_SUFFIXES, SERVERS
from .settings import SERVICE_ACCOUNT_KEY_SUFFIX as KEY_SUFFIX

ENTRIES = (
    *SERVERS,
    *(server + suffix for suffix in (*CLIENT_SECRET_SUFFIXES.values(), KEY_SUFFIX) for server in SERVERS),
)

# Windows Credential Manager keeps at most 2,560 bytes per credential
# (CRED_MAX_CREDENTIAL_BLOB_SIZE) and stores text as UTF-16, so 1,280
# characters (640 outside the Basic Multilingual Plane, which takes four
# bytes), while a service-account key has about 2,300. A longer secret is
# stored in parts of at most PART_CHARS under ``<entry>#<generation>.<n>``, and
# the entry itself contains a header naming the generation and the number of
# parts. NOTE: tested against a backend that imitates the Windows limit, never on Windows.
PART_CHARS = 600
_HEADER = re.compile(r"^alertmail-parts:([0-9a-f]{8}):([1-9][0-9]{0,3})$")

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


def _describe(entry: str) -> tuple[str, str, str]:
    """Return the server, the name of the secret and the fix for the keyring entry ``entry``."""
    server, _, suffix = entry.partition(":")
    if ":" + suffix == KEY_SUFFIX:
        return server, "service-account key", (
            f"run 'alertmail config set-password {server} --key-file FILE'"
        )
    if ":" + suffix in CLIENT_SECRET_SUFFIXES.values():
        return server, "OAuth 2.0 client secret", (
            f"enter it on the server tab or run 'alertmail config set-password {server}'"
        )
    return server, "SMTP password", (
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


def read_password(server: str) -> str:
    """Return the stored password of ``server``, or the secret of another keyring entry.

    ``server`` is a server name or one of ``ENTRIES``. Its suffix decides
    what messages call the secret (SMTP password, client secret, key). Raises
    ``PasswordReadError`` when none is stored or it cannot be read, so a
    caller never sends an empty password or the text ``None``.
    """
    _check_server(server)
    name, noun, fix = _describe(server)
    what = f"{noun} for the {name} server could not be read from the keyring"
    try:
        password = _read(_backend(), server)
    except NoKeyringBackendError as error:
        raise PasswordReadError(f"{what}: {error}") from None
    except PasswordReadError as error:
        raise PasswordReadError(f"{what}: {error}; {fix}") from None
    except Exception as error:
        raise PasswordReadError(f"{what}: {_translate(error, 'read')}") from None
    if not password:
        raise PasswordReadError(f"{what}: none is stored; {fix}")
    return password


def has_password(server: str) -> bool:
    """True when a password for ``server`` is stored; False when none is or none can be read."""
    _check_server(server)
    try:
        return bool(_read(_backend(), server))
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
        _write(_backend(), server, password)
    except SecretStoreError:
        raise
    except Exception as error:
        raise _translate(error, "stored") from None
    log.info("%s password stored in the keyring", server)


def clear_password(server: str) -> bool:
    """Remove the stored password of ``server``, parts included; return False when none was stored.

    Removing a missing one is not an error.
    """
    _check_server(server)
    from keyring import errors

    backend = _backend()
    try:
        stored = backend.get_password(SERVICE, server)
        if stored is None:
            return False
        backend.delete_password(SERVICE, server)
        _delete_parts(backend, server, stored)
    except errors.PasswordDeleteError as error:
        raise PasswordWriteError(f"the keyring did not remove the password ({error})") from None
    except Exception as error:
        raise _translate(error, "removed") from None
    log.info("%s password removed from the keyring", server)
    return True


def _part_names(entry: str, header: str | None) -> list[str]:
    """Return the keyring user names of the parts that ``header`` names, or ``[]``."""
    found = _HEADER.match(header or "")
    if found is None:
        return []
    generation, count = found.group(1), int(found.group(2))
    return [f"{entry}#{generation}.{number}" for number in range(1, count + 1)]


def _read(backend, entry: str) -> str | None:
    """Return the secret of ``entry``, joined from its parts when it was stored in parts."""
    stored = backend.get_password(SERVICE, entry)
    names = _part_names(entry, stored)
    if not names:
        return stored
    parts = [backend.get_password(SERVICE, name) for name in names]
    if any(part is None for part in parts):
        raise PasswordReadError(f"only {sum(part is not None for part in parts)} of its {len(parts)} parts are stored")
    return "".join(parts)


def _write(backend, entry: str, text: str) -> None:
    """Store ``text`` under ``entry``, in parts when it is longer than ``PART_CHARS``.

    New parts get a new generation and are written before the header, so a
    failure part-way leaves the secret stored before readable.
    """
    previous = backend.get_password(SERVICE, entry)
    # A short secret that reads like a header is stored as one part, so it is never taken for one.
    if len(text) <= PART_CHARS and not _HEADER.match(text):
        backend.set_password(SERVICE, entry, text)
    else:
        count = -(-len(text) // PART_CHARS)
        old = _HEADER.match(previous or "")
        generation = _random.token_hex(4)
        while old is not None and generation == old.group(1):
            generation = _random.token_hex(4)
        header = f"alertmail-parts:{generation}:{count}"
        for name, start in zip(_part_names(entry, header), range(0, len(text), PART_CHARS)):
            backend.set_password(SERVICE, name, text[start:start + PART_CHARS])
        backend.set_password(SERVICE, entry, header)
    _delete_parts(backend, entry, previous)


def _delete_parts(backend, entry: str, header: str | None) -> None:
    """Remove the parts that ``header`` named; a part already gone is skipped."""
    for name in _part_names(entry, header):
        try:
            backend.delete_password(SERVICE, name)
        except Exception as error:  # a leftover part is unreachable, so only log it
            log.info("keyring part %s not removed: %s", name, error)
