"""Fixtures shared by the whole suite.

Every test runs with the platformdirs folders pointed at a temporary folder
and a real keyring backend (keyrings.alt's plain-text file backend) writing
there, so no test touches the real home folder or the desktop keyring.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Server fixtures (aiosmtpd, TLS, POP3, fault-injecting servers) live in
# tests/servers.py and are registered here as a plugin.
pytest_plugins = ["servers", "oauth_servers"]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point XDG config, data, state and cache folders at a temporary folder."""
    folders = {}
    for name in ("config", "data", "state", "cache"):
        folder = tmp_path / "xdg" / name
        folder.mkdir(parents=True)
        monkeypatch.setenv(f"XDG_{name.upper()}_HOME", str(folder))
        folders[name] = folder
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    # Subprocesses (the command line) pick the same backend by name; its file
    # lives under XDG_DATA_HOME/python_keyring, outside alertmail's folders.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    return folders


@pytest.fixture(autouse=True)
def test_keyring(isolated_dirs: dict[str, Path]):
    """Install a real file-backed keyring backend in the temporary data folder."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(isolated_dirs["data"] / "python_keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
