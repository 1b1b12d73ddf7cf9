"""alertmail install-shortcut and uninstall-shortcut on a freedesktop system.

Every test runs with HOME, XDG_DATA_HOME and XDG_CONFIG_HOME in a temporary
folder (tests/conftest.py), so the entries land there.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from alertmail import resources
from alertmail.core import cli_shortcut, shortcut
from alertmail.core import shortcut_freedesktop as freedesktop

pytestmark = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="freedesktop entries are written on Linux and BSD"
)

ENTRY = "alertmail-settings.desktop"
VALIDATOR = shutil.which("desktop-file-validate")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run an alertmail shortcut command; return (exit status, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="alertmail")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_shortcut.register(commands)
    args = parser.parse_args(argv)
    status = args.handler(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def entry_values(path: Path, group: str = "Desktop Entry") -> dict[str, str]:
    values: dict[str, str] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == group and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def exec_program(value: str) -> Path:
    """Return the program of an Exec value after the desktop file's string escaping."""
    unescaped = value.replace("\\\\", "\\")
    return Path(shlex.split(unescaped)[0].replace("%%", "%"))


@pytest.fixture
def menu_entry(isolated_dirs) -> Path:
    return isolated_dirs["data"] / "applications" / ENTRY


@pytest.fixture
def home() -> Path:
    return Path(os.environ["HOME"])


def test_install_creates_menu_and_desktop_entries(capsys, menu_entry, home):
    status, out, err = run(capsys, "install-shortcut")

    desktop_entry = home / "Desktop" / ENTRY
    assert status == 0, err
    assert menu_entry.is_file()
    assert desktop_entry.is_file()
    assert f"created {menu_entry}" in out.splitlines()
    assert f"created {desktop_entry}" in out.splitlines()
    assert desktop_entry.read_text() == menu_entry.read_text()
    assert os.access(desktop_entry, os.X_OK)


def test_exec_is_settings_command_of_environment(capsys, menu_entry):
    run(capsys, "install-shortcut", "--menu")

    values = entry_values(menu_entry)
    program = exec_program(values["Exec"])
    scripts = {Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))}
    assert program.is_absolute()
    assert program.name == "alertmail-settings"
    assert program.parent in scripts
    assert program.is_file()
    assert os.access(program, os.X_OK)
    assert Path(values["TryExec"]) == program
    queue_action = entry_values(menu_entry, "Desktop Action queue")["Exec"]
    assert shlex.split(queue_action.replace("\\\\", "\\"))[1:] == ["--tab", "queue"]


def test_entry_keys(capsys, menu_entry):
    run(capsys, "install-shortcut", "--menu")

    values = entry_values(menu_entry)
    assert values["Type"] == "Application"
    assert values["Name"] == "alertmail E-mail Options"
    assert values["Comment"]
    assert values["Terminal"] == "false"
    assert values["Categories"] == "Network;Settings;"
    # Qt sets the window's WM_CLASS class to the application name, "alertmail".
    assert values["StartupWMClass"] == "alertmail"


def test_icon_installed_in_theme(capsys, menu_entry, isolated_dirs):
    status, out, _ = run(capsys, "install-shortcut", "--menu")

    assert status == 0
    assert entry_values(menu_entry)["Icon"] == "alertmail"
    theme = isolated_dirs["data"] / "icons" / "hicolor"
    for size in resources.ICON_SIZES:
        icon = theme / f"{size}x{size}" / "apps" / "alertmail.png"
        assert icon.read_bytes() == resources.icon_path(size).read_bytes(), size
        assert f"created {icon}" in out.splitlines()
    assert (theme / "scalable" / "apps" / "alertmail.svg").read_bytes() == resources.svg_path().read_bytes()


@pytest.mark.skipif(VALIDATOR is None, reason="desktop-file-validate is not installed")
def test_entries_pass_desktop_file_validate(capsys, menu_entry, home):
    run(capsys, "install-shortcut")

    for path in (menu_entry, home / "Desktop" / ENTRY):
        result = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "error:" not in result.stdout


def test_desktop_flag_only(capsys, menu_entry, home):
    status, out, _ = run(capsys, "install-shortcut", "--desktop")

    assert status == 0
    assert (home / "Desktop" / ENTRY).is_file()
    assert not menu_entry.exists()


def test_menu_flag_only(capsys, menu_entry, home):
    status, _, _ = run(capsys, "install-shortcut", "--menu")

    assert status == 0
    assert menu_entry.is_file()
    assert not (home / "Desktop" / ENTRY).exists()


def test_install_twice_replaces_files(capsys, menu_entry, home):
    first, _, _ = run(capsys, "install-shortcut")
    before = menu_entry.read_text()
    second, out, err = run(capsys, "install-shortcut")

    assert (first, second) == (0, 0), err
    assert menu_entry.read_text() == before
    assert f"created {menu_entry}" in out.splitlines()
    leftovers = [path.name for path in menu_entry.parent.iterdir() if path.name != ENTRY]
    assert leftovers == []
    assert sorted(path.name for path in (home / "Desktop").iterdir()) == [ENTRY]


def test_uninstall_removes_everything(capsys, menu_entry, home, isolated_dirs):
    run(capsys, "install-shortcut")
    status, out, err = run(capsys, "uninstall-shortcut")

    desktop_entry = home / "Desktop" / ENTRY
    assert status == 0, err
    assert not menu_entry.exists()
    assert not desktop_entry.exists()
    assert f"removed {menu_entry}" in out.splitlines()
    assert f"removed {desktop_entry}" in out.splitlines()
    theme = isolated_dirs["data"] / "icons" / "hicolor"
    assert [path for path in theme.rglob("*") if path.is_file()] == []


def test_uninstall_without_install_says_so(capsys):
    status, out, err = run(capsys, "uninstall-shortcut")

    assert status == 0
    assert out.strip() == "no alertmail shortcut is installed; nothing was removed"
    assert err == ""


def test_unwritable_menu_folder_exit_1(capsys, isolated_dirs):
    # A file where the applications folder belongs cannot be written into,
    # also for root, which ignores permission bits.
    blocker = isolated_dirs["data"] / "applications"
    blocker.write_text("not a folder")

    status, out, err = run(capsys, "install-shortcut", "--menu")

    assert status == 1
    assert str(blocker / ENTRY) in err
    assert err.startswith("alertmail: cannot write ")
    assert blocker.read_text() == "not a folder"
    # The icons written before the failure are listed.
    assert out.splitlines()[0].startswith("created ")


def test_unremovable_entry_exit_1(capsys, menu_entry):
    menu_entry.mkdir(parents=True)
    (menu_entry / "inside").write_text("")

    status, _, err = run(capsys, "uninstall-shortcut")

    assert status == 1
    assert f"cannot remove {menu_entry}" in err


def test_missing_settings_command_exit_1(capsys, monkeypatch, menu_entry):
    monkeypatch.setattr(shortcut, "SETTINGS_COMMAND", "alertmail-no-such-command")

    status, _, err = run(capsys, "install-shortcut")

    assert status == 1
    assert "alertmail-no-such-command command was not found" in err
    assert str(Path(sys.executable).parent) in err
    assert not menu_entry.exists()


# --- desktop folder ------------------------------------------------------------------------


def write_user_dirs(isolated_dirs, line: str) -> None:
    (isolated_dirs["config"] / "user-dirs.dirs").write_text(
        "# written by xdg-user-dirs-update\n" + line + "\n", encoding="utf-8"
    )


def xdg_user_dir_desktop() -> Path | None:
    program = shutil.which("xdg-user-dir")
    if program is None:
        return None
    result = subprocess.run([program, "DESKTOP"], capture_output=True, text=True, check=True)
    return Path(result.stdout.strip())


@pytest.mark.parametrize(
    "line, expected",
    [
        ('XDG_DESKTOP_DIR="$HOME/Schreibtisch"', "home/Schreibtisch"),
        ('XDG_DESKTOP_DIR="$HOME/My Desktop"', "home/My Desktop"),
        ('XDG_DESKTOP_DIR="{tmp}/elsewhere"', "elsewhere"),
        ('XDG_MUSIC_DIR="$HOME/Music"', "home/Desktop"),
    ],
)
def test_desktop_folder_from_user_dirs(capsys, isolated_dirs, tmp_path, line, expected):
    write_user_dirs(isolated_dirs, line.format(tmp=tmp_path))

    status, out, _ = run(capsys, "install-shortcut", "--desktop")

    folder = tmp_path / expected
    assert status == 0
    assert freedesktop.desktop_dir() == folder
    assert (folder / ENTRY).is_file()
    assert f"created {folder / ENTRY}" in out.splitlines()
    reference = xdg_user_dir_desktop()
    if reference is not None:
        assert reference == folder


def test_desktop_folder_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DESKTOP_DIR", str(tmp_path / "from-env"))

    assert freedesktop.desktop_dir() == tmp_path / "from-env"
    reference = xdg_user_dir_desktop()
    if reference is not None:
        assert reference == tmp_path / "from-env"


def test_user_dirs_file_wins_over_environment(monkeypatch, isolated_dirs, tmp_path):
    monkeypatch.setenv("XDG_DESKTOP_DIR", str(tmp_path / "from-env"))
    write_user_dirs(isolated_dirs, 'XDG_DESKTOP_DIR="$HOME/from-file"')

    assert freedesktop.desktop_dir() == tmp_path / "home" / "from-file"
