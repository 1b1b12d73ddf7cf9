"""The table model of the Queue tab: one row per queued message.

The model contains ``QueuedMessage`` records ordered by id, oldest first.
``update`` takes a fresh list from the queue and changes only the rows that
changed: it removes, inserts and updates rows in place instead of resetting
the model. The view's selection, current cell and an open editor therefore
survive a refresh.

Editing a cell of the From, Recipients or Subject column calls
``Queue.update_fields``. A value that the queue rejects leaves the cell as
it was, and ``edit_rejected`` carries the reason.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from alertmail.core.errors import SettingError
from alertmail.core.queue_records import KIND_TITLES, QueueError, QueuedMessage

log = logging.getLogger(__name__)

# (column title, QueuedMessage field shown); the order is the order on screen.
COLUMNS = (
    ("State", "state"),
    ("Kind", "kind"),
    ("Recipients", "recipients"),
    ("Subject", "subject"),
    ("Attempts", "attempts"),
    ("Last error", "last_error"),
    ("Queued at", "queued_at"),
    ("From", "sender"),
)
# The columns an administrator may edit, and the update_fields argument of each.
EDITABLE = {"sender": "sender", "recipients": "to", "subject": "subject"}
EDITABLE_STATES = ("queued", "failed")
# States counted in the tab title: messages that still wait for delivery or an administrator.
PENDING_STATES = ("queued", "sending", "failed")


def local_time(stamp: str | None) -> str:
    """Return a stored UTC time in ISO 8601 as local time, to the second."""
    if not stamp:
        return ""
    try:
        moment = datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def display_text(message: QueuedMessage, field: str) -> str:
    """Return the text shown for ``field`` of ``message``."""
    if field == "recipients":
        return ", ".join(message.recipients)
    if field == "kind":
        return KIND_TITLES.get(message.kind, message.kind)
    if field == "queued_at":
        return local_time(message.queued_at)
    value = getattr(message, field)
    return "" if value is None else str(value)


class QueueTableModel(QAbstractTableModel):
    """The messages of the queue as a table, editable where the queue allows it.

    ``queue`` is the GUI thread's ``Queue``, used by ``setData``; it may be
    set later with ``set_queue``.
    """

    edit_rejected = Signal(str)
    """The sentence shown when the queue rejected an edited value."""

    edited = Signal(int)
    """The id of a message whose fields were changed by an edit."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._messages: list[QueuedMessage] = []
        self._queue: Any = None

    def set_queue(self, queue: Any) -> None:
        """Use ``queue`` (a ``Queue``) for edits."""
        self._queue = queue

    # --- reading ------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._messages)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        message = self._messages[index.row()]
        field = COLUMNS[index.column()][1]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return display_text(message, field)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(message, field)
        if role == Qt.ItemDataRole.TextAlignmentRole and field == "attempts":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _tooltip(self, message: QueuedMessage, field: str) -> str | None:
        if field in EDITABLE and message.state in EDITABLE_STATES:
            return f"{display_text(message, field)}\n(double-click or press F2 to edit)"
        text = display_text(message, field)
        return text or None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid():
            message = self._messages[index.row()]
            if COLUMNS[index.column()][1] in EDITABLE and message.state in EDITABLE_STATES:
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def message_at(self, row: int) -> QueuedMessage:
        """Return the message shown in ``row``."""
        return self._messages[row]

    def row_of(self, message_id: int) -> int | None:
        """Return the row of the message with ``message_id``, or ``None``."""
        for row, message in enumerate(self._messages):
            if message.id == message_id:
                return row
        return None

    @property
    def messages(self) -> list[QueuedMessage]:
        """The messages shown, in row order."""
        return list(self._messages)

    # --- editing ------------------------------------------------------------------

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self._queue is None:
            return False
        message = self._messages[index.row()]
        field = COLUMNS[index.column()][1]
        if field not in EDITABLE or str(value) == display_text(message, field):
            return False
        try:
            updated = self._queue.update_fields(message.id, **{EDITABLE[field]: str(value)})
        except SettingError as error:
            log.info("edit of message %d rejected: %s", message.id, error.reason)
            self.edit_rejected.emit(f"{COLUMNS[index.column()][0]} of message {message.id} not changed: {error.reason}")
            return False
        except QueueError as error:
            log.warning("edit of message %d failed: %s", message.id, error)
            self.edit_rejected.emit(f"Message {message.id} not changed: {error}")
            return False
        self._replace_row(index.row(), updated)
        self.edited.emit(message.id)
        return True

    # --- refreshing ---------------------------------------------------------------

    def update(self, fresh: list[QueuedMessage]) -> None:
        """Show ``fresh`` (ordered by id), changing only the rows that differ."""
        fresh_ids = {message.id for message in fresh}
        row = len(self._messages) - 1
        while row >= 0:
            if self._messages[row].id in fresh_ids:
                row -= 1
                continue
            last = row
            while row - 1 >= 0 and self._messages[row - 1].id not in fresh_ids:
                row -= 1
            self.beginRemoveRows(QModelIndex(), row, last)
            del self._messages[row : last + 1]
            self.endRemoveRows()
            row -= 1

        position = 0
        for message in fresh:
            if position < len(self._messages) and self._messages[position].id == message.id:
                if self._messages[position] != message:
                    self._replace_row(position, message)
            else:
                # fresh and the rows kept are both ordered by id, so the new
                # message belongs before the row now at ``position``.
                self.beginInsertRows(QModelIndex(), position, position)
                self._messages.insert(position, message)
                self.endInsertRows()
            position += 1

    def _replace_row(self, row: int, message: QueuedMessage) -> None:
        self._messages[row] = message
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
