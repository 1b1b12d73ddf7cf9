"""The password field of a server tab.

The password is never read back into the field. When one is stored, the
field stays empty and its placeholder shows where the password is kept. Text
typed into the field replaces the stored password on OK or Apply, and "Clear
password" removes it then. Whether a password is stored is read from the
keyring after the dialog's first frame, because importing ``keyring`` and
loading its backend took longer than importing QtWidgets here (about 150 ms
against 65 ms, keyring 25.7 on a 2-core machine).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import NamedTuple

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from alertmail.core.errors import SecretStoreError
from alertmail.core.settings import CLIENT_SECRET_SUFFIXES

from .colors import WARNING_COLOR
from .fields import make_message_label, set_text_color
from .titles import PASSWORD_LABEL

log = logging.getLogger(__name__)

PASSWORD_HELP = (
    "Password for SMTP AUTH or the POP login. It is kept in the system keyring, "
    "never in the settings file. Leave the field empty to keep the stored password; "
    "type a new one to replace it."
)
CLIENT_SECRET_HELP = (
    "Client secret of the app registration, for OAuth 2.0 with Microsoft 365 or another "
    "provider. It is kept in the system keyring apart from the password, one per provider, "
    "never in the settings file. Leave the field empty to keep the stored secret; type a new "
    "one to replace it."
)
CLEAR_PENDING_TEXT = "Removed when you press OK or Apply"
# Short enough to fit the field at the dialog's default size; the label
# under the field names the keyring backend.
STORED_TEXT = "Stored \N{EM DASH} type to replace"
SHOW_TEXT = "S&how"
HIDE_TEXT = "&Hide"
NO_BACKEND_TEXT = (
    "No keyring backend is available, so passwords cannot be saved. "
    "Install and unlock a system keyring (for example GNOME Keyring or KWallet)."
)


class _Wording(NamedTuple):
    """The texts of the password field for one kind of secret."""

    name: str
    noun: str
    help: str
    clear_text: str


PASSWORD_WORDING = _Wording("Password", "password", PASSWORD_HELP, "Clear passw&ord")
# Every letter of "Clear secret" is a mnemonic of another OAuth 2.0 row, so the
# button reads "Clear stored secret" and keeps the o of Clear password.
CLIENT_SECRET_WORDING = _Wording("Client secret", "client secret", CLIENT_SECRET_HELP, "Clear st&ored secret")


class _Secret:
    """One keyring entry of the field: whether it is stored, and its unsaved edit."""

    __slots__ = ("entry", "wording", "stored", "typed", "clear")

    def __init__(self, entry: str, wording: _Wording) -> None:
        self.entry = entry
        self.wording = wording
        self.stored: bool | None = None
        self.typed = ""
        self.clear = False

    @property
    def clear_requested(self) -> bool:
        return self.clear and not self.typed

    def pending(self) -> bool:
        return bool(self.typed) or self.clear_requested


class PasswordField(QWidget):
    """A masked password input with a show toggle, a Clear button and the keyring's name.

    The field edits one keyring entry at a time: the server's SMTP password,
    or under OAuth 2.0 the client secret of the chosen provider
    (``<server>:oauth-secret-<provider>``). Each keeps its own unsaved text,
    so switching the authentication type or the provider never turns one
    secret into another. Typed text and a pending
    clear are edits like any other: they enable Apply until they are saved
    or undone.
    """

    edited = Signal()
    """Emitted with no payload when the typed text changes or Clear is pressed."""

    def __init__(self, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server = server
        self.setObjectName(f"passwordField_{server}")
        self._secrets = {"password": _Secret(server, PASSWORD_WORDING)}
        for provider, suffix in CLIENT_SECRET_SUFFIXES.items():
            self._secrets[provider] = _Secret(server + suffix, CLIENT_SECRET_WORDING)
        self._current = self._secrets["password"]
        self._backend: str | None = None
        self._backend_known = False

        self.edit = QLineEdit()
        self.edit.setObjectName(f"{server}.password")
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)

        self.show_button = QToolButton()
        self.show_button.setObjectName(f"showPassword_{server}")
        self.show_button.setText(SHOW_TEXT)
        self.show_button.setCheckable(True)

        self.clear_button = QToolButton()
        self.clear_button.setObjectName(f"clearPassword_{server}")
        self._apply_wording()

        self.keyring_label = make_message_label(f"keyringLabel_{server}", None)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.show_button)
        row.addWidget(self.clear_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.keyring_label)

        self.edit.textChanged.connect(self._on_text_changed)
        self.show_button.toggled.connect(self._on_show_toggled)
        self.clear_button.clicked.connect(self.request_clear)
        self._refresh()

    # --- state -----------------------------------------------------------------

    @property
    def entry(self) -> str:
        """The keyring entry the field edits now: ``<server>`` or ``<server>:oauth-secret-<provider>``."""
        return self._current.entry

    def typed(self) -> str:
        """Return the secret typed since the last save for the entry shown now, or ``""``."""
        return self._current.typed

    def unsaved(self) -> dict[str, str]:
        """Return the unsaved secrets by keyring entry: typed text, or ``""`` for one to be removed."""
        return {secret.entry: secret.typed for secret in self._secrets.values() if secret.pending()}

    @property
    def clear_requested(self) -> bool:
        """True when the stored secret shown now is to be removed on OK or Apply."""
        return self._current.clear_requested

    @property
    def stored(self) -> bool | None:
        """Whether the secret shown now is stored; ``None`` until the keyring was asked."""
        return self._current.stored

    def pending(self) -> bool:
        """True when saving would change the keyring: text typed or a clear requested, for either entry."""
        return any(secret.pending() for secret in self._secrets.values())

    @property
    def noun(self) -> str:
        """The kind of secret in the field, for messages: ``password`` or ``client secret``."""
        return self._current.wording.noun

    def use_secret(self, kind: str) -> None:
        """Show ``password``, or the client secret of provider ``kind``, each with its own text and state."""
        secret = self._secrets[kind]
        if secret is self._current:
            return
        self._current = secret
        self.edit.blockSignals(True)
        self.edit.setText(secret.typed)
        self.edit.blockSignals(False)
        self._apply_wording()
        self._refresh()

    def set_keyring_state(self, backend: str | None, stored: Mapping[str, bool]) -> None:
        """Record the keyring backend's name (``None``: no backend) and which entries are stored."""
        self._backend = backend
        self._backend_known = True
        for secret in self._secrets.values():
            secret.stored = bool(stored.get(secret.entry))
        self._refresh()

    def request_clear(self) -> None:
        """Empty the field and remove the stored secret shown now on the next save."""
        self._current.clear = self._current.stored is not False
        self._current.typed = ""
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._refresh()
        self.edited.emit()

    def reset(self) -> None:
        """Forget typed text and pending clears of both entries."""
        for secret in self._secrets.values():
            secret.typed = ""
            secret.clear = False
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._refresh()

    def saved(self, entry: str, stored: bool) -> None:
        """Record that ``entry`` was stored (True) or removed (False), and drop its edit."""
        for secret in self._secrets.values():
            if secret.entry == entry:
                secret.stored = stored
                secret.typed = ""
                secret.clear = False
                if secret is self._current:
                    self.edit.blockSignals(True)
                    self.edit.clear()
                    self.edit.blockSignals(False)
        self._refresh()

    def changes(self) -> list[tuple[str, str, str, bool | None]]:
        """Return ``(entry, typed text, noun, stored before)`` per entry with an unsaved change.

        An empty text means the stored secret is to be removed.
        """
        return [
            (secret.entry, secret.typed, secret.wording.noun, secret.stored)
            for secret in self._secrets.values()
            if secret.pending()
        ]

    # --- display ---------------------------------------------------------------

    def _apply_wording(self) -> None:
        wording = self._current.wording
        self.edit.setAccessibleName(wording.name)
        self.edit.setToolTip(wording.help)
        self.show_button.setAccessibleName(f"Show {wording.noun}")
        self.show_button.setToolTip(f"Show the typed {wording.noun} in plain text.")
        self.clear_button.setText(wording.clear_text)
        self.clear_button.setAccessibleName(f"Clear {wording.noun}")
        self.clear_button.setToolTip(
            f"Remove the stored {wording.noun} from the keyring when you press OK or Apply."
        )

    def _on_text_changed(self, text: str) -> None:
        self._current.typed = text
        self._refresh()
        self.edited.emit()

    def _on_show_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.edit.setEchoMode(mode)
        self.show_button.setText(HIDE_TEXT if shown else SHOW_TEXT)

    def _refresh(self) -> None:
        current = self._current
        if current.clear_requested:
            placeholder = CLEAR_PENDING_TEXT
        elif current.stored:
            placeholder = STORED_TEXT
        elif current.stored is False:
            placeholder = f"No {current.wording.noun} stored"
        else:
            placeholder = ""
        self.edit.setPlaceholderText(placeholder)
        can_clear = (bool(current.stored) and not current.clear) or bool(current.typed)
        self.clear_button.setEnabled(can_clear)

        if not self._backend_known:
            text, color = "", None
        elif self._backend is None:
            text, color = NO_BACKEND_TEXT, WARNING_COLOR
        else:
            text, color = f"{current.wording.name}s are kept in {self._backend}.", None
        self.keyring_label.setText(text)
        set_text_color(self.keyring_label, color)
        self.keyring_label.setVisible(bool(text))


def save_password_changes(fields: list[PasswordField], *, wrote_file: bool) -> list[tuple[str, str]]:
    """Store typed secrets and remove cleared ones; return ``(server, message)`` per rejected change.

    An entry with nothing typed and no clear requested keeps its stored
    secret. ``wrote_file`` is True when the other settings were just saved,
    which the message then states.
    """
    from alertmail.core import secrets

    rejected = []
    for field in fields:
        for entry, typed, noun, stored in field.changes():
            try:
                if typed:
                    secrets.store_password(entry, typed)
                    field.saved(entry, True)
                else:
                    secrets.clear_password(entry)
                    field.saved(entry, False)
            except SecretStoreError as error:
                log.warning("%s %s not changed in the keyring: %s", field.server, noun, error)
                message = _rejection_message(field.server, noun, stored, bool(typed), wrote_file, error)
                rejected.append((field.server, message))
    return rejected


def _rejection_message(
    server: str, noun: str, stored: bool | None, storing: bool, wrote_file: bool, error: Exception
) -> str:
    action = "stored" if storing else "removed"
    first = "The other settings were saved, but the" if wrote_file else "The"
    if stored:
        after = f"The {noun} stored before is unchanged and still used."
    elif stored is False:
        after = f"No {noun} is stored for this server."
    else:
        after = f"Whatever {noun} was stored before is unchanged."
    return f"{first} {noun} of the {server} server was not {action}: {error}. {after}"


def password_label(buddy: QLineEdit) -> QLabel:
    """Return the Password label, a buddy of the password input; OAuth 2.0 renames it Client secret."""
    label = QLabel(PASSWORD_LABEL)
    label.setBuddy(buddy)
    label.setObjectName(f"label:{buddy.objectName()}")
    return label
