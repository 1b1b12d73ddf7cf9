"""The dialog's size and last tab, remembered between runs.

They are kept in ``dialog.json`` in the state folder
(``alertmail.core.store.state_dir()``), for example
``{"width": 620, "height": 680, "tab": "primary"}``. The file is written
atomically when the dialog closes. A missing, unreadable or malformed file,
or a value out of range, is ignored and the defaults are used.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

from .titles import PAGE_TITLES

log = logging.getLogger(__name__)

FILE_NAME = "dialog.json"
# Sizes outside this range are not a window size a user chose.
MIN_SIDE = 100
MAX_SIDE = 20000


class WindowState(NamedTuple):
    """The dialog's size in device-independent pixels and the key of its last tab.

    ``size`` is ``None`` and ``tab`` is ``None`` when nothing valid was remembered.
    """

    size: tuple[int, int] | None = None
    tab: str | None = None


def state_path() -> Path:
    """Return the path of the remembered window state."""
    from alertmail.core.store import state_dir

    return state_dir() / FILE_NAME


def _valid_side(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MIN_SIDE <= value <= MAX_SIDE


def load_window_state(path: Path | None = None) -> WindowState:
    """Return the remembered state, or an empty ``WindowState`` when there is none that is valid."""
    path = path or state_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return WindowState()
    except (OSError, UnicodeDecodeError) as error:
        log.warning("remembered window state in %s ignored: %s", path, error)
        return WindowState()
    # Imported here: importing json took about 1.4 ms on a 2-core virtual
    # machine, which a first run without the file does not need to pay.
    import json

    try:
        data = json.loads(text)
    except ValueError as error:
        log.warning("remembered window state in %s ignored: %s", path, error)
        return WindowState()
    if not isinstance(data, dict):
        log.warning("remembered window state in %s ignored: not a JSON object", path)
        return WindowState()
    width, height = data.get("width"), data.get("height")
    size = (width, height) if _valid_side(width) and _valid_side(height) else None
    tab = data.get("tab")
    if not isinstance(tab, str) or tab not in PAGE_TITLES:
        tab = None
    return WindowState(size, tab)


def save_window_state(state: WindowState, path: Path | None = None) -> None:
    """Write ``state`` atomically.

    An ``OSError`` is logged and not raised, because losing the state costs
    only the size and tab of the next run.
    """
    import json
    import tempfile

    path = path or state_path()
    data: dict[str, object] = {}
    if state.size is not None:
        data["width"], data["height"] = state.size
    if state.tab is not None:
        data["tab"] = state.tab
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump(data, stream)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        log.warning("window state not saved to %s: %s", path, error)


def clamp_size(size: tuple[int, int], available: tuple[int, int]) -> tuple[int, int]:
    """Return ``size`` reduced where it is larger than the ``available`` screen area."""
    return min(size[0], available[0]), min(size[1], available[1])
