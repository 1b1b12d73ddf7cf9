"""The E-mail Options dialog.

The dialog keeps two copies of the settings: ``saved``, what the settings
file holds, and ``working``, what the form shows. Every edit is validated by
the setting's declaration and, when valid, written to the working copy.
Whether Apply and Restore Defaults are enabled is computed from these copies
after every edit, never remembered as a flag.

The class is split by concept: ``DialogPages`` builds the tab pages and the
tab order, ``DialogSaving`` contains Apply, OK and Restore Defaults, and
``FirstFrameWork`` the work left until the first frame is on screen.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from alertmail.core.settings import SERVERS, SETTINGS, USUAL_PORTS, Settings, setting
from alertmail.core.store import LoadResult

from .binding import FieldBinding, read_or_error
from .colors import ERROR_COLOR, HINT_STYLE, WARNING_COLOR, banner_style, invalid_style
from .dialog_pages import DialogPages
from .dialog_saving import DialogSaving
from .fields import plain_label, set_text_color
from .first_frame import FirstFrameWork
from .general_tab import GeneralTab
from .notices import FIRST_RUN_HINT, delivery_warnings
from .titles import DIALOG_TITLE, PAGE_TITLES, PASSWORD_LABEL

if TYPE_CHECKING:
    from .mail_test_panel import MailTestPanel
    from .queue_tab import QueueTab
    from .server_tab import ServerTab

log = logging.getLogger(__name__)

DEFAULT_SIZE = (640, 640)
Button = QDialogButtonBox.StandardButton

BUTTON_HELP = {
    Button.Ok: "Save the changes and close the dialog (Enter).",
    Button.Cancel: "Close the dialog without saving the changes (Esc).",
    Button.Apply: "Save the changes and keep the dialog open.",
    Button.RestoreDefaults: "Fill the form with the default settings. Nothing is saved until OK or Apply.",
    Button.Help: "Open the help of this tab (F1). With a field selected, F1 opens the help at that field.",
}


class EmailOptionsDialog(DialogPages, DialogSaving, FirstFrameWork, QDialog):
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
        """Show ``loaded``; with ``first_tab``, build only that tab before the first frame.

        Without a settings file (a first run) and without ``first_tab``, the
        dialog opens on the Mail Server tab with a hint on what to fill in.
        """
        super().__init__(parent)
        self.setObjectName("emailOptionsDialog")
        self.setWindowTitle(DIALOG_TITLE)
        self._loaded = loaded
        self._saved = loaded.settings.copy()
        self._working = loaded.settings.copy()
        # A file whose invalid values were replaced by defaults differs from
        # what the form shows, so saving it is a change.
        self._file_outdated = bool(loaded.invalid)
        self._field_errors: dict[str, str] = {}
        self._port_chosen: dict[str, bool] = {}
        self._reset_port_tracking(self._working)
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
        self.first_run = not loaded.exists
        self._build_layout(loaded.problem)
        # The Test Email controller and the server pages' modules are loaded
        # with the first server page.
        self.tests: MailTestPanel | None = None

        if first_tab is None and self.first_run:
            first_tab = "primary"
        shown_first = [first_tab] if first_tab else list(self._page_order)
        for key in shown_first:
            self._build_page(key)
        if first_tab:
            self.select_tab(first_tab)
        self._show_model(self._working)
        self.installEventFilter(self)
        self.resize_within_screen(DEFAULT_SIZE)

    def resize_within_screen(self, size: tuple[int, int]) -> None:
        """Resize to ``size``, reduced to the screen's available area where it is larger."""
        from .window_state import clamp_size

        available = self.screen().availableGeometry()
        self.resize(*clamp_size(size, (available.width(), available.height())))

    # --- layout ------------------------------------------------------------------

    def _build_layout(self, problem: str | None) -> None:
        self.banner = QLabel(problem or "")
        self.banner.setObjectName("loadProblemBanner")
        self.banner.setWordWrap(True)
        if problem:
            self.banner.setStyleSheet(banner_style(self.banner.palette()))
        self.banner.setVisible(bool(problem))

        self.first_run_hint = QLabel(FIRST_RUN_HINT if self.first_run else "")
        self.first_run_hint.setObjectName("firstRunHint")
        self.first_run_hint.setWordWrap(True)
        if self.first_run:
            self.first_run_hint.setStyleSheet(HINT_STYLE)
        self.first_run_hint.setVisible(self.first_run)

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
        self.warning_summary = QLabel()
        self.warning_summary.setObjectName("warningSummary")
        set_text_color(self.warning_summary, WARNING_COLOR)
        self.warning_summary.setWordWrap(True)
        self.warning_summary.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.first_run_hint)
        layout.addWidget(self.tab_widget, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.warning_summary)
        layout.addWidget(self._build_buttons())

    def _build_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(
            Button.Ok | Button.Cancel | Button.Apply | Button.RestoreDefaults | Button.Help
        )
        # OK and Cancel have the standard keys Enter and Esc, and Help has F1.
        texts = {
            Button.Ok: ("OK", "okButton"),
            Button.Cancel: ("Cancel", "cancelButton"),
            Button.Apply: ("&Apply", "applyButton"),
            Button.RestoreDefaults: ("Restore &Defaults", "restoreDefaultsButton"),
            Button.Help: ("Help", "helpButton"),
        }
        for which, (text, name) in texts.items():
            button = self.buttons.button(which)
            button.setText(text)
            button.setObjectName(name)
            button.setToolTip(BUTTON_HELP[which])
            # Enter presses OK wherever the focus is, never the focused button.
            button.setAutoDefault(False)
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
        return self.buttons

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
        server, _, name = key.partition(".")
        if name == "port" and server in SERVERS:
            self._port_chosen[server] = True
        if error is not None:
            self._field_errors[key] = error.reason
        else:
            self._field_errors.pop(key, None)
            self._working[key] = value
            if name == "security" and server in SERVERS:
                self._follow_security(server, value)
            if name == "auth" and server in SERVERS:
                self._follow_auth(server, value)
        self.refresh_state()

    def _reset_port_tracking(self, values: Settings) -> None:
        """Count each server's port as chosen by hand only when it differs from its security's usual port."""
        for server in SERVERS:
            usual = USUAL_PORTS.get(values[f"{server}.security"])
            self._port_chosen[server] = values[f"{server}.port"] != usual

    def _follow_auth(self, server: str, auth: str) -> None:
        """Choose STARTTLS when OAuth 2.0 is chosen without encryption, because it needs one.

        The port follows as it does when the security is chosen by hand.
        """
        security_key = f"{server}.security"
        if auth != "oauth2" or self._working[security_key] != "none":
            return
        self._working[security_key] = "starttls"
        self.bindings[security_key].show("starttls")
        self._follow_security(server, "starttls")

    def _follow_security(self, server: str, security: str) -> None:
        """Move the port to the usual port of ``security`` unless the user edited it in this dialog."""
        port_key = f"{server}.port"
        if self._port_chosen[server] or port_key in self._field_errors:
            return
        port = USUAL_PORTS.get(security, self._working[port_key])
        if port != self._working[port_key]:
            self._working[port_key] = port
            self.bindings[port_key].show(port)

    @Slot()
    def _on_password_edited(self) -> None:
        for tab in self.server_tabs.values():
            typed = tab.password.typed()
            if "\r" in typed or "\n" in typed:
                self._field_errors[tab.password_key] = f"line breaks (CR or LF) are not allowed in a {tab.password.noun}"
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
        """True when OK or Apply would write something: settings, a password or a service-account key."""
        return self._working != self._saved or self._file_outdated or self._keyring_changes()

    def _keyring_changes(self) -> bool:
        """True when a typed password, a requested clear or a loaded key waits for OK or Apply."""
        return any(tab.password.pending() or tab.key_field.pending() for tab in self.server_tabs.values())

    def refresh_state(self) -> None:
        """Recompute the rows shown, the marks, the summary lines and which buttons are enabled."""
        # The problems counted are those of the rows shown, so the rows come first.
        for tab in self.server_tabs.values():
            tab.show_fields_for(self._working)
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
            style = invalid_style(tab.password.edit.palette()) if tab.password_key in by_key else ""
            if tab.password.edit.styleSheet() != style:
                tab.password.edit.setStyleSheet(style)

        if problems:
            key, reason = problems[0]
            self.summary.setText(f"{self._describe_key(key)}: {reason}")
        else:
            self.summary.setText("")
        self.summary.setVisible(bool(problems))
        self._show_delivery_warnings()

        if self.general_tab is not None:
            self.general_tab.update_enabled(self._working)
        self.ok_button.setEnabled(not problems)
        self.apply_button.setEnabled(not problems and self.has_changes())
        self.restore_button.setEnabled(
            self._working != Settings()
            or bool(self._field_errors)
            or self._keyring_changes()
        )
        if self.tests is not None:
            for server, tab in self.server_tabs.items():
                tab.update_enabled(self._working, test_allowed=self.tests.can_start(server, problems))
            self.tests.update_cancel_buttons()

    def _show_delivery_warnings(self) -> None:
        warnings = delivery_warnings(self._working)
        for key, page in self._built.items():
            if page is not self.queue_tab:
                page.show_delivery_warning(warnings.get(key))
        lines = list(dict.fromkeys(warnings.values()))
        text = "\n".join(lines)
        if self.warning_summary.text() != text:
            self.warning_summary.setText(text)
        self.warning_summary.setVisible(bool(lines))

    def _describe_key(self, key: str) -> str:
        section, _, name = key.partition(".")
        title = PAGE_TITLES.get(section, PAGE_TITLES["general"])
        if section in SERVERS and name == "password":
            tab = self.server_tabs.get(section)
            label = plain_label(tab.password_label.text() if tab is not None else PASSWORD_LABEL)
        else:
            label = setting(key).plain_label
        return f"{plain_label(title)} \N{RIGHTWARDS ARROW} {label}"

    # --- help and closing --------------------------------------------------------

    @Slot()
    def show_help(self) -> None:
        """Open the help of the current tab, at the focused field when there is one."""
        key = self.current_tab
        self._build_page(key)
        page = self._built[key]
        anchor = None
        widget = QApplication.focusWidget()
        while widget is not None and widget is not page and anchor is None:
            anchor = page.help_anchor(widget)
            widget = widget.parentWidget()
        if self._help is None:
            from .help import HelpDialog

            self._help = HelpDialog(self)
        self._help.show_tab(key, plain_label(PAGE_TITLES[key]), page.help_buttons(), anchor)

    def done(self, result: int) -> None:
        """Stop a running test or Send now batch and wait for its thread, remember the window, then close."""
        if self.tests is not None:
            self.tests.stop()
        if self.queue_tab is not None:
            self.queue_tab.shutdown()
        from .window_state import WindowState, save_window_state

        save_window_state(WindowState((self.width(), self.height()), self.current_tab))
        super().done(result)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Press the focused button on Enter; from anywhere else Enter presses OK.

        Only OK is a default button, so Enter in a field never opens Help. A
        focused button must still get its own Enter: Cancel must not save.
        """
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QPushButton

        focused = QApplication.focusWidget()
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and isinstance(focused, QPushButton)
            and focused.isEnabled()
            and self.isAncestorOf(focused)
        ):
            focused.click()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Read the queue again when the dialog becomes the active window."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() and self.queue_tab is not None:
            self.queue_tab.refresh()
