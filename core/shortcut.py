"""Desktop and menu shortcuts that open the E-mail Options dialog.

``install(desktop=..., menu=...)`` creates them for the ``alertmail-settings``
command of the running Python environment, and ``uninstall()`` removes them.

- Linux and other freedesktop systems: the entry ``alertmail-settings.desktop``
  in ``$XDG_DATA_HOME/applications`` (the applications menu) and in the
  desktop folder, and the icon in the ``hicolor`` theme under
  ``$XDG_DATA_HOME/icons``. alertmail writes these files itself (see
  ``freedesktop_entry``).
- Windows: ``alertmail.lnk`` in the Start menu and on the desktop.
- macOS: the application bundle ``alertmail.app`` in ``~/Applications`` and
  on the desktop.

Windows and macOS shortcuts are made by the ``pyshortcuts`` package.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from .errors import AlertmailError

log = logging.getLogger(__name__)

SETTINGS_COMMAND = "alertmail-settings"
SHORTCUT_NAME = "alertmail"
"""Stem of the Windows and macOS shortcut file names."""
DESCRIPTION = "alertmail E-mail Options"
GUI_MODULE = "alertmail.gui.app"


class ShortcutError(AlertmailError):
    """A shortcut could not be created or removed.

    ``path`` is the file or folder that failed, and ``done`` lists the
    files created or removed before the failure.
    """

    def __init__(self, message: str, path: Path | None = None, done: list[Path] | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.done = list(done or [])


def _uses_pyshortcuts() -> bool:
    return sys.platform == "win32" or sys.platform == "darwin"


def settings_command() -> Path:
    """Return the absolute path of this environment's ``alertmail-settings`` command.

    The command is looked up beside the running Python, then in the scripts
    folders of this environment and of a ``pip install --user``. Raises
    ``ShortcutError`` when it is in none of them.
    """
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        folders.append(Path(sysconfig.get_path("scripts", user_scheme)))
    found = shutil.which(SETTINGS_COMMAND, path=os.pathsep.join(str(folder) for folder in folders))
    if found is None:
        raise ShortcutError(
            f"the {SETTINGS_COMMAND} command was not found in "
            + ", ".join(str(folder) for folder in folders)
            + "; install alertmail with pip into this environment first"
        )
    return Path(found).absolute()


def install(*, desktop: bool = True, menu: bool = True) -> list[Path]:
    """Create the menu entry and/or the desktop shortcut; return the paths created.

    Running it again replaces the files. Raises ``ShortcutError`` naming
    the path that could not be written.
    """
    if not (desktop or menu):
        return []
    if _uses_pyshortcuts():
        return _install_with_pyshortcuts(desktop=desktop, menu=menu)
    from . import shortcut_freedesktop as freedesktop

    return freedesktop.install(settings_command(), desktop=desktop, menu=menu)


def uninstall() -> list[Path]:
    """Remove every shortcut ``install`` creates; return the paths removed, empty when none existed."""
    if _uses_pyshortcuts():
        return _uninstall_pyshortcuts()
    from . import shortcut_freedesktop as freedesktop

    return freedesktop.uninstall()


# --- Windows and macOS -----------------------------------------------------------


def _launcher() -> Path:
    """Return the Python that starts the dialog: pythonw.exe on Windows, so no console opens."""
    python = Path(sys.executable)
    if sys.platform == "win32":
        windowless = python.with_name("pythonw.exe")
        if windowless.exists():
            return windowless
    return python


def pyshortcuts_calls(
    platform: str, launcher: Path, home: Path, *, desktop: bool, menu: bool
) -> list[dict]:
    """Return the keyword arguments of each ``pyshortcuts.make_shortcut`` call for ``platform``.

    The dialog starts as ``<launcher> -m alertmail.gui.app``. pyshortcuts
    1.9 splits its ``script`` argument at the first space, so a script path
    in a folder with a space (``C:\\Users\\Jane Doe``) would break. The
    launcher therefore goes in ``executable``, which is never split, and
    ``-m alertmail.gui.app`` is the script. On macOS pyshortcuts runs the
    command through a shell without quoting it, so the path is quoted here.
    """
    from .. import resources

    common = {
        "script": f"-m {GUI_MODULE}",
        "name": SHORTCUT_NAME,
        "description": DESCRIPTION,
        "terminal": False,
    }
    if platform == "win32":
        return [
            {
                **common,
                "executable": str(launcher),
                "icon": str(resources.windows_icon_path()),
                "desktop": desktop,
                "startmenu": menu,
            }
        ]
    import shlex

    mac = {
        **common,
        "executable": shlex.quote(str(launcher)),
        "icon": str(resources.macos_icon_path()),
        "desktop": True,
        "startmenu": False,
    }
    calls = []
    if menu:
        # pyshortcuts puts a macOS bundle in its desktop folder joined with
        # ``folder``; an absolute ``folder`` replaces the desktop folder.
        calls.append({**mac, "folder": str(home / "Applications")})
    if desktop:
        calls.append(mac)
    return calls


def _install_with_pyshortcuts(*, desktop: bool, menu: bool) -> list[Path]:
    # NOTE: this path runs only on Windows and macOS, which this project's
    # test suite does not run on; only the arguments above are tested.
    import pyshortcuts

    created: list[Path] = []
    for call in pyshortcuts_calls(sys.platform, _launcher(), Path.home(), desktop=desktop, menu=menu):
        try:
            written = pyshortcuts.make_shortcut(**call)
        except OSError as error:
            failed = Path(error.filename) if error.filename else None
            raise ShortcutError(
                f"cannot write {failed or 'the shortcut'}: {error.strerror or error}", failed, created
            ) from None
        folders = [written.desktop_dir] if call["desktop"] else []
        if call.get("startmenu") and written.startmenu_dir:
            folders.append(written.startmenu_dir)
        for folder in folders:
            path = Path(folder) / written.target
            log.info("created %s", path)
            created.append(path)
    return created


def _pyshortcuts_paths() -> list[Path]:
    import pyshortcuts
    from pyshortcuts.shortcut import shortcut

    folders = pyshortcuts.get_folders()
    planned = shortcut(f"-m {GUI_MODULE}", folders, name=SHORTCUT_NAME)
    paths = [Path(planned.desktop_dir) / planned.target]
    if sys.platform == "win32":
        paths.append(Path(planned.startmenu_dir) / planned.target)
    else:
        paths.append(Path.home() / "Applications" / planned.target)
    return paths


def _uninstall_pyshortcuts() -> list[Path]:
    removed: list[Path] = []
    for path in _pyshortcuts_paths():
        if not path.exists():
            continue
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as error:
            raise ShortcutError(f"cannot remove {path}: {error.strerror or error}", path, removed) from None
        log.info("removed %s", path)
        removed.append(path)
    return removed
