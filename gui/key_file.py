"""The service-account key row of a server tab, for OAuth 2.0 with Google Workspace.

A Google service account signs its token requests with the private key in
its JSON key file. The key lives in the keyring under ``<server>:oauth-key``
and never in the settings file. Load key file reads and checks a file and
keeps its text pending, like a typed password: it is stored on OK or Apply
and dropped on Cancel or Restore Defaults. The row shows only the service
account's e-mail address, never the key itself.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from alertmail.core.errors import SecretStoreError

from .colors import ERROR_COLOR
from .fields import make_message_label
from .titles import LOAD_KEY_TEXT

log = logging.getLogger(__name__)

KEY_HELP = (
    "Load the JSON key file of a Google service account with domain-wide delegation. "
    "The key is checked at once and kept in the system keyring when you press OK or Apply, "
    "never in the settings file. Only the service account's address is shown."
)
STORED_KEY_TEXT = "Stored in the keyring"
NO_KEY_TEXT = "No key stored"
FILE_FILTER = "JSON key files (*.json);;All files (*)"


def loaded_text(client_email: str) -> str:
    """Return the status text of a key loaded from a file but not saved yet."""
    return f"Loaded: {client_email}, saved on OK or Apply"


class ServiceAccountKeyField(QWidget):
    """The Load key file button, the key's status, and the reason a file was not loaded.

    A key read from a file is an edit like any other: it enables Apply until
    it is saved or dropped.
    """

    edited = Signal()
    """Emitted with no payload when a key file was loaded."""

    def __init__(self, server: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server = server
        self.setObjectName(f"keyField_{server}")
        self._stored: bool | None = None
        self._pending_text = ""
        self._pending_email = ""

        self.load_button = QPushButton(LOAD_KEY_TEXT)
        self.load_button.setObjectName(f"{server}.service_account_key")
        self.load_button.setAccessibleName("Load service-account key file")
        self.load_button.setToolTip(KEY_HELP)
        self.load_button.setAutoDefault(False)

        self.status = QLabel()
        self.status.setObjectName(f"keyStatus_{server}")
        self.status.setAccessibleName("Service-account key")
        self.status.setWordWrap(True)

        self.error_label = make_message_label(f"error:{server}.service_account_key", ERROR_COLOR)
        self.error_label.setVisible(False)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.load_button)
        row.addWidget(self.status, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.error_label)

        self.load_button.clicked.connect(self.choose_file)
        self._refresh()

    # --- state -----------------------------------------------------------------

    @property
    def entry(self) -> str:
        """The keyring user name of this server's key, ``<server>:oauth-key``."""
        from alertmail.core.secrets import KEY_SUFFIX

        return self.server + KEY_SUFFIX

    @property
    def stored(self) -> bool | None:
        """Whether a key is stored; ``None`` until the keyring was asked."""
        return self._stored

    def pending(self) -> bool:
        """True when a loaded key waits to be stored on OK or Apply."""
        return bool(self._pending_text)

    def pending_text(self) -> str:
        """Return the JSON text of the key loaded since the last save, or ``""``."""
        return self._pending_text

    def error(self) -> str:
        """Return why the last file was not loaded, or ``""``."""
        return self.error_label.text()

    def set_keyring_state(self, stored: bool) -> None:
        """Record whether the keyring contains a key for this server."""
        self._stored = stored
        self._refresh()

    def reset(self, *, stored: bool | None = None) -> None:
        """Drop a loaded key and the last load error; ``stored`` records whether the keyring contains a key."""
        if stored is not None:
            self._stored = stored
        self._pending_text = self._pending_email = ""
        self._show_error("")
        self._refresh()

    # --- loading ---------------------------------------------------------------

    @Slot()
    def choose_file(self) -> None:
        """Ask for a key file with a file dialog and load it."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Load service-account key", str(Path.home()), FILE_FILTER
        )
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path) -> bool:
        """Read and check the key file at ``path`` and keep it pending; return False when it was rejected.

        A rejected file leaves the loaded or stored key as it was, and the
        row shows why, naming the file.
        """
        from alertmail.core.oauth_config import read_key_file

        path = Path(path)
        try:
            text, key = read_key_file(str(path))
        except ValueError as error:
            log.info("%s service-account key not loaded: %s", self.server, error)
            reason = str(error)
            self._show_error(
                f"{reason[:1].upper()}{reason[1:]}. Nothing was loaded: choose the service account's JSON key file."
            )
            return False
        self._pending_text = text
        self._pending_email = key.client_email
        self._show_error("")
        self._refresh()
        log.info("%s service-account key of %s loaded from %s", self.server, key.client_email, path)
        self.edited.emit()
        return True

    # --- display ---------------------------------------------------------------

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
        self.load_button.setAccessibleDescription(text)

    def _refresh(self) -> None:
        if self._pending_text:
            text = loaded_text(self._pending_email)
        elif self._stored:
            text = STORED_KEY_TEXT
        elif self._stored is False:
            text = NO_KEY_TEXT
        else:
            text = ""
        self.status.setText(text)


def save_key_changes(fields: list[ServiceAccountKeyField], *, wrote_file: bool) -> list[tuple[str, str]]:
    """Store loaded keys in the keyring; return ``(server, message)`` per key that was not stored.

    ``wrote_file`` is True when the other settings were just saved, which the message then states.
    """
    from alertmail.core import secrets

    rejected = []
    for field in fields:
        if not field.pending():
            continue
        try:
            secrets.store_password(field.entry, field.pending_text())
        except SecretStoreError as error:
            log.warning("%s service-account key not stored in the keyring: %s", field.server, error)
            first = "The other settings were saved, but the" if wrote_file else "The"
            if field.stored:
                after = "The key stored before is unchanged and still used."
            else:
                after = "No key is stored for this server."
            rejected.append(
                (field.server, f"{first} service-account key of the {field.server} server was not stored: {error}. {after}")
            )
            continue
        field.reset(stored=True)
    return rejected
