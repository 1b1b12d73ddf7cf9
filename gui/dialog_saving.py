"""Saving from the E-mail Options dialog: Apply, OK, Restore Defaults and single keys saved at once.

The settings file is written only when a setting changed, and then only the
changed keys, so a value that another program saved meanwhile stays.
Passwords, client secrets and service-account keys go to the keyring, never
to the file.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QMessageBox

from alertmail.core.errors import ConfigFileError
from alertmail.core.settings import Settings

from .titles import DIALOG_TITLE

log = logging.getLogger(__name__)


class DialogSaving:
    """Apply, OK, Restore Defaults and ``write_setting_now`` of ``EmailOptionsDialog``; a mixin."""

    @Slot()
    def apply(self) -> bool:
        """Save what changed; return True when everything was saved.

        The settings file is written only when a setting changed. Passwords
        go to the keyring: typed text replaces the stored password, a
        requested clear removes it, and an untouched field leaves it as is.
        """
        if self.problems():
            return False
        wrote_file = False
        if self._working != self._saved or self._file_outdated:
            from alertmail.core.store import save_settings

            # Only the changed keys are written, so a value that another
            # program saved meanwhile stays. A file whose invalid values
            # loaded as defaults is written whole.
            changed = None
            if not self._file_outdated:
                changed = [key for key in self._working if self._working[key] != self._saved[key]]
            try:
                save_settings(self._working, only_keys=changed)
            except ConfigFileError as error:
                log.error("settings could not be saved: %s", error)
                self._show_message("settingsErrorBox", f"The settings were not saved: {error}")
                return False
            self._saved = self._working.copy()
            self._file_outdated = False
            wrote_file = True
            self.first_run_hint.setVisible(False)
            self.saved.emit(self._saved.copy())
        passwords_saved = self._apply_passwords(wrote_file)
        self.refresh_state()
        return passwords_saved

    def _apply_passwords(self, wrote_file: bool) -> bool:
        tabs = list(self.server_tabs.values())
        if not tabs:
            return True
        from .key_file import save_key_changes
        from .password import save_password_changes

        rejected = save_password_changes([tab.password for tab in tabs], wrote_file=wrote_file)
        rejected += save_key_changes([tab.key_field for tab in tabs], wrote_file=wrote_file)
        for server, message in rejected:
            self.password_not_saved.emit(server, message)
            self._show_message("passwordErrorBox", message)
        return not rejected

    def _show_message(self, object_name: str, text: str) -> None:
        from PySide6.QtCore import Qt

        box = QMessageBox(QMessageBox.Icon.Warning, DIALOG_TITLE, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName(object_name)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @Slot()
    def _on_ok(self) -> None:
        if self.apply():
            self.accept()

    @Slot()
    def restore_defaults(self) -> None:
        """Fill the form with the default settings; nothing is saved until OK or Apply.

        ``mailer.enabled`` keeps its saved value, because only Start mailer
        and Stop mailer change it. Every port counts as not edited again, so
        choosing a connection security moves it to its usual value.
        """
        self._working = Settings()
        self._working["mailer.enabled"] = self._saved["mailer.enabled"]
        for tab in self.server_tabs.values():
            tab.password.reset()
            tab.key_field.reset()
        self._reset_port_tracking(self._working)
        self._show_model(self._working)

    def write_setting_now(self, key: str, value: Any) -> str | None:
        """Save ``key`` = ``value`` in the settings file at once; return why it failed, or ``None``.

        Only ``key`` is written: every other value in the file stays as it
        is, and no other unsaved edit of the form is saved. The saved and
        working copies of ``key`` follow, so no other edit is lost either. A
        file that does not parse is left as it is.
        """
        import tomllib

        from alertmail.core.store import config_path, save_settings

        path = config_path()
        try:
            if path.exists():
                tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            log.warning("setting %s not saved: the settings file %s could not be read: %s", key, path, error)
            return (
                f"the settings file {path} could not be read ({error}). Fix the file, "
                "or press Apply to save this dialog's settings first."
            )
        values = self._saved.copy()
        values[key] = value
        try:
            save_settings(values, only_keys=[key])
        except ConfigFileError as error:
            log.error("setting %s could not be saved: %s", key, error)
            return f"the settings file could not be written: {error}"
        log.info("%s = %r saved", key, value)
        self._saved[key] = value
        self._working[key] = value
        if key in self.bindings:
            self.bindings[key].show(value)
        self.refresh_state()
        return None
