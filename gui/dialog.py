"""The E-mail Options dialog.

The dialog keeps two copies of the settings: ``saved``, what the settings
file holds, and ``working``, what the form shows. Every edit is validated by
the setting's declaration and, when valid, written to the working copy.
Whether Apply and Restore Defaults are enabled is computed from these copies
after every edit, never remembered as a flag.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from alertmail.core.errors import ConfigFileError
from alertmail.core.settings import SERVERS, SETTINGS, Settings, setting
from alertmail.core.store import LoadResult

from .binding import FieldBinding, bind_all, read_or_error
from .fields import ERROR_COLOR, INVALID_STYLE, plain_label, set_text_color
from .general_tab import GeneralTab
from .titles import PAGE_TITLES, PASSWORD_LABEL

if TYPE_CHECKING:
    from .mail_test_panel import MailTestPanel
    from .queue_tab import QueueTab
    from .server_tab import ServerTab

log = logging.getLogger(__name__)

TITLE = "E-mail Options"
BANNER_STYLE = (
    "background: #fff4ce; color: #3b2f00; border: 1px solid #e0c060; "
    "border-radius: 3px; padding: 6px;"
)
Button = QDialogButtonBox.StandardButton
# Labels whose text a user may want to copy: reasons, the load problem, test results.
SELECTABLE_LABELS = ("error:", "loadProblemBanner", "problemSummary", "testResult_", "keyringLabel_", "authWarning_")


class EmailOptionsDialog(QDialog):
    """The E-mail Options dialog: General, Mail Server, Secondary Mail Server and Queue tabs."""

    first_frame = Signal()
    """Emitted with no payload when the dialog is painted for the first time."""

    keyring_checked = Signal()
    """Emitted with no payload once the keyring backend and stored passwords are known."""

    saved = Signal(object)
    """The ``Settings`` just written to the settings file."""

    password_not_saved = Signal(str, str)
    """The server name and the message shown when the keyring rejected a password change."""

    def __init__(
        self, loaded: LoadResult, parent: QWidget | None = None, *, first_tab: str | None = None
    ) -> None:
        """Show ``loaded``; with ``first_tab``, build only that tab before the first frame."""
        super().__init__(parent)
        self.setObjectName("emailOptionsDialog")
        self.setWindowTitle(TITLE)
        self._loaded = loaded
        self._saved = loaded.settings.copy()
        self._working = loaded.settings.copy()
        # A file whose invalid values were replaced by defaults differs from
        # what the form shows, so saving it is a change.
        self._file_outdated = bool(loaded.invalid)
        self._field_errors: dict[str, str] = {}
        self._painted = False
        self._keyring_checked = False
        self._help = None

        self._keyring_state: tuple[str | None, dict[str, bool]] | None = None

        # Pages are built on demand: the first frame needs only the tab it
        # shows, and the rest are built right after it (see _after_first_frame).
        self.general_tab: GeneralTab | None = None
        self.server_tabs: dict[str, ServerTab] = {}
        self.queue_tab: QueueTab | None = None
        self._page_order = ("general", *SERVERS, "queue")
        self._built: dict[str, GeneralTab | ServerTab | QueueTab] = {}
        self.bindings: dict[str, FieldBinding] = {}
        self._build_layout(loaded.problem)
        # The Test Email controller and the server pages' modules are loaded
        # with the first server page.
        self.tests: MailTestPanel | None = None

        shown_first = [first_tab] if first_tab else list(self._page_order)
        for key in shown_first:
            self._build_page(key)
        if first_tab:
            self.select_tab(first_tab)
        self._show_model(self._working)
        self.installEventFilter(self)
        self.resize(560, 620)

    @property
    def pages(self) -> list[GeneralTab | ServerTab | QueueTab]:
        """The pages built so far, in tab order."""
        return [self._built[key] for key in self._page_order if key in self._built]

    def _build_page(self, key: str) -> None:
        """Build the page of tab ``key`` in place of its placeholder and bind its fields."""
        if key in self._built:
            return
        if key == "general":
            page: GeneralTab | ServerTab | QueueTab = GeneralTab()
        elif key == "queue":
            page = self._build_queue_page()
        else:
            from .mail_test_panel import MailTestPanel
            from .server_tab import ServerTab

            if self.tests is None:
                self.tests = MailTestPanel(self)
            page = ServerTab(key)
        self._built[key] = page
        if key in SERVERS:
            self.server_tabs[key] = page
            page.password.edited.connect(self._on_password_edited)
            self.tests.attach(key, page)
            if self._keyring_state is not None:
                backend, stored = self._keyring_state
                page.password.set_keyring_state(backend, stored[key])
        elif key == "general":
            self.general_tab = page

        new_bindings = bind_all(page.bindings())
        self.bindings.update(new_bindings)
        for binding in new_bindings.values():
            binding.on_edit(self._on_edit)
            binding.show(self._working[binding.key])

        index = self._page_order.index(key)
        current = self.tab_widget.currentIndex()
        self.tab_widget.blockSignals(True)
        placeholder = self.tab_widget.widget(index)
        self.tab_widget.removeTab(index)
        placeholder.deleteLater()
        self.tab_widget.insertTab(index, page, page.title)
        self.tab_widget.setCurrentIndex(current)
        self.tab_widget.blockSignals(False)
        chain = page.focus_chain()
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)

    def _build_queue_page(self) -> QueueTab:
        from .queue_tab import QueueTab

        page = QueueTab(self)
        self.queue_tab = page
        page.count_changed.connect(self._on_queue_count)
        # The queue is opened after the first frame; a page built later opens it at once.
        if self._painted:
            QTimer.singleShot(0, page.activate)
        return page

    @Slot(int)
    def _on_queue_count(self, _count: int) -> None:
        index = self._page_order.index("queue")
        self.tab_widget.setTabText(index, self.queue_tab.title)

    def build_all_pages(self) -> None:
        """Build every page not built yet."""
        missing = [key for key in self._page_order if key not in self._built]
        for key in missing:
            self._build_page(key)
        if missing:
            self.refresh_state()

    @Slot(int)
    def _on_current_tab(self, index: int) -> None:
        key = self._page_order[index]
        if key not in self._built:
            self._build_page(key)
            self.tab_widget.setCurrentIndex(index)
            self.refresh_state()

    # --- layout ------------------------------------------------------------------

    def _build_layout(self, problem: str | None) -> None:
        self.banner = QLabel(problem or "")
        self.banner.setObjectName("loadProblemBanner")
        self.banner.setWordWrap(True)
        if problem:
            self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setVisible(bool(problem))

        self.tab_widget = QTabWidget()
        self.tab_widget.setObjectName("tabs")
        for key in self._page_order:
            placeholder = QWidget()
            placeholder.setObjectName(f"placeholder_{key}")
            self.tab_widget.addTab(placeholder, PAGE_TITLES[key])
        self.tab_widget.currentChanged.connect(self._on_current_tab)

        self.summary = QLabel()
        self.summary.setObjectName("problemSummary")
        set_text_color(self.summary, ERROR_COLOR)
        self.summary.setWordWrap(True)

        self.buttons = QDialogButtonBox(
            Button.Ok | Button.Cancel | Button.Apply | Button.RestoreDefaults | Button.Help
        )
        texts = {
            Button.Ok: ("OK", "okButton"),
            Button.Cancel: ("Cancel", "cancelButton"),
            Button.Apply: ("&Apply", "applyButton"),
            Button.RestoreDefaults: ("Restore &Defaults", "restoreDefaultsButton"),
            Button.Help: ("&Help", "helpButton"),
        }
        for which, (text, name) in texts.items():
            self.buttons.button(which).setText(text)
            self.buttons.button(which).setObjectName(name)
        self.ok_button = self.buttons.button(Button.Ok)
        self.apply_button = self.buttons.button(Button.Apply)
        self.restore_button = self.buttons.button(Button.RestoreDefaults)
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self._on_ok)
        self.buttons.button(Button.Cancel).clicked.connect(self.reject)
        self.apply_button.clicked.connect(self.apply)
        self.restore_button.clicked.connect(self.restore_defaults)
        self.buttons.helpRequested.connect(self.show_help)
        QShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents), self, self.show_help)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tab_widget, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    def select_tab(self, key: str) -> None:
        """Show the tab called ``general``, ``primary``, ``secondary`` or ``queue``."""
        if key not in self._page_order:
            raise ValueError(f"unknown tab {key!r}: use {', '.join(self._page_order)}")
        self._build_page(key)
        self.tab_widget.setCurrentIndex(self._page_order.index(key))

    # --- the model ---------------------------------------------------------------

    @property
    def working(self) -> Settings:
        """A copy of the settings as the form shows them (valid values only)."""
        return self._working.copy()

    @property
    def saved_settings(self) -> Settings:
        """A copy of the settings as last read from or written to the file."""
        return self._saved.copy()

    def _show_model(self, values: Settings) -> None:
        for key, binding in self.bindings.items():
            binding.show(values[key])
        self._field_errors.clear()
        self.refresh_state()

    def _on_edit(self, key: str) -> None:
        value, error = read_or_error(self.bindings[key])
        if error is not None:
            self._field_errors[key] = error.reason
        else:
            self._field_errors.pop(key, None)
            previous = self._working[key]
            self._working[key] = value
            if key.endswith(".security"):
                self._follow_security(key.partition(".")[0], previous, value)
        self.refresh_state()

    def _follow_security(self, server: str, previous: str, new: str) -> None:
        port_key = f"{server}.port"
        if port_key in self._field_errors:
            return
        tab = self.server_tabs[server]
        port = tab.usual_port_after(previous, new, self._working[port_key])
        if port != self._working[port_key]:
            self._working[port_key] = port
            self.bindings[port_key].show(port)

    @Slot()
    def _on_password_edited(self) -> None:
        for tab in self.server_tabs.values():
            typed = tab.password.typed()
            if "\r" in typed or "\n" in typed:
                self._field_errors[tab.password_key] = "line breaks (CR or LF) are not allowed in a password"
            else:
                self._field_errors.pop(tab.password_key, None)
        self.refresh_state()

    def problems(self) -> list[tuple[str, str]]:
        """Return ``(key, reason)`` for every invalid field, in tab order, top to bottom."""
        cross = {}
        for error in self._working.problems():
            cross.setdefault(error.key, error.reason)
        found = []
        for key in self._field_keys_in_tab_order():
            reason = self._field_errors.get(key) or cross.get(key)
            if reason:
                found.append((key, reason))
        return found

    def _field_keys_in_tab_order(self) -> list[str]:
        keys = []
        for tab in self._page_order:
            page = self._built.get(tab)
            if page is not None:
                keys.extend(page.field_keys())
            else:
                # An unbuilt page has no field errors yet, only cross-field
                # problems, whose keys are all declared settings.
                keys.extend(declared.key for declared in SETTINGS if declared.section == tab)
        return keys

    def has_changes(self) -> bool:
        """True when OK or Apply would write something: settings or a password."""
        return (
            self._working != self._saved
            or self._file_outdated
            or any(tab.password.pending() for tab in self.server_tabs.values())
        )

    def refresh_state(self) -> None:
        """Recompute the marks, the summary line and which buttons are enabled."""
        problems = self.problems()
        by_key = dict(problems)
        for page in self.pages:
            if page is self.queue_tab:
                continue
            for key in page.rows.error_labels:
                page.rows.show_error(key, by_key.get(key))
        for key, binding in self.bindings.items():
            binding.mark(by_key.get(key))
        for tab in self.server_tabs.values():
            style = INVALID_STYLE if tab.password_key in by_key else ""
            if tab.password.edit.styleSheet() != style:
                tab.password.edit.setStyleSheet(style)

        if problems:
            key, reason = problems[0]
            self.summary.setText(f"{self._describe_key(key)}: {reason}")
        else:
            self.summary.setText("")
        self.summary.setVisible(bool(problems))

        if self.general_tab is not None:
            self.general_tab.update_enabled(self._working)
        self.ok_button.setEnabled(not problems)
        self.apply_button.setEnabled(not problems and self.has_changes())
        self.restore_button.setEnabled(
            self._working != Settings()
            or bool(self._field_errors)
            or any(tab.password.pending() for tab in self.server_tabs.values())
        )
        if self.tests is not None:
            for server, tab in self.server_tabs.items():
                tab.update_enabled(self._working, test_allowed=self.tests.can_start(server, problems))
            self.tests.update_cancel_buttons()

    def _describe_key(self, key: str) -> str:
        section, _, name = key.partition(".")
        title = PAGE_TITLES.get(section, PAGE_TITLES["general"])
        if section in SERVERS and name == "password":
            label = plain_label(PASSWORD_LABEL)
        else:
            label = setting(key).plain_label
        return f"{plain_label(title)} \N{RIGHTWARDS ARROW} {label}"

    # --- buttons -----------------------------------------------------------------

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
            self.saved.emit(self._saved.copy())
        passwords_saved = self._apply_passwords(wrote_file)
        self.refresh_state()
        return passwords_saved

    def _apply_passwords(self, wrote_file: bool) -> bool:
        fields = [tab.password for tab in self.server_tabs.values()]
        if not fields:
            return True
        from .password import save_password_changes

        rejected = save_password_changes(fields, wrote_file=wrote_file)
        for server, message in rejected:
            self.password_not_saved.emit(server, message)
            self._show_message("passwordErrorBox", message)
        return not rejected

    def _show_message(self, object_name: str, text: str) -> None:
        from PySide6.QtCore import Qt

        box = QMessageBox(QMessageBox.Icon.Warning, TITLE, text, QMessageBox.StandardButton.Ok, self)
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
        and Stop mailer change it.
        """
        self._working = Settings()
        self._working["mailer.enabled"] = self._saved["mailer.enabled"]
        for tab in self.server_tabs.values():
            tab.password.reset()
        self._show_model(self._working)

    @Slot()
    def show_help(self) -> None:
        """Open the help of the current tab."""
        key = self._page_order[self.tab_widget.currentIndex()]
        self._build_page(key)
        page = self._built[key]
        if self._help is None:
            from .help import HelpDialog

            self._help = HelpDialog(self)
        self._help.show_tab(plain_label(PAGE_TITLES[key]), page.help_entries())

    def done(self, result: int) -> None:
        """Stop a running test or Send now batch and wait for its thread, then close."""
        if self.tests is not None:
            self.tests.stop()
        if self.queue_tab is not None:
            self.queue_tab.shutdown()
        super().done(result)

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

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Read the queue again when the dialog becomes the active window."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() and self.queue_tab is not None:
            self.queue_tab.refresh()

    # --- after the first frame ---------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
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
        self.build_all_pages()
        self.finish_address_checks()
        self.check_keyring()
        self.queue_tab.activate()

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
            self.banner.setStyleSheet(BANNER_STYLE)
            self.banner.setVisible(True)
        self.refresh_state()

    @Slot()
    def check_keyring(self) -> None:
        """Ask the keyring for its backend and the stored passwords, once."""
        if self._keyring_checked:
            return
        self._keyring_checked = True
        from alertmail.core import secrets

        backend = secrets.backend_name()
        stored = {server: secrets.has_password(server) if backend else False for server in SERVERS}
        self._keyring_state = (backend, stored)
        for server, tab in self.server_tabs.items():
            tab.password.set_keyring_state(backend, stored[server])
        self.refresh_state()
        self.keyring_checked.emit()
