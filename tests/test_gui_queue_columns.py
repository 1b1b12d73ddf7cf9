"""The Queue tab's columns fit the dialog at its default size; long texts are elided with a tooltip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt

from alertmail.gui.dialog import DEFAULT_SIZE
from alertmail.gui.queue_model import COLUMNS
from gui_queue_support import add_failed, add_messages, open_queue_tab, queue_settings

IMPORTANT = ["State", "Kind", "Recipients", "Subject", "Attempts", "Last error"]
LONG_SUBJECT = "Nightly configuration backup of the core and distribution switches: 148 devices, 2 failed"
LONG_ERROR = "550 5.1.1 <reports@example.com>: recipient address rejected: user unknown in virtual mailbox table"
LONG_RECIPIENTS = "ops@example.com, noc@example.com, oncall-network@example.com, oncall-systems@example.com"


def column(title: str) -> int:
    return [name for name, _ in COLUMNS].index(title)


def open_long_queue(qtbot):
    settings = queue_settings(**{"general.errors_to": LONG_RECIPIENTS})
    add_messages(settings, LONG_SUBJECT, "sw2: fan failure")
    add_failed(settings, "weekly report", error=LONG_ERROR)
    dialog, tab = open_queue_tab(qtbot, settings)
    qtbot.waitUntil(lambda: tab.columns.fitted and tab.model.rowCount() == 3, timeout=5000)
    return dialog, tab


def right_edge(tab, title: str) -> int:
    header = tab.table.horizontalHeader()
    return header.sectionViewportPosition(column(title)) + header.sectionSize(column(title))


def test_important_columns_fit_default_size(qtbot):
    dialog, tab = open_long_queue(qtbot)
    header = tab.table.horizontalHeader()
    viewport = tab.table.viewport().width()

    assert dialog.size() == QSize(*DEFAULT_SIZE)
    qtbot.waitUntil(lambda: right_edge(tab, "Last error") <= viewport, timeout=2000)
    for title in IMPORTANT:
        assert header.sectionViewportPosition(column(title)) >= 0, title
        assert right_edge(tab, title) <= viewport, title
        assert header.sectionSize(column(title)) >= header.fontMetrics().horizontalAdvance(title), title


def test_long_texts_elided_with_full_tooltip(qtbot):
    dialog, tab = open_long_queue(qtbot)
    model = tab.model
    metrics = tab.table.fontMetrics()
    header = tab.table.horizontalHeader()

    cells = [(0, "Subject", LONG_SUBJECT), (0, "Recipients", LONG_RECIPIENTS), (2, "Last error", LONG_ERROR)]

    assert tab.table.textElideMode() == Qt.TextElideMode.ElideRight
    for row, title, text in cells:
        index = model.index(row, column(title))
        assert index.data() == text
        assert metrics.horizontalAdvance(text) > header.sectionSize(column(title)), title
        assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(text), title


def test_columns_follow_wider_dialog(qtbot):
    dialog, tab = open_long_queue(qtbot)
    header = tab.table.horizontalHeader()
    narrow = header.sectionSize(column("Subject"))

    dialog.resize(DEFAULT_SIZE[0] + 200, DEFAULT_SIZE[1])

    qtbot.waitUntil(lambda: header.sectionSize(column("Subject")) > narrow, timeout=2000)
    assert right_edge(tab, "Last error") <= tab.table.viewport().width()


def test_column_resized_by_user_kept(qtbot):
    dialog, tab = open_long_queue(qtbot)
    header = tab.table.horizontalHeader()
    header.resizeSection(column("Subject"), 300)

    dialog.resize(DEFAULT_SIZE[0] + 200, DEFAULT_SIZE[1])
    qtbot.waitUntil(lambda: dialog.width() == DEFAULT_SIZE[0] + 200, timeout=2000)

    assert header.sectionSize(column("Subject")) == 300
