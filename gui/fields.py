"""Input widgets built from the setting declarations.

Each factory takes a declared ``Setting`` and returns a widget whose object
name is the dotted key, whose accessible name is the plain label and whose
tooltip is the help text. Ranges and choices come from the declaration, so
no label, default or range is written in gui/.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from alertmail.core.settings import Setting

from .colors import ERROR_COLOR, ColorPair, pick, window_color

# Style sheets cost time when a widget is first shown, so only an invalid
# field gets one (colors.invalid_style). Message labels are colored through
# their palette.


def _describe(widget: QWidget, key: str, accessible_name: str, tooltip: str) -> None:
    widget.setObjectName(key)
    widget.setAccessibleName(accessible_name)
    widget.setToolTip(tooltip)


def make_line_edit(declared: Setting) -> QLineEdit:
    """Return a one-line text field for a text, host, address or recipients setting."""
    edit = QLineEdit()
    _describe(edit, declared.key, declared.plain_label, declared.help)
    return edit


def make_spin_box(declared: Setting) -> QSpinBox:
    """Return a spin box with the declared minimum and maximum."""
    spin = QSpinBox()
    _describe(spin, declared.key, declared.plain_label, declared.help)
    assert declared.minimum is not None and declared.maximum is not None
    spin.setRange(declared.minimum, declared.maximum)
    # Wide enough for the largest value plus the arrows, and no wider.
    spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance(str(declared.maximum)) + 48)
    spin.setMaximumWidth(spin.minimumWidth() + 24)
    return spin


def make_combo_box(declared: Setting) -> QComboBox:
    """Return a drop-down list of the declared choices; item data is the stored value."""
    combo = QComboBox()
    _describe(combo, declared.key, declared.plain_label, declared.help)
    for value, text in declared.choices:
        combo.addItem(text, value)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


def make_check_box(declared: Setting) -> QCheckBox:
    """Return a check box whose text is the declared label, mnemonic included."""
    check = QCheckBox(declared.label)
    _describe(check, declared.key, declared.plain_label, declared.help)
    return check


def plain_label(text: str) -> str:
    """Return a label or tab title without its ``&`` mnemonic marker and trailing colon."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(":")


def make_label(text: str, buddy: QWidget) -> QLabel:
    """Return a form label (text with its ``&`` mnemonic) that moves focus to ``buddy``."""
    label = QLabel(text)
    label.setBuddy(buddy)
    label.setObjectName(f"label:{buddy.objectName()}")
    return label


class WrappedLabel(QLabel):
    """A word-wrapped label whose size hint follows the width it was given.

    The size hint of a plain word-wrapped ``QLabel`` is the height of its
    text at a narrow guessed width, which leaves gaps in a form row. This
    label's hint is the height of its text at its real width.
    """

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        width = self.width() if self.width() > hint.width() else max(hint.width(), 240)
        return QSize(hint.width(), self.heightForWidth(width))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.height() != self.heightForWidth(self.width()):
            self.updateGeometry()


def set_text_color(label: QLabel, color: ColorPair | None) -> None:
    """Set the text color of ``label`` to the variant of ``color`` that suits its background.

    ``None`` restores the application's default palette.
    """
    palette = QPalette()
    if color is not None:
        palette.setColor(QPalette.ColorRole.WindowText, pick(color, window_color(palette)))
    label.setPalette(palette)


def make_message_label(object_name: str, color: ColorPair | None) -> QLabel:
    """Return a small word-wrapped label for a reason shown under a field."""
    label = WrappedLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    if color is not None:
        set_text_color(label, color)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    return label


class FormRows:
    """A form layout where each field has an error row beneath it, hidden until needed.

    The error rows use ``QFormLayout.setRowVisible`` so a hidden row takes no
    space.
    """

    def __init__(self, layout: QFormLayout) -> None:
        self.layout = layout
        self.error_labels: dict[str, QLabel] = {}
        self.hidden_keys: set[str] = set()
        """Keys whose field row is hidden, so their error rows stay hidden too."""

    def add(self, label_text: str, field: QWidget, key: str) -> QLabel:
        """Add a row for ``field`` labelled ``label_text``, and its error row for ``key``."""
        label = make_label(label_text, field)
        self.layout.addRow(label, field)
        self.add_error_row(key)
        return label

    def add_error_row(self, key: str) -> QLabel:
        """Add the hidden row that shows why the value of ``key`` is invalid."""
        error = make_message_label(f"error:{key}", ERROR_COLOR)
        self.layout.addRow(None, error)
        self.layout.setRowVisible(error, False)
        self.error_labels[key] = error
        return error

    def show_error(self, key: str, reason: str | None) -> None:
        """Show ``reason`` under the field of ``key``, or hide the row when ``None``.

        The row stays hidden while ``key`` is in ``hidden_keys``, and the
        reason appears when the field is shown again.
        """
        label = self.error_labels.get(key)
        if label is None:
            return
        label.setText(reason or "")
        self.layout.setRowVisible(label, bool(reason) and key not in self.hidden_keys)
