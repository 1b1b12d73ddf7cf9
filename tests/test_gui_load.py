"""A settings file that cannot be read is reported once, at the top of the dialog, over defaults."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QMessageBox

from alertmail.core.settings import Settings
from alertmail.core.store import config_path, load_settings
from gui_support import click, field, open_dialog, set_field


def write_config(data: bytes) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_bytes(data)


@pytest.mark.parametrize(
    "data",
    [b'schema = 1\n[general]\nerrors_to = ["ops@exa', b"", b"\0" * 4096],
    ids=["truncated", "empty", "zero-filled"],
)
def test_unreadable_file_shown_once(qtbot, data):
    write_config(data)
    dialog = open_dialog(qtbot)
    banner = dialog.findChild(QLabel, "loadProblemBanner")

    assert banner.isVisible()
    assert "could not be read" in banner.text()
    assert ".corrupt-" in banner.text()
    assert dialog.working == Settings()
    assert dialog.findChildren(QMessageBox) == []
    assert not config_path().exists()
    kept = [path.name for path in config_path().parent.iterdir()]
    assert len(kept) == 1
    assert kept[0].startswith("alertmail.toml.corrupt-")


def test_unreadable_file_not_written_on_cancel(qtbot):
    write_config(b"\0" * 4096)
    dialog = open_dialog(qtbot)

    dialog.reject()

    assert not config_path().exists()


def test_invalid_values_shown_as_defaults(qtbot):
    write_config(b'[primary]\nhost = "127.0.0.1"\nport = 70000\n')
    dialog = open_dialog(qtbot, tab="primary")
    banner = dialog.findChild(QLabel, "loadProblemBanner")

    assert banner.isVisible()
    assert "invalid values" in banner.text()
    assert "primary.port" in banner.text()
    assert field(dialog, "primary.port").value() == 25
    assert field(dialog, "primary.host").text() == "127.0.0.1"
    assert dialog.apply_button.isEnabled()


def test_invalid_values_fixed_by_saving(qtbot):
    write_config(b'[primary]\nhost = "127.0.0.1"\nport = 70000\n')
    dialog = open_dialog(qtbot, tab="primary")
    set_field(dialog, "primary.port", 2525)

    click(qtbot, dialog, "okButton")

    reloaded = load_settings()
    assert reloaded.problem is None
    assert reloaded.settings["primary.port"] == 2525


def test_no_banner_for_good_file(qtbot):
    dialog = open_dialog(qtbot)

    assert not dialog.findChild(QLabel, "loadProblemBanner").isVisible()
