"""A built and installed alertmail carries its resources as package data.

The wheel is built from a copy of the source tree, so the build leaves no
build/ or egg-info folder in the repository, and is installed without its
dependencies into a new virtual environment. The module took about 5 s on a
2-core machine, most of it building the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import alertmail.resources

SOURCE = Path(alertmail.resources.__file__).resolve().parent.parent
COPIED = ("pyproject.toml", "README.md", "core", "gui", "resources")
DATA_PATTERNS = ("*.svg", "*.desktop", "icons/*", "help/*.html")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("source")
    for name in COPIED:
        source = SOURCE / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    out_dir = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(tree), "-w", str(out_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out_dir.glob("alertmail-*.whl")
    return built


def test_wheel_contains_resource_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    expected = set()
    for pattern in DATA_PATTERNS:
        expected.update(
            "alertmail/resources/" + path.relative_to(SOURCE / "resources").as_posix()
            for path in (SOURCE / "resources").glob(pattern)
        )
    assert len(expected) >= 14
    assert expected - names == set()
    assert "alertmail/resources/__init__.py" in names


def test_wheel_installs_no_bare_packages(wheel):
    top_levels = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}

    assert "alertmail" in top_levels
    others = top_levels - {"alertmail"}
    assert len(others) == 1
    assert others.pop().endswith(".dist-info")


def test_installed_icon_path_exists(wheel, tmp_path):
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    python = environment / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr

    code = (
        "from alertmail.resources import icon_path, render_help\n"
        "print(icon_path(48))\n"
        "print(len(render_help('primary')))\n"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    icon, length = result.stdout.splitlines()
    assert Path(icon).is_file()
    assert Path(icon).is_relative_to(environment)
    assert int(length) > 5000
