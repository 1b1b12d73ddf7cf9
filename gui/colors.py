"""Colors of error and warning text, invalid-field frames and banners, for light and dark palettes.

Qt's palette has no role for an error or a warning, so each of these colors
comes in two variants, one for light and one for dark window backgrounds.
The variant with the higher contrast against the widget's own window color
is used. Against the Fusion style's light palette (window #efefef) and a
dark one (window #353535), every text color here has a contrast ratio of at
least 4.5:1, the WCAG AA level for normal text.

NOTE: the colors are chosen when a widget is built or marked. A widget does
not follow a palette that changes while the dialog is open.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtGui import QColor, QPalette


class ColorPair(NamedTuple):
    """One color in a variant for light backgrounds and one for dark backgrounds."""

    light: str
    dark: str


ERROR_COLOR = ColorPair("#b71c1c", "#ff8a80")
WARNING_COLOR = ColorPair("#8a4b00", "#ffb74d")
BANNER_BACKGROUND = ColorPair("#fff4ce", "#4a3b00")
BANNER_TEXT = ColorPair("#3b2f00", "#ffe9a8")
BANNER_BORDER = ColorPair("#e0c060", "#a08020")


def relative_luminance(color: QColor) -> float:
    """Return the relative luminance of ``color`` as WCAG 2 defines it, 0 (black) to 1 (white)."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF())


def contrast_ratio(first: QColor, second: QColor) -> float:
    """Return the WCAG 2 contrast ratio of two colors, from 1 (equal) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def pick(pair: ColorPair, background: QColor) -> QColor:
    """Return the variant of ``pair`` that contrasts more with ``background``."""
    light, dark = QColor(pair.light), QColor(pair.dark)
    if contrast_ratio(light, background) >= contrast_ratio(dark, background):
        return light
    return dark


def window_color(palette: QPalette) -> QColor:
    """Return the window background color of ``palette``."""
    return palette.color(QPalette.ColorRole.Window)


def invalid_style(palette: QPalette) -> str:
    """Return the style sheet that frames an invalid field, in the error color for ``palette``."""
    color = pick(ERROR_COLOR, window_color(palette)).name()
    return f"border: 2px solid {color}; border-radius: 3px; padding: 1px;"


def banner_style(palette: QPalette) -> str:
    """Return the style sheet of the banner that reports a settings file problem.

    The banner's background is the variant nearer the window color (a light
    yellow on a light window, a dark amber on a dark one), and its text the
    variant that contrasts more with that background.
    """
    light, dark = QColor(BANNER_BACKGROUND.light), QColor(BANNER_BACKGROUND.dark)
    window = window_color(palette)
    background = light if contrast_ratio(light, window) <= contrast_ratio(dark, window) else dark
    text = pick(BANNER_TEXT, background).name()
    border = pick(BANNER_BORDER, window_color(palette)).name()
    return (
        f"background: {background.name()}; color: {text}; border: 1px solid {border}; "
        "border-radius: 3px; padding: 6px;"
    )


# A framed hint in the palette's own colors, so it suits any theme.
HINT_STYLE = (
    "background: palette(alternate-base); color: palette(text); border: 1px solid palette(mid); "
    "border-radius: 3px; padding: 6px;"
)


def dark_palette() -> QPalette:
    """Return a dark palette for the Fusion style.

    The screenshot script's ``--dark`` option and the color tests use it to
    show the dialog as a dark desktop theme would.
    """
    palette = QPalette()
    roles = QPalette.ColorRole
    colors = {
        roles.Window: "#353535",
        roles.WindowText: "#f0f0f0",
        roles.Base: "#232323",
        roles.AlternateBase: "#2e2e2e",
        roles.ToolTipBase: "#454545",
        roles.ToolTipText: "#f0f0f0",
        roles.PlaceholderText: "#a0a0a0",
        roles.Text: "#f0f0f0",
        roles.Button: "#404040",
        roles.ButtonText: "#f0f0f0",
        roles.BrightText: "#ff5050",
        roles.Light: "#505050",
        roles.Midlight: "#454545",
        roles.Mid: "#2a2a2a",
        roles.Dark: "#202020",
        roles.Shadow: "#141414",
        roles.Highlight: "#3d7ad6",
        roles.HighlightedText: "#ffffff",
        roles.Link: "#7ab4ff",
        roles.LinkVisited: "#c09aff",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#808080"))
    palette.setColor(disabled, roles.Base, QColor("#353535"))
    palette.setColor(disabled, roles.Button, QColor("#383838"))
    return palette
