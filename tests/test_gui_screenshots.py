"""tools/screenshots.py renders every tab at the default size, without touching the user's folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from alertmail.gui.dialog import DEFAULT_SIZE

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "screenshots.py"
STEMS = ["general", "mail-server", "secondary-mail-server", "queue"]


def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "shots"), *args],
        capture_output=True, text=True, timeout=120, env=environment,
    )


@pytest.mark.parametrize("args, suffix, scale", [((), "", 1), (("--dark", "--scale", "2"), "-dark@2x", 2)])
def test_screenshot_of_every_tab(tmp_path, isolated_dirs, args, suffix, scale):
    process = run_script(tmp_path, *args)

    assert process.returncode == 0, process.stderr[-2000:]
    expected = [tmp_path / "shots" / f"{stem}{suffix}.png" for stem in STEMS]
    assert process.stdout.split() == [str(path) for path in expected]
    for path in expected:
        image = QImage(str(path))
        assert (image.width(), image.height()) == (DEFAULT_SIZE[0] * scale, DEFAULT_SIZE[1] * scale), path.name
    for folder in isolated_dirs.values():
        assert not any(folder.rglob("alertmail*")), folder
