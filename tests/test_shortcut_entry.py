"""Exec quoting of the freedesktop entry, and the pyshortcuts arguments for Windows and macOS."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from alertmail import resources
from alertmail.core import shortcut
from alertmail.core.shortcut_freedesktop import exec_argument, freedesktop_entry

VALIDATOR = shutil.which("desktop-file-validate")
GIO = shutil.which("gio")


@pytest.mark.parametrize(
    "argument, expected",
    [
        ("/opt/venv/bin/alertmail-settings", "/opt/venv/bin/alertmail-settings"),
        ("/home/Jane Doe/bin/a", '"/home/Jane Doe/bin/a"'),
        # Quoting escapes $ with one backslash, and the string escaping of
        # desktop files doubles it (the Exec key rules of the specification).
        ("/srv/$x/a", '"/srv/\\\\$x/a"'),
        ("/srv/back\\slash/a", '"/srv/back\\\\\\\\slash/a"'),
        ("/srv/50%/a", "/srv/50%%/a"),
        ('/srv/say "hi"/a', '"/srv/say \\\\"hi\\\\"/a"'),
    ],
)
def test_exec_argument_quoting(argument, expected):
    assert exec_argument(argument) == expected


def template() -> str:
    return resources.desktop_entry_path().read_text(encoding="utf-8")


def test_entry_keeps_action_arguments():
    entry = freedesktop_entry(template(), Path("/home/Jane Doe/venv/bin/alertmail-settings"))

    lines = entry.splitlines()
    assert 'Exec="/home/Jane Doe/venv/bin/alertmail-settings"' in lines
    assert 'Exec="/home/Jane Doe/venv/bin/alertmail-settings" --tab queue' in lines
    assert "TryExec=/home/Jane Doe/venv/bin/alertmail-settings" in lines


@pytest.mark.skipif(VALIDATOR is None, reason="desktop-file-validate is not installed")
def test_entry_with_quoted_path_validates(tmp_path):
    path = tmp_path / "entry.desktop"
    path.write_text(freedesktop_entry(template(), Path("/home/Jane Doe/$HOME (copy)/alertmail-settings")))

    result = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout


@pytest.mark.skipif(GIO is None, reason="gio is not installed")
def test_gio_launches_program_with_space_and_dollar(tmp_path):
    folder = tmp_path / "Jane Doe $HOME"
    folder.mkdir()
    record = tmp_path / "argv.txt"
    program = folder / "alertmail-settings"
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > "{record}.part" && mv "{record}.part" "{record}"\n')
    program.chmod(0o755)
    entry = tmp_path / "alertmail-settings.desktop"
    entry.write_text(freedesktop_entry(template(), program))

    result = subprocess.run([GIO, "launch", str(entry)], capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text().splitlines() == [str(program)]


# --- Windows and macOS -------------------------------------------------------------------


def test_windows_call_keeps_spaced_launcher_whole():
    launcher = Path("C:/Users/Jane Doe/venv/Scripts/pythonw.exe")

    calls = shortcut.pyshortcuts_calls("win32", launcher, Path("C:/Users/Jane Doe"), desktop=True, menu=True)

    assert len(calls) == 1
    call = calls[0]
    assert call["executable"] == str(launcher)
    assert call["script"] == "-m alertmail.gui.app"
    assert call["name"] == "alertmail"
    assert call["terminal"] is False
    assert (call["desktop"], call["startmenu"]) == (True, True)
    assert Path(call["icon"]).suffix == ".ico"
    assert Path(call["icon"]).is_file()


@pytest.mark.parametrize("desktop, menu", [(True, False), (False, True)])
def test_windows_call_flags(desktop, menu):
    calls = shortcut.pyshortcuts_calls("win32", Path("C:/p/pythonw.exe"), Path("C:/h"), desktop=desktop, menu=menu)

    assert (calls[0]["desktop"], calls[0]["startmenu"]) == (desktop, menu)


def test_macos_calls_menu_and_desktop():
    launcher = Path("/Users/Jane Doe/venv/bin/python")
    home = Path("/Users/Jane Doe")

    calls = shortcut.pyshortcuts_calls("darwin", launcher, home, desktop=True, menu=True)

    assert [call.get("folder") for call in calls] == [str(home / "Applications"), None]
    for call in calls:
        assert shlex.split(call["executable"]) == [str(launcher)]
        assert call["script"] == "-m alertmail.gui.app"
        assert call["desktop"] is True
        assert call["terminal"] is False
        assert Path(call["icon"]).suffix == ".icns"
        assert Path(call["icon"]).is_file()


def test_macos_desktop_only():
    calls = shortcut.pyshortcuts_calls("darwin", Path("/v/bin/python"), Path("/Users/j"), desktop=True, menu=False)

    assert len(calls) == 1
    assert "folder" not in calls[0]
