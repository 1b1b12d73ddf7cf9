"""Column widths of the Queue tab's table.

The short columns (State, Kind, Attempts, Queued at) get the width of their
contents. Recipients, Subject and Last error share what is left of the
visible width, so that State through Last error fit at the dialog's default
size. Queued at and From follow and may need scrolling. A text wider than
its column is elided, and the cell's tooltip shows it whole.

The widths follow the table's width until the user drags a column border.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QTableView

from .queue_model import COLUMNS

FIELDS = [field for _, field in COLUMNS]
# Share of the remaining width for each column that contains free text.
SHARED = {"recipients": 0.28, "subject": 0.36, "last_error": 0.36}
# Columns fitted to their contents that come before the last shared column,
# so they take room from the shared columns.
LEADING_FITTED = ("state", "kind", "attempts")
# A shared column is never narrower than this (in device-independent pixels),
# unless its contents are narrower.
MIN_SHARED_WIDTH = 80


class ColumnFitter(QObject):
    """Sets the column widths of ``table`` and follows its width until the user resizes a column."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        self._fitting = False
        self.fitted = False
        self.resized_by_user = False
        table.horizontalHeader().sectionResized.connect(self._on_section_resized)

    @Slot(int, int, int)
    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        # The header itself resizes the last column, which fills the rest of the width.
        last = self._table.horizontalHeader().count() - 1
        if not self._fitting and self.fitted and column != last:
            self.resized_by_user = True

    def fit(self) -> None:
        """Size the columns to their contents and share the visible width among the text columns."""
        table = self._table
        header = table.horizontalHeader()
        self._fitting = True
        try:
            table.resizeColumnsToContents()
            content_widths = {field: header.sectionSize(FIELDS.index(field)) for field in FIELDS}
            room = table.viewport().width() - sum(content_widths[field] for field in LEADING_FITTED)
            for field, share in SHARED.items():
                width = min(content_widths[field], max(MIN_SHARED_WIDTH, int(room * share)))
                header.resizeSection(FIELDS.index(field), width)
        finally:
            self._fitting = False
        self.fitted = True

    def follow_width(self) -> None:
        """Fit the columns again after the table's width changed, unless the user resized one."""
        if self.fitted and not self.resized_by_user:
            self.fit()
