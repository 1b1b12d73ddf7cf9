"""The icon files, the desktop entry template and the help pages in alertmail.resources."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from alertmail import resources

RESOURCES = Path(resources.__file__).parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG file's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def ico_sizes(path: Path) -> list[int]:
    """Return the image sizes listed in an ICO file's directory (0 means 256)."""
    data = path.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height = struct.unpack("<BB", data[6 + 16 * index: 8 + 16 * index])
        assert width == height
        sizes.append(width or 256)
    return sizes


# --- icons ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", resources.ICON_SIZES)
def test_png_icon_has_its_size(size):
    path = resources.icon_path(size)
    assert path.name == f"alertmail-{size}.png"
    assert png_size(path) == (size, size)


def test_icon_path_default_is_largest():
    assert resources.icon_path() == resources.icon_path(256)


def test_icon_path_unknown_size_rejected():
    with pytest.raises(ValueError, match="16, 24, 32, 48, 64, 128, 256"):
        resources.icon_path(20)


def test_svg_is_square_svg():
    root = ElementTree.parse(resources.svg_path()).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"


def test_platform_icons_exist():
    assert ico_sizes(resources.windows_icon_path()) == list(resources.ICON_SIZES)
    assert resources.macos_icon_path().read_bytes()[:4] == b"icns"


def image_bytes(path: Path) -> bytes:
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_ARGB32)
    return bytes(image.constBits())


def test_make_icons_reproduces_committed_files(tmp_path, qapp):
    out_dir = tmp_path / "icons"
    script = RESOURCES / "make_icons.py"
    result = subprocess.run(
        [sys.executable, str(script), str(out_dir)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr

    committed = sorted(path.name for path in (RESOURCES / "icons").iterdir())
    assert sorted(path.name for path in out_dir.iterdir()) == committed
    for size in resources.ICON_SIZES:
        fresh = out_dir / f"alertmail-{size}.png"
        assert png_size(fresh) == (size, size)
        # Exact bytes may differ between Qt versions, so the pixels are compared.
        # A small mean difference allows for antialiasing, and a larger one means
        # the SVG was edited without rendering the PNGs again.
        old, new = image_bytes(resources.icon_path(size)), image_bytes(fresh)
        assert len(old) == len(new)
        mean_difference = sum(abs(a - b) for a, b in zip(old, new)) / len(old)
        assert mean_difference < 2.0, f"{size} px differs by {mean_difference:.2f} per channel"
    assert ico_sizes(out_dir / "alertmail.ico") == list(resources.ICON_SIZES)


# --- desktop entry template ---------------------------------------------------------------


def test_desktop_template_keys():
    text = resources.desktop_entry_path().read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    for line in (
        "Type=Application",
        "Exec=alertmail-settings",
        "Icon=alertmail",
        "Terminal=false",
        "Categories=Network;Settings;",
        "StartupWMClass=alertmail",
    ):
        assert line in lines


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate is not installed")
def test_desktop_template_validates():
    result = subprocess.run(
        ["desktop-file-validate", str(resources.desktop_entry_path())], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout


# --- help pages -------------------------------------------------------------------------


@pytest.mark.parametrize("name", resources.HELP_PAGES + resources.SHARED_HELP_SECTIONS)
def test_help_path_exists(name):
    path = resources.help_path(name)
    assert path.name == f"{name}.html"
    assert path.is_file()


def test_help_path_unknown_rejected():
    with pytest.raises(ValueError, match="general, server, queue"):
        resources.help_path("../settings")


def test_help_pages_have_fields_placeholder():
    for page in resources.HELP_PAGES:
        text = resources.help_path(page).read_text(encoding="utf-8")
        assert text.count(resources.FIELDS_PLACEHOLDER) == 1, page
        assert "<!-- include failover -->" in text, page
        assert "<script" not in text.lower(), page


def test_help_unknown_tab_rejected():
    with pytest.raises(ValueError, match="general, primary, secondary"):
        resources.render_help("passwords")
