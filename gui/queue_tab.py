"""The Queue tab: the messages in the queue, the mailer's status and its controls.

The tab opens no database until the dialog calls ``activate`` after its
first frame, and creates none: until ``alertmail send`` or a mailer has
created the database, the queue is shown as empty. From then on the tab
reads the queue every second while it is shown, so it follows what a
running mailer or ``alertmail send`` changes.

In WAL mode a reader does not wait for a writer's transaction, and the
tab's connection waits at most ``BUSY_TIMEOUT_S`` for another process's
write. While the tab is hidden, only the count in its title is refreshed,
every ``HIDDEN_COUNT_TICKS`` ticks. Reading 1,000 messages took 11 to 15 ms
on a 2-core virtual machine, so the reads stay on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from alertmail.core.queue_records import QueueError, QueuedMessage

from .colors import ERROR_COLOR
from .fields import WrappedLabel, set_text_color
from .mailer_controls import SEND_NOW_HELP, START_HELP, STOP_HELP, MailerControls, SettingsHost
from .queue_columns import ColumnFitter
from .queue_model import EDITABLE_STATES, PENDING_STATES, QueueTableModel
from .titles import QUEUE_TITLE

if TYPE_CHECKING:
    from .help import HelpEntry

log = logging.getLogger(__name__)

REFRESH_MS = 1000
HIDDEN_COUNT_TICKS = 5
BUSY_TIMEOUT_S = 1.0

TABLE_HELP = (
    "The messages waiting to be sent or parked as failed, oldest first. Double-click the From, "
    "Recipients or Subject of a queued or failed message, or press F2, to change it."
)
RESET_HELP = "Queue the selected messages again with their attempts set to 0, so the mailer tries them again."
DELETE_HELP = "Delete the selected messages from the queue, after a confirmation. Deleted messages are never sent."
SHOW_SENT_HELP = "Also list the messages already sent."


def _button(text: str, object_name: str, tooltip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setToolTip(tooltip)
    button.setAutoDefault(False)
    return button


class QueueTab(QWidget):
    """The queue as an editable table, with the mailer's status and controls."""

    tab_key = "queue"

    count_changed = Signal(int)
    """The number of queued, sending and failed messages, when it changed."""

    refreshed = Signal()
    """Emitted with no payload after each reading of the queue's rows."""

    def __init__(self, host: SettingsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queueTab")
        self._queue: Any = None
        self._active = False
        self._open_error: str | None = None
        self._count: int | None = None
        self._ticks = 0
        self.controls = MailerControls(host)
        self.controls.message.connect(self.show_message)
        self.controls.queue_changed.connect(self.refresh)
        self.model = QueueTableModel(self)
        self.model.edit_rejected.connect(lambda text: self.show_message(text, True))
        self.model.edited.connect(lambda message_id: self.show_message(f"Message {message_id} changed.", False))
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_tick)
        self._build_layout()
        self._update_buttons()

    def _build_layout(self) -> None:
        self.table = QTableView()
        self.table.setObjectName("queueTable")
        self.table.setAccessibleName("Queued messages")
        self.table.setToolTip(TABLE_HELP)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.columns = ColumnFitter(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.confirm_delete)

        self.reset_button = _button("&Reset state", "resetStateButton", RESET_HELP)
        self.delete_button = _button("D&elete", "deleteButton", DELETE_HELP)
        self.show_sent = QCheckBox("Sho&w sent")
        self.show_sent.setObjectName("showSent")
        self.show_sent.setToolTip(SHOW_SENT_HELP)
        self.reset_button.clicked.connect(self.reset_selected)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.show_sent.toggled.connect(self.refresh)
        bottom = QHBoxLayout()
        bottom.addWidget(self.reset_button)
        bottom.addWidget(self.delete_button)
        bottom.addStretch(1)
        bottom.addWidget(self.show_sent)

        self.message = WrappedLabel()
        self.message.setObjectName("queueMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Queue message")
        self.message.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.message)

    # --- the page interface of the dialog -------------------------------------------------

    @property
    def title(self) -> str:
        """The tab title, with the number of pending messages once the queue was read."""
        return QUEUE_TITLE if self._count is None else f"{QUEUE_TITLE} ({self._count})"

    def bindings(self) -> list[tuple[str, QWidget]]:
        """Return no bindings: Start and Stop mailer save mailer.enabled themselves, not OK."""
        return []

    def field_keys(self) -> list[str]:
        """Return no keys, because the tab has no settings fields."""
        return []

    def focus_chain(self) -> list[QWidget]:
        """Return the widgets that Tab visits, top to bottom."""
        return [*self.controls.buttons(), self.table, self.reset_button, self.delete_button, self.show_sent]

    def help_entries(self) -> list[tuple[str, str]]:
        """Return ``(label, help text)`` for the table and every button, top to bottom."""
        from alertmail.resources import field_entries

        entries = [(label, text) for _, label, text in field_entries(self.tab_key)]
        return entries + [(entry.label, entry.text) for entry in self.help_buttons()]

    def help_buttons(self) -> list[HelpEntry]:
        """Return the help window's entries for the table and the tab's buttons."""
        from .help import button_entry

        return [
            button_entry(self.controls.start_button, "Start mailer", START_HELP),
            button_entry(self.controls.stop_button, "Stop mailer", STOP_HELP),
            button_entry(self.controls.send_now_button, "Send now", SEND_NOW_HELP),
            button_entry(self.table, "Queued messages", TABLE_HELP),
            button_entry(self.reset_button, "Reset state", RESET_HELP),
            button_entry(self.delete_button, "Delete", DELETE_HELP),
            button_entry(self.show_sent, "Show sent", SHOW_SENT_HELP),
        ]

    def help_anchor(self, widget: QWidget) -> str | None:
        """Return the help anchor of ``widget`` when it is the table or one of this tab's buttons."""
        from .help import entry_anchor

        return entry_anchor(widget, self.help_buttons())

    # --- reading the queue ----------------------------------------------------------------

    def activate(self) -> None:
        """Read the queue and follow it; the dialog calls this after its first frame."""
        if self._active:
            return
        self._active = True
        self.controls.set_usable(True)
        self.refresh()
        self._timer.start()

    @property
    def active(self) -> bool:
        """True from ``activate`` until ``shutdown``."""
        return self._active

    def _open_queue(self) -> bool:
        """Open the queue database if it exists; return True when it is open."""
        if self._queue is not None:
            return True
        from alertmail.core.queue import Queue
        from alertmail.core.queue_schema import database_path

        if not database_path().exists():
            return False
        try:
            self._queue = Queue(busy_timeout_s=BUSY_TIMEOUT_S)
        except QueueError as error:
            if str(error) != self._open_error:
                log.error("queue could not be opened: %s", error)
                self._open_error = str(error)
                self.show_message(f"The queue could not be opened: {error}", True)
            return False
        self._open_error = None
        self.model.set_queue(self._queue)
        return True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Read the queue as soon as the tab is shown, not at the next tick, and fit the columns to its width.

        A page built while hidden may have fitted its columns before it had its final width.
        """
        super().showEvent(event)
        if self._active:
            QTimer.singleShot(0, self.refresh)
        QTimer.singleShot(0, self.columns.follow_width)

    @Slot()
    def _on_tick(self) -> None:
        if self.isVisible():
            self.refresh()
            return
        self._ticks += 1
        if self._ticks >= HIDDEN_COUNT_TICKS:
            self._ticks = 0
            self.refresh_count()

    @Slot()
    def refresh(self) -> None:
        """Read the queue again, keeping the selection, and update the status line and buttons.

        While a cell is being edited, the rows stay as they are so the edit is not lost.
        """
        if not self._active:
            return
        if self.table.state() == QAbstractItemView.State.EditingState:
            self.refresh_count()
            return
        states = PENDING_STATES + (("sent",) if self.show_sent.isChecked() else ())
        messages = []
        if self._open_queue():
            try:
                messages = self._queue.list(states)
            except QueueError as error:
                log.warning("queue could not be read: %s", error)
                self.show_message(f"The queue could not be read: {error}", True)
                return
        self.model.update(messages)
        if messages and not self.columns.fitted:
            self.columns.fit()
        self._set_count(sum(1 for message in messages if message.state in PENDING_STATES))
        self.controls.refresh()
        self._update_buttons()
        self.refreshed.emit()

    def refresh_count(self) -> None:
        """Count the pending messages for the tab title, without reading the rows."""
        if not self._active or not self._open_queue():
            return
        try:
            count = sum(self._queue.count(state) for state in PENDING_STATES)
        except QueueError as error:
            log.warning("queue could not be counted: %s", error)
            return
        self._set_count(count)

    def _set_count(self, count: int) -> None:
        if count != self._count:
            self._count = count
            self.count_changed.emit(count)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Share the table's new width among its text columns."""
        super().resizeEvent(event)
        self.columns.follow_width()

    def selected_messages(self) -> list[QueuedMessage]:
        """Return the messages of the selected rows, in row order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.message_at(row) for row in rows]

    def _update_buttons(self) -> None:
        selected = self.selected_messages() if self.active else []
        self.reset_button.setEnabled(any(message.state in EDITABLE_STATES for message in selected))
        self.delete_button.setEnabled(bool(selected))

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()

    @Slot(str, bool)
    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text`` under the table, in red when ``error``."""
        self.message.setText(text)
        set_text_color(self.message, ERROR_COLOR if error else None)
        self.message.setVisible(bool(text))

    # --- Reset state, Delete ----------------------------------------------------------------

    @Slot()
    def reset_selected(self) -> None:
        """Queue the selected queued or failed messages again with their attempts reset."""
        ids = [message.id for message in self.selected_messages() if message.state in EDITABLE_STATES]
        self._apply_to(ids, self._queue.retry, "queued again with attempts reset to 0")

    @Slot()
    def confirm_delete(self) -> None:
        """Ask before deleting the selected messages; delete them when the user agrees."""
        ids = [message.id for message in self.selected_messages()]
        if not ids:
            return
        what = f"message {ids[0]}" if len(ids) == 1 else f"{len(ids)} messages"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete Messages",
            f"Delete {what} from the queue? Deleted messages are never sent.",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("deleteMessagesConfirm")
        delete = box.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
        delete.setObjectName("confirmDeleteButton")
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))

        def answered(_result: int) -> None:
            box.deleteLater()
            if box.clickedButton() is delete:
                self.delete_messages(ids)

        box.finished.connect(answered)
        box.open()

    def delete_messages(self, ids: list[int]) -> None:
        """Delete the messages with ``ids`` from the queue and show the outcome."""
        self._apply_to(ids, self._queue.delete, "deleted")

    def _apply_to(self, ids: list[int], action, what: str) -> None:
        """Run ``action(id)`` for each id, then show what was done and what failed."""
        done, problems = [], []
        for message_id in ids:
            try:
                action(message_id)
            except QueueError as error:
                problems.append(str(error))
            else:
                done.append(message_id)
        parts = []
        if done:
            names = ", ".join(str(message_id) for message_id in done)
            parts.append(f"Message{'s' if len(done) > 1 else ''} {names} {what}.")
        parts.extend(f"Not changed: {problem}." for problem in problems)
        self.show_message(" ".join(parts), bool(problems))
        self.refresh()

    # --- closing --------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop following the queue, cancel a running batch and wait for its thread, close the queue."""
        self._timer.stop()
        self.controls.stop()
        self._active = False
        self.controls.set_usable(False)
        if self._queue is not None:
            self._queue.close()
            self._queue = None
            self.model.set_queue(None)
