"""Work the E-mail Options dialog leaves until its first frame is on screen.

Importing ``keyring``, ``email_validator`` and ``sqlite3``, building the
pages not shown, and loading the window icon all wait until the dialog has
painted once, so the first frame costs about what a bare dialog costs.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QLabel

from .colors import banner_style

log = logging.getLogger(__name__)

# Labels whose text a user may want to copy: reasons, the load problem, test results.
SELECTABLE_LABELS = (
    "error:", "loadProblemBanner", "problemSummary", "warningSummary", "testResult_", "keyringLabel_",
    "authWarning_", "deliveryWarning_",
)


class FirstFrameWork:
    """The first-frame hook of ``EmailOptionsDialog`` and the work it starts; a mixin."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Emit ``first_frame`` at the dialog's first paint and start the deferred work."""
        if watched is self and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            self.removeEventFilter(self)
            self.first_frame.emit()
            # Work that imports keyring waits until the first frame is on screen.
            QTimer.singleShot(0, self._after_first_frame)
        return super().eventFilter(watched, event)

    @Slot()
    def _after_first_frame(self) -> None:
        # Qt's namespace enums take about 15 ms to create in PySide6 6.12, so
        # messages become selectable only once the dialog is on screen.
        from PySide6.QtCore import Qt

        for label in self.findChildren(QLabel):
            if label.objectName().startswith(SELECTABLE_LABELS):
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.set_window_icon()
        self.build_all_pages()
        self.finish_address_checks()
        self.check_keyring()
        self.queue_tab.activate()

    def set_window_icon(self) -> None:
        """Give the dialog alertmail's icon, with every PNG size in one ``QIcon``."""
        from PySide6.QtCore import QSize
        from PySide6.QtGui import QIcon

        from alertmail import resources

        icon = QIcon()
        try:
            for size in resources.ICON_SIZES:
                icon.addFile(str(resources.icon_path(size)), QSize(size, size))
        except FileNotFoundError as error:
            log.warning("window icon not set: %s", error)
            return
        self.setWindowIcon(icon)

    @Slot()
    def finish_address_checks(self) -> None:
        """Run the address checks that loading left for after the first frame.

        Loading with deferred checks skips ``email_validator``; an address
        that turns out invalid reverts to its default, as it would have at
        load time, and the banner says so.
        """
        unchecked = self._loaded.settings.unchecked
        if not unchecked:
            return
        from alertmail.core.store import finish_checks

        finish_checks(self._loaded)
        for key in unchecked:
            value = self._loaded.settings[key]
            shown = self._working[key]
            self._saved[key] = value
            self._working[key] = value
            if shown != value:
                self.bindings[key].show(value)
        self._file_outdated = bool(self._loaded.invalid)
        if self._loaded.problem:
            self.banner.setText(self._loaded.problem)
            self.banner.setStyleSheet(banner_style(self.banner.palette()))
            self.banner.setVisible(True)
        self.refresh_state()

    @Slot()
    def check_keyring(self) -> None:
        """Ask the keyring for its backend, the stored passwords and service-account keys, once."""
        if self._keyring_checked:
            return
        self._keyring_checked = True
        from alertmail.core import secrets

        backend = secrets.backend_name()
        stored = {entry: secrets.has_password(entry) if backend else False for entry in secrets.ENTRIES}
        self._keyring_state = (backend, stored)
        for tab in self.server_tabs.values():
            tab.password.set_keyring_state(backend, stored)
            tab.key_field.set_keyring_state(stored[tab.key_field.entry])
        self.refresh_state()
        self.keyring_checked.emit()
