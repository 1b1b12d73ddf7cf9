"""Every color the dialog sets stays readable on a light and on a dark palette."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QStyleFactory

from alertmail.core.store import config_path
from alertmail.gui.colors import contrast_ratio, dark_palette, relative_luminance
from gui_support import field, open_dialog, set_field

# WCAG 2 AA: 4.5:1 for text, 3:1 for other marks such as a field's frame.
TEXT_CONTRAST = 4.5
MARK_CONTRAST = 3.0
PALETTES = {"light": lambda: QStyleFactory.create("Fusion").standardPalette(), "dark": dark_palette}


@pytest.fixture(params=sorted(PALETTES))
def palette(request, qapp):
    """Use the light or the dark palette in the application for one test."""
    previous = QApplication.palette()
    chosen = PALETTES[request.param]()
    QApplication.setPalette(chosen)
    yield chosen
    QApplication.setPalette(previous)


def colors_in(style: str) -> list[QColor]:
    return [QColor(code) for code in re.findall(r"#[0-9a-fA-F]{6}", style)]


def dialog_with_every_message(qtbot):
    """Open the dialog with a load problem, an invalid field, warnings and the keyring label shown."""
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text('[primary]\nhost = "127.0.0.1"\nport = 70000\n', encoding="utf-8")
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.auth", "smtp")
    set_field(dialog, "primary.host", "smtp.example.com:587")
    set_field(dialog, "secondary.enabled", False)
    return dialog


def test_colored_labels_readable(qtbot, palette):
    dialog = dialog_with_every_message(qtbot)

    # Labels with a style sheet, such as the banner, are checked by their style sheet's colors.
    colored = [
        label for label in dialog.findChildren(QLabel)
        if label.testAttribute(Qt.WidgetAttribute.WA_SetPalette) and label.text() and not label.styleSheet()
    ]
    names = {label.objectName() for label in colored}

    assert {"problemSummary", "warningSummary", "error:primary.host", "authWarning_primary"} <= names
    for label in colored:
        text = label.palette().color(QPalette.ColorRole.WindowText)
        background = palette.color(QPalette.ColorRole.Window)
        assert contrast_ratio(text, background) >= TEXT_CONTRAST, label.objectName()


def test_banner_readable(qtbot, palette):
    dialog = dialog_with_every_message(qtbot)

    background, text, border = colors_in(dialog.banner.styleSheet())
    window = palette.color(QPalette.ColorRole.Window)

    assert dialog.banner.isVisible()
    assert contrast_ratio(text, background) >= TEXT_CONTRAST
    # A light banner on a light window and a dark one on a dark window.
    assert (relative_luminance(background) > 0.5) == (relative_luminance(window) > 0.5)
    assert contrast_ratio(border, palette.color(QPalette.ColorRole.Window)) > 1.0


def test_invalid_frame_visible(qtbot, palette):
    dialog = dialog_with_every_message(qtbot)

    frame = colors_in(field(dialog, "primary.host").styleSheet())

    assert len(frame) == 1
    assert contrast_ratio(frame[0], palette.color(QPalette.ColorRole.Base)) >= MARK_CONTRAST
    assert contrast_ratio(frame[0], palette.color(QPalette.ColorRole.Window)) >= MARK_CONTRAST


def test_error_colors_differ_by_palette(qtbot):
    light = QStyleFactory.create("Fusion").standardPalette()
    previous = QApplication.palette()
    found = {}
    try:
        for name, chosen in (("light", light), ("dark", dark_palette())):
            QApplication.setPalette(chosen)
            dialog = dialog_with_every_message(qtbot)
            found[name] = dialog.summary.palette().color(QPalette.ColorRole.WindowText).name()
            dialog.reject()
    finally:
        QApplication.setPalette(previous)

    assert found["light"] != found["dark"]
