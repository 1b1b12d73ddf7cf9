"""The freedesktop menu entry, desktop launcher and theme icon of the settings dialog.

alertmail writes these files itself, because pyshortcuts 1.9.11 cannot
write a correct entry on Linux:

- it always writes to ``~/.local/share/applications`` and ignores
  ``XDG_DATA_HOME``;
- it puts the script path into ``Exec`` unquoted, so a path with a space
  breaks;
- it derives the file name from the display name, and writes no
  ``Categories``, ``TryExec`` or ``StartupWMClass``;
- it reads ``user-dirs.dirs`` only from ``~/.config``, ignoring
  ``XDG_CONFIG_HOME``.

The entry is the template ``alertmail-settings.desktop`` from
``alertmail.resources`` with ``Exec`` and ``TryExec`` set to the absolute
path of the ``alertmail-settings`` command, so the shortcut opens the
dialog of the environment it was installed from, a virtual environment
included. The icon goes into the ``hicolor`` theme, so desktops pick the
size they need.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .shortcut import ShortcutError

log = logging.getLogger(__name__)

ENTRY_NAME = "alertmail-settings.desktop"
# Characters that force quoting of an Exec argument (Desktop Entry
# Specification 1.5, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_QUOTED_ESCAPES = re.compile(r'(["`$\\])')
# Without a metadata service gio fails in about 10 ms (measured with GLib
# 2.74); the limit only bounds a call that hangs.
GIO_TIMEOUT_S = 5


class _Failure(Exception):
    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


# --- folders ---------------------------------------------------------------------


def _xdg_home(variable: str, default: str) -> Path:
    """Return an XDG base folder; the XDG Base Directory specification makes a relative value invalid, so it is ignored."""
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / default


def data_home() -> Path:
    """Return ``$XDG_DATA_HOME``, by default ``~/.local/share``."""
    return _xdg_home("XDG_DATA_HOME", ".local/share")


def applications_dir() -> Path:
    """Return the folder of the user's menu entries."""
    return data_home() / "applications"


def icon_theme_dir() -> Path:
    """Return the user's ``hicolor`` icon theme folder."""
    return data_home() / "icons" / "hicolor"


def _user_dirs_value(text: str, key: str) -> str | None:
    """Return the last value of ``key`` in a ``user-dirs.dirs`` file, quotes removed."""
    value = None
    for line in text.splitlines():
        name, separator, rest = line.strip().partition("=")
        if separator and name.strip() == key:
            value = rest.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
    return value


def _expand_user_dir(value: str) -> Path | None:
    """Return a ``user-dirs.dirs`` path, ``$HOME``-relative or absolute; None for any other form."""
    if value == "$HOME":
        return Path.home()
    if value.startswith("$HOME/"):
        return Path.home() / value[len("$HOME/"):]
    if value.startswith("/"):
        return Path(value)
    return None


def desktop_dir() -> Path:
    """Return the desktop folder as ``xdg-user-dir DESKTOP`` prints it.

    The ``XDG_DESKTOP_DIR`` line of ``$XDG_CONFIG_HOME/user-dirs.dirs`` comes
    first, then the ``XDG_DESKTOP_DIR`` environment variable, then ``~/Desktop``.
    """
    config = _xdg_home("XDG_CONFIG_HOME", ".config") / "user-dirs.dirs"
    try:
        value = _user_dirs_value(config.read_text(encoding="utf-8"), "XDG_DESKTOP_DIR")
    except (OSError, UnicodeDecodeError):
        value = None
    if value is None:
        value = os.environ.get("XDG_DESKTOP_DIR")
    folder = _expand_user_dir(value) if value else None
    return folder if folder is not None else Path.home() / "Desktop"


# --- the entry ----------------------------------------------------------------------


def exec_argument(argument: str) -> str:
    """Return ``argument`` as one argument of an ``Exec`` value.

    An argument with a space or another reserved character is put in double
    quotes with ``"``, `````, ``$`` and ``\\`` escaped. A literal ``%`` is
    doubled. Then the string escaping of every desktop file value doubles
    each backslash, as the specification requires.

    NOTE: GLib 2.74 looks for the program before it expands ``%%``, so GNOME
    rejects an entry whose command path contains ``%`` (seen with ``gio launch``).
    """
    text = argument.replace("%", "%%")
    if not text or any(char in _RESERVED for char in text):
        text = '"' + _QUOTED_ESCAPES.sub(r"\\\1", text) + '"'
    return text.replace("\\", "\\\\")


def _string_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def freedesktop_entry(template: str, command: Path) -> str:
    """Return the entry ``template`` with its ``Exec`` and ``TryExec`` naming ``command``.

    Each ``Exec`` line keeps its arguments after the command name; the
    command becomes the absolute ``command`` path.
    """
    lines = []
    for line in template.splitlines():
        key, separator, value = line.partition("=")
        if separator and key == "Exec":
            arguments = value.split(" ", 1)[1:]
            line = "Exec=" + " ".join([exec_argument(str(command)), *arguments])
        elif separator and key == "TryExec":
            line = "TryExec=" + _string_value(str(command))
        lines.append(line)
    return "\n".join(lines) + "\n"


# --- files --------------------------------------------------------------------------


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all: a temporary file in its folder, then a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".alertmail-", dir=path.parent)
    except OSError as error:
        raise _Failure(path, error) from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _Failure(path, error) from None


def _mark_trusted(path: Path) -> None:
    """Mark a desktop launcher as trusted for GNOME's desktop, when gio and its metadata service are there.

    Desktops that need no mark (KDE Plasma) start an executable launcher
    without it. The mark is best effort: a failure is logged at debug level.
    """
    gio = shutil.which("gio")
    if gio is None:
        return
    try:
        result = subprocess.run(
            [gio, "set", str(path), "metadata::trusted", "true"],
            capture_output=True, text=True, timeout=GIO_TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.debug("could not mark %s as trusted: %s", path, error)
        return
    if result.returncode != 0:
        log.debug("could not mark %s as trusted: %s", path, result.stderr.strip())


def icon_files() -> list[tuple[Path, Path]]:
    """Return ``(source, target)`` for every icon file the theme gets."""
    from .. import resources

    theme = icon_theme_dir()
    files = [
        (resources.icon_path(size), theme / f"{size}x{size}" / "apps" / f"{resources.ICON_NAME}.png")
        for size in resources.ICON_SIZES
    ]
    files.append((resources.svg_path(), theme / "scalable" / "apps" / f"{resources.ICON_NAME}.svg"))
    return files


def _touch_theme() -> None:
    """Update the theme folder's time, so a GTK icon cache older than it is not used."""
    theme = icon_theme_dir()
    try:
        os.utime(theme)
    except OSError as error:
        log.debug("could not update the time of %s: %s", theme, error)


def install(command: Path, *, desktop: bool, menu: bool) -> list[Path]:
    """Install the icon and the entries that open ``command``; return the paths written.

    Raises ``ShortcutError`` naming the path that could not be written, with
    the paths written before it.
    """
    from .. import resources

    entry = freedesktop_entry(resources.desktop_entry_path().read_text(encoding="utf-8"), command)
    written: list[Path] = []
    try:
        for source, target in icon_files():
            _write_file(target, source.read_bytes(), 0o644)
            written.append(target)
        _touch_theme()
        if menu:
            target = applications_dir() / ENTRY_NAME
            _write_file(target, entry.encode("utf-8"), 0o644)
            written.append(target)
        if desktop:
            # File managers start a launcher on the desktop only when it is executable.
            target = desktop_dir() / ENTRY_NAME
            _write_file(target, entry.encode("utf-8"), 0o755)
            written.append(target)
            _mark_trusted(target)
    except _Failure as failure:
        reason = failure.error.strerror or str(failure.error)
        raise ShortcutError(f"cannot write {failure.path}: {reason}", failure.path, written) from None
    for path in written:
        log.info("created %s", path)
    return written


def installed_paths() -> list[Path]:
    """Return every path ``install`` may create: both entries, then the icon files."""
    paths = [applications_dir() / ENTRY_NAME, desktop_dir() / ENTRY_NAME]
    return paths + [target for _, target in icon_files()]


def uninstall() -> list[Path]:
    """Remove the entries and the icon files; return the paths removed.

    Raises ``ShortcutError`` naming the path that could not be removed, with
    the paths removed before it.
    """
    removed: list[Path] = []
    for path in installed_paths():
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as error:
            reason = error.strerror or str(error)
            raise ShortcutError(f"cannot remove {path}: {reason}", path, removed) from None
        log.info("removed %s", path)
        removed.append(path)
    if removed:
        _touch_theme()
    return removed
