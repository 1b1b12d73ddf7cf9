"""Render the application icon's PNG, ICO and ICNS files from alertmail.svg.

Run it after changing the SVG, from any folder, and commit the results:

    python resources/make_icons.py            # writes into resources/icons/
    python resources/make_icons.py OUT_DIR    # writes into another folder

It renders with Qt's SVG renderer (QtSvg, part of PySide6-Essentials) into
images in memory, so it needs no display.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "alertmail.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_NAME = "alertmail.ico"
ICNS_NAME = "alertmail.icns"


def png_name(size: int) -> str:
    """Return the file name of the PNG icon of ``size`` pixels."""
    return f"alertmail-{size}.png"


def render(svg: Path, size: int):
    """Render ``svg`` into a transparent ``size`` x ``size`` QImage."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def write_icons(out_dir: Path, svg: Path = SVG) -> list[Path]:
    """Write every PNG size and the ICO and ICNS files into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        path = out_dir / png_name(size)
        if not render(svg, size).save(str(path), "PNG"):
            raise SystemExit(f"make_icons: failed to write {path}")
        written.append(path)

    # Windows shortcuts take an .ico file, macOS application bundles an .icns file.
    ico = out_dir / ICO_NAME
    ico.write_bytes(ico_bytes([path.read_bytes() for path in written], SIZES))
    written.append(ico)
    icns = out_dir / ICNS_NAME
    if not render(svg, max(SIZES)).save(str(icns), "ICNS"):
        raise SystemExit(f"make_icons: failed to write {icns}")
    written.append(icns)
    return written


def ico_bytes(pngs: list[bytes], sizes: tuple[int, ...]) -> bytes:
    """Return an ICO file that contains each PNG image as one size.

    Qt's ICO writer stores a single uncompressed image, so the file is put
    together here: a 6-byte header, one 16-byte entry per image, then the
    PNG data, which Windows reads in ICO files since Windows Vista. A width
    or height of 0 in an entry means 256 pixels.
    """
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries = b""
    for size, data in zip(sizes, pngs, strict=True):
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + entries + b"".join(pngs)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and write the icons."""
    parser = argparse.ArgumentParser(description="Render alertmail's icons from alertmail.svg.")
    parser.add_argument(
        "out_dir", nargs="?", type=Path, default=HERE / "icons",
        help="folder to write into (default: the icons folder beside this script)",
    )
    args = parser.parse_args(argv)
    for path in write_icons(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
