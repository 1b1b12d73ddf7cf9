"""Description of the machine a benchmark runs on, for its results page."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys


def _cpu_model() -> str:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        output = ""
    for line in output.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Model name":
            return value.strip()
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    return f"{line.partition('=')[2].strip().strip(chr(34))}, kernel {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# Printed by another interpreter: its Python version and PySide6-Essentials version.
_VERSIONS_CODE = """\
import importlib.metadata, platform
try:
    pyside = importlib.metadata.version("PySide6-Essentials")
except importlib.metadata.PackageNotFoundError:
    pyside = "not installed"
print(platform.python_implementation(), platform.python_version())
print(pyside)
"""


def _versions_of(python: str) -> tuple[str, str]:
    """Return the Python and PySide6-Essentials versions of the interpreter ``python``."""
    try:
        output = subprocess.run(
            [python, "-c", _VERSIONS_CODE], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown", "unknown"
    return output[0], output[1]


def describe(python: str | None = None) -> str:
    """Return a few lines naming the CPU, cores, memory, OS, Python and PySide6.

    The versions are those of the interpreter ``python``, by default the one running this code.
    """
    if python is None or python == sys.executable:
        python = sys.executable
        python_version = f"{platform.python_implementation()} {platform.python_version()}"
        pyside = _version("PySide6-Essentials")
    else:
        python_version, pyside = _versions_of(python)
    return "\n".join([
        f"CPU: {_cpu_model()}, {os.cpu_count()} cores",
        f"memory: {_memory_gib()}",
        f"OS: {_os_name()}",
        f"Python: {python_version} ({python})",
        f"PySide6-Essentials: {pyside}",
    ])
