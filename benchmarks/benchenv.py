"""The Python that start-up benchmarks run: a virtual environment with a regular install.

Users install alertmail with ``pip install .``, so the benchmarks measure
that. An editable install (``pip install -e``) adds an import finder that
``site`` loads at every start, and ``PYTHONDONTWRITEBYTECODE`` makes every
start compile from source. Neither is what an installed program pays.

``prepare()`` creates the environment once in a cache folder
(``benchmarks/.venv-bench`` by default, ignored by git) and installs the
repository's ``HEAD`` commit into it with ``pip install``. It reinstalls
alertmail only when ``HEAD`` has changed since the last install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_VENV = Path(__file__).resolve().parent / ".venv-bench"
# Installed beside alertmail: the keyring backend startup.py stores its passwords with.
EXTRA_PACKAGES = ("keyrings.alt",)
MARKER_NAME = "alertmail-installed-commit"
PIP_TIMEOUT_S = 1800


class BenchEnvError(RuntimeError):
    """The benchmark environment could not be created or updated."""


def head_commit(repository: Path = REPOSITORY) -> str:
    """Return the full hash of ``HEAD``, or raise ``BenchEnvError`` outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repository), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise BenchEnvError(f"cannot read the commit of {repository}: {error}") from None
    return result.stdout.strip()


def venv_python(venv: Path) -> Path:
    """Return the interpreter of the virtual environment ``venv``."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(command: Sequence[str], what: str) -> None:
    print(f"  {what}: {' '.join(str(part) for part in command)}", flush=True)
    # pip runs as on a user's machine, with bytecode caching on.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if result.returncode != 0:
        raise BenchEnvError(f"{what} failed with status {result.returncode}:\n{result.stderr[-2000:]}")


def _export_commit(commit: str, target: Path) -> None:
    """Write the files of ``commit`` into ``target`` with ``git archive``."""
    archive = target / "source.tar"
    with archive.open("wb") as stream:
        result = subprocess.run(
            ["git", "-C", str(REPOSITORY), "archive", "--format=tar", commit],
            stdout=stream, stderr=subprocess.PIPE, timeout=120,
        )
    if result.returncode != 0:
        raise BenchEnvError(f"git archive {commit} failed: {result.stderr.decode(errors='replace')}")
    source = target / "source"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(source, filter="data")
        else:
            # Python before 3.11.4 has no extraction filters; git wrote the archive.
            tar.extractall(source)
    archive.unlink()


def prepare(venv: Path = DEFAULT_VENV) -> tuple[Path, str]:
    """Create or update the environment; return its interpreter and the installed commit.

    The environment is created with the interpreter running this script. The
    first install brings the dependencies from the package index. Later
    calls reinstall alertmail alone, and only when ``HEAD`` has moved.
    Committed files are installed, so changes not yet committed are not
    measured.
    """
    commit = head_commit()
    python = venv_python(venv)
    marker = venv / MARKER_NAME
    if not python.exists():
        print(f"creating the benchmark environment {venv}", flush=True)
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(venv)], "python -m venv")
    installed = marker.read_text(encoding="ascii").strip() if marker.exists() else None
    if installed == commit:
        return python, commit

    with tempfile.TemporaryDirectory(prefix="alertmail-bench-source-") as folder:
        _export_commit(commit, Path(folder))
        source = str(Path(folder) / "source")
        if installed is None:
            _run([str(python), "-m", "pip", "install", "--quiet", source, *EXTRA_PACKAGES], "pip install")
        else:
            _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", source],
                 "pip install (alertmail only)")
    marker.write_text(commit + "\n", encoding="ascii")
    return python, commit


def child_environment(base: Mapping[str, str], *, pycache_prefix: Path | None) -> dict[str, str]:
    """Return ``base`` with bytecode caching on, as an installed program runs.

    ``PYTHONDONTWRITEBYTECODE`` is removed. With ``pycache_prefix``, bytecode
    is cached there: for the current interpreter, whose modules may sit in a
    read-only or shared tree. The installed environment keeps the ``.pyc``
    files pip wrote beside its modules.
    """
    env = dict(base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache_prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix)
    return env


def console_script(python: Path, name: str) -> Path:
    """Return the console script ``name`` installed beside ``python``."""
    return python.parent / (f"{name}.exe" if os.name == "nt" else name)
