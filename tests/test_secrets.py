"""Server passwords in a real keyring backend."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

import keyring_backends
from alertmail.core import secrets
from alertmail.core.errors import (
    KeyringLockedError,
    NoKeyringBackendError,
    PasswordReadError,
    PasswordWriteError,
)


def test_store_and_read_exact_password(test_keyring):
    secrets.store_password("primary", "S3cret!")
    assert secrets.read_password("primary") == "S3cret!"
    assert test_keyring.get_password("alertmail", "primary") == "S3cret!"
    assert secrets.has_password("primary") is True
    assert secrets.has_password("secondary") is False


def test_non_ascii_password_round_trip():
    secrets.store_password("secondary", "Pässwörd€1")
    assert secrets.read_password("secondary") == "Pässwörd€1"


def test_missing_password_is_an_error_not_empty():
    with pytest.raises(PasswordReadError) as raised:
        secrets.read_password("primary")
    message = str(raised.value)
    assert message.startswith("SMTP password for the primary server could not be read from the keyring")
    assert "alertmail config set-password primary" in message


def test_none_from_backend_is_an_error(test_keyring):
    secrets.store_password("primary", "S3cret!")
    keyring_backends.install(keyring_backends.EmptyReadKeyring, test_keyring)
    with pytest.raises(PasswordReadError) as raised:
        secrets.read_password("primary")
    assert "could not be read from the keyring" in str(raised.value)


def test_locked_keyring_read(test_keyring):
    keyring_backends.install(keyring_backends.LockedKeyring, test_keyring)
    with pytest.raises(PasswordReadError) as raised:
        secrets.read_password("primary")
    message = str(raised.value)
    assert "SMTP password for the primary server could not be read from the keyring" in message
    assert "locked" in message


def test_no_backend():
    keyring.set_keyring(fail.Keyring())
    assert secrets.backend_name() is None
    with pytest.raises(NoKeyringBackendError) as raised:
        secrets.store_password("primary", "S3cret!")
    assert "no keyring backend is available" in str(raised.value)
    with pytest.raises(PasswordReadError):
        secrets.read_password("primary")


def test_rejected_write_keeps_old_password(test_keyring):
    secrets.store_password("primary", "S3cret!")
    keyring_backends.install(keyring_backends.ReadOnlyKeyring, test_keyring)
    with pytest.raises(PasswordWriteError) as raised:
        secrets.store_password("primary", "new-one")
    assert "Access denied by the keyring daemon" in str(raised.value)
    assert secrets.read_password("primary") == "S3cret!"


def test_locked_keyring_write_is_typed(test_keyring):
    class LockedForWrites(type(test_keyring)):
        def set_password(self, service, username, password):
            raise keyring.errors.KeyringLocked("collection is locked")

    keyring_backends.install(LockedForWrites, test_keyring)
    with pytest.raises(KeyringLockedError) as raised:
        secrets.store_password("primary", "x")
    assert "unlock it and try again" in str(raised.value)


def test_clear_password(test_keyring):
    secrets.store_password("primary", "S3cret!")
    secrets.clear_password("primary")
    assert test_keyring.get_password("alertmail", "primary") is None
    secrets.clear_password("primary")


def test_empty_password_not_stored():
    with pytest.raises(PasswordWriteError) as raised:
        secrets.store_password("primary", "")
    assert "Clear password" in str(raised.value)


def test_backend_name_names_the_backend():
    assert secrets.backend_name() == "file PlaintextKeyring"


def test_unknown_server_rejected():
    with pytest.raises(ValueError):
        secrets.read_password("tertiary")


def test_null_backend_counts_as_none():
    from keyring.backends import null

    keyring.set_keyring(null.Keyring())
    assert secrets.backend_name() is None
    with pytest.raises(NoKeyringBackendError):
        secrets.store_password("primary", "S3cret!")


def test_long_secret_stored_in_parts(test_keyring, service_account):
    backend = keyring_backends.install(keyring_backends.SizeLimitedKeyring, test_keyring)
    key_json = service_account("https://127.0.0.1:1/token").key_json
    assert len(key_json.encode("utf-16-le")) > backend.limit_bytes

    secrets.store_password("primary:oauth-key", key_json)

    assert secrets.read_password("primary:oauth-key") == key_json
    assert secrets.has_password("primary:oauth-key")
    header = backend.get_password(secrets.SERVICE, "primary:oauth-key")
    assert header.startswith("alertmail-parts:")


def test_size_limit_would_reject_whole_key(test_keyring, service_account):
    backend = keyring_backends.install(keyring_backends.SizeLimitedKeyring, test_keyring)
    key_json = service_account("https://127.0.0.1:1/token").key_json

    with pytest.raises(OSError):
        backend.set_password(secrets.SERVICE, "whole", key_json)


def test_replacing_parted_secret_removes_old_parts(test_keyring, service_account):
    first = service_account("https://127.0.0.1:1/token").key_json
    second = service_account("https://127.0.0.1:2/token").key_json
    secrets.store_password("secondary:oauth-key", first)
    first_header = test_keyring.get_password(secrets.SERVICE, "secondary:oauth-key")

    secrets.store_password("secondary:oauth-key", second)

    assert secrets.read_password("secondary:oauth-key") == second
    old_generation = first_header.split(":")[1]
    assert test_keyring.get_password(secrets.SERVICE, f"secondary:oauth-key#{old_generation}.1") is None


def test_short_secret_after_parted_one(test_keyring, service_account):
    secrets.store_password("primary:oauth-key", service_account("https://127.0.0.1:1/token").key_json)
    header = test_keyring.get_password(secrets.SERVICE, "primary:oauth-key")

    secrets.store_password("primary:oauth-key", "short")

    assert secrets.read_password("primary:oauth-key") == "short"
    assert test_keyring.get_password(secrets.SERVICE, f"primary:oauth-key#{header.split(':')[1]}.1") is None


def test_clear_removes_every_part(test_keyring, service_account):
    secrets.store_password("primary:oauth-key", service_account("https://127.0.0.1:1/token").key_json)
    header = test_keyring.get_password(secrets.SERVICE, "primary:oauth-key")
    generation, count = header.split(":")[1], int(header.split(":")[2])

    secrets.clear_password("primary:oauth-key")

    assert not secrets.has_password("primary:oauth-key")
    for number in range(1, count + 1):
        assert test_keyring.get_password(secrets.SERVICE, f"primary:oauth-key#{generation}.{number}") is None


def test_missing_part_is_a_clear_error(test_keyring, service_account):
    secrets.store_password("primary:oauth-key", service_account("https://127.0.0.1:1/token").key_json)
    generation = test_keyring.get_password(secrets.SERVICE, "primary:oauth-key").split(":")[1]
    test_keyring.delete_password(secrets.SERVICE, f"primary:oauth-key#{generation}.2")

    with pytest.raises(PasswordReadError) as raised:
        secrets.read_password("primary:oauth-key")

    message = str(raised.value)
    assert "service-account key for the primary server could not be read" in message
    assert "parts are stored" in message
    assert "--key-file FILE" in message


def test_header_lookalike_secret_round_trip(test_keyring):
    secrets.store_password("primary", "alertmail-parts:deadbeef:2")

    assert secrets.read_password("primary") == "alertmail-parts:deadbeef:2"


def test_damaged_parted_secret_can_be_cleared(test_keyring, service_account):
    secrets.store_password("primary:oauth-key", service_account("https://127.0.0.1:1/token").key_json)
    generation = test_keyring.get_password(secrets.SERVICE, "primary:oauth-key").split(":")[1]
    test_keyring.delete_password(secrets.SERVICE, f"primary:oauth-key#{generation}.2")

    assert secrets.clear_password("primary:oauth-key") is True

    assert test_keyring.get_password(secrets.SERVICE, "primary:oauth-key") is None
    assert test_keyring.get_password(secrets.SERVICE, f"primary:oauth-key#{generation}.1") is None


def test_non_bmp_secret_fits_windows_limit(test_keyring):
    backend = keyring_backends.install(keyring_backends.SizeLimitedKeyring, test_keyring)
    secret = "\N{GRINNING FACE}" * 1500

    secrets.store_password("primary:oauth-secret-microsoft365", secret)

    assert secrets.read_password("primary:oauth-secret-microsoft365") == secret
    assert backend.get_password(secrets.SERVICE, "primary:oauth-secret-microsoft365").startswith("alertmail-parts:")
