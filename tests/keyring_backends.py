"""Keyring backends that fail the way real desktop keyrings fail.

Each wraps a real file-backed keyring, so what works still works, and only
the failing operation behaves like a locked, broken or read-only keyring.
"""

from __future__ import annotations

import keyring
from keyring import errors
from keyrings.alt.file import PlaintextKeyring


class LockedKeyring(PlaintextKeyring):
    """A keyring whose unlock prompt the user dismissed: every read raises."""

    def get_password(self, service, username):
        raise errors.KeyringLocked("Failed to unlock the collection!")


class EmptyReadKeyring(PlaintextKeyring):
    """A keyring that returns None, as a service account sees the desktop user's keyring."""

    def get_password(self, service, username):
        return None


class ReadOnlyKeyring(PlaintextKeyring):
    """A keyring that keeps its stored passwords but rejects every write."""

    def set_password(self, service, username, password):
        raise errors.PasswordSetError("Access denied by the keyring daemon")

    def delete_password(self, service, username):
        raise errors.PasswordDeleteError("Access denied by the keyring daemon")


class SizeLimitedKeyring(PlaintextKeyring):
    """A keyring that rejects a secret over 2,560 bytes of UTF-16, as Windows Credential Manager does.

    CredWrite fails with error 1783 ("The stub received bad data") for such a
    secret; keyring passes that on as an ``OSError``.
    """

    limit_bytes = 2560

    def set_password(self, service, username, password):
        if len(password.encode("utf-16-le")) > self.limit_bytes:
            raise OSError(1783, "CredWrite", "The stub received bad data.")
        super().set_password(service, username, password)


def install(backend_class, like: PlaintextKeyring) -> PlaintextKeyring:
    """Install ``backend_class`` over the same file as ``like``; return it."""
    backend = backend_class()
    backend.file_path = like.file_path
    keyring.set_keyring(backend)
    return backend
