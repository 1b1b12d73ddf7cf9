"""The binding of input widgets to dotted settings keys.

A ``FieldBinding`` connects one widget to one key: it writes a model value
into the widget and reads the widget back as a validated value. Every tab
lists its bindings explicitly; the dialog keeps the working copy of the
settings and decides what an edit changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget

from alertmail.core.errors import SettingError
from alertmail.core.settings import Setting, setting

from .colors import invalid_style


class FieldBinding:
    """One input widget bound to one dotted key.

    ``read()`` returns the widget's value, validated by the key's
    declaration, and raises ``SettingError`` when it is invalid.
    ``show(value)`` puts a model value into the widget without reporting an edit.
    """

    def __init__(self, key: str, widget: QWidget) -> None:
        self.key = key
        self.widget = widget
        self.declared: Setting = setting(key)
        if not isinstance(widget, (QLineEdit, QSpinBox, QComboBox, QCheckBox)):
            raise TypeError(f"{key}: widgets of type {type(widget).__name__} cannot be bound")

    def read(self) -> Any:
        """Return the validated value now in the widget, or raise ``SettingError``."""
        widget = self.widget
        if isinstance(widget, QLineEdit):
            return self.declared.parse(widget.text())
        if isinstance(widget, QSpinBox):
            return self.declared.validate(widget.value())
        if isinstance(widget, QComboBox):
            return self.declared.validate(widget.currentData())
        return self.declared.validate(widget.isChecked())

    def show(self, value: Any) -> None:
        """Put ``value`` into the widget; no edit is reported."""
        widget = self.widget
        with QSignalBlocker(widget):
            if isinstance(widget, QLineEdit):
                widget.setText(self.declared.format(value))
                widget.setCursorPosition(0)
            elif isinstance(widget, QSpinBox):
                widget.setValue(value)
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(widget.findData(value))
            else:
                widget.setChecked(value)

    def on_edit(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(key)`` whenever the user changes the widget."""
        widget = self.widget
        if isinstance(widget, QLineEdit):
            widget.textChanged.connect(lambda _text: callback(self.key))
        elif isinstance(widget, QSpinBox):
            widget.valueChanged.connect(lambda _value: callback(self.key))
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(lambda _index: callback(self.key))
        else:
            widget.toggled.connect(lambda _checked: callback(self.key))

    def mark(self, reason: str | None) -> None:
        """Frame the widget in red and name ``reason`` in its description, or clear both."""
        style = invalid_style(self.widget.palette()) if reason else ""
        if self.widget.styleSheet() != style:
            self.widget.setStyleSheet(style)
        if self.widget.accessibleDescription() != (reason or ""):
            self.widget.setAccessibleDescription(reason or "")


def bind_all(pairs: list[tuple[str, QWidget]]) -> dict[str, FieldBinding]:
    """Return one ``FieldBinding`` per ``(key, widget)`` pair, in the given order.

    Raises ``ValueError`` when a key is bound twice, so a tab cannot show two
    fields for one setting by mistake.
    """
    bindings: dict[str, FieldBinding] = {}
    for key, widget in pairs:
        if key in bindings:
            raise ValueError(f"{key} is bound twice")
        bindings[key] = FieldBinding(key, widget)
    return bindings


def read_or_error(binding: FieldBinding) -> tuple[Any, SettingError | None]:
    """Return ``(value, None)`` for a valid widget, ``(None, error)`` otherwise."""
    try:
        return binding.read(), None
    except SettingError as error:
        return None, error
