"""core/ never imports Qt, and the command line's hot path stays light."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import alertmail.core

CORE = Path(alertmail.core.__file__).parent


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_sources_import_no_qt():
    offenders = {}
    for path in CORE.glob("*.py"):
        qt = {name for name in imported_names(path) if name.split(".")[0] in ("PySide6", "shiboken6", "alertmail")}
        qt = {name for name in qt if not name.startswith("alertmail.core")}
        if qt:
            offenders[path.name] = sorted(qt)
    assert offenders == {}


def test_importing_all_of_core_loads_no_qt():
    modules = [f"alertmail.core.{info.name}" for info in pkgutil.iter_modules([str(CORE)])]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"
