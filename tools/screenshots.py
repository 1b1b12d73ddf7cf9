"""Render a PNG of each tab of the E-mail Options dialog, for the README.

Run from the repository root, with alertmail installed (``pip install -e .``)::

    python tools/screenshots.py                 # docs/screenshots/<tab>.png
    python tools/screenshots.py --dark          # <tab>-dark.png, Fusion style with a dark palette
    python tools/screenshots.py --scale 2       # <tab>@2x.png, as on a 200 % display

The dialog runs on Qt's offscreen platform unless ``QT_QPA_PLATFORM`` names
another platform, so no X server is needed. It shows example settings, passwords
and queued messages made in a temporary folder: the script points
``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``, ``XDG_STATE_HOME`` and
``XDG_CACHE_HOME`` there before anything reads them, and keeps the passwords
in an in-memory keyring. Your own settings, queue and keyring are never
read or changed. Each tab is grabbed with ``QWidget.grab()`` at the dialog's
default size.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# Tab key and file stem of each screenshot, in tab order.
SHOTS = (
    ("general", "general"),
    ("primary", "mail-server"),
    ("secondary", "secondary-mail-server"),
    ("queue", "queue"),
)
EXAMPLE_SETTINGS = {
    "general.errors_to": 'noc@example.com, "Doe, Jane" <jane.doe@example.com>',
    "general.reports_to": "reports@example.com",
    "general.from_address": "alerts@example.com",
    "general.from_name": "Network Alerts",
    "primary.host": "smtp.example.com",
    "primary.port": 587,
    "primary.security": "starttls",
    "primary.auth": "smtp",
    "primary.username": "alerts@example.com",
    "secondary.enabled": True,
    "secondary.host": "smtp.office365.com",
    "secondary.port": 587,
    "secondary.security": "starttls",
    "secondary.auth": "oauth2",
    "secondary.oauth_provider": "microsoft365",
    "secondary.oauth_tenant_id": "contoso.onmicrosoft.com",
    "secondary.oauth_client_id": "8f0b2c1e-3d4a-4b5c-9d6e-7f8091a2b3c4",
    "secondary.oauth_mailbox": "alerts@contoso.com",
}
# (kind, subject, what happened to it: None, or the error of a deferred or failed try)
EXAMPLE_MESSAGES = (
    ("reports", "Weekly capacity report", ("failed", "550 5.1.1 <reports@example.com>: mailbox unavailable")),
    ("errors", "Interface Gi0/1 flapping on dist-sw-14", ("deferred", "451 4.3.0 mail server busy, try later")),
    ("errors", "BGP session down on core-rtr-02 (peer 10.20.0.1)", None),
    ("reports", "Nightly configuration backup: 148 devices, 2 failed", None),
)
WAIT_S = 10.0


def use_example_folders(root: Path) -> None:
    """Point the XDG folders that alertmail uses at subfolders of ``root``."""
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = root / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[f"XDG_{name}_HOME"] = str(folder)


def use_example_keyring() -> None:
    """Install an in-memory keyring backend with the primary's password and the secondary's client secret."""
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class ExampleKeyring(KeyringBackend):
        """Passwords in a dictionary, gone when the script ends."""

        name = "an in-memory example keyring"
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self._passwords: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._passwords.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._passwords[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self._passwords.pop((service, username), None) is None:
                raise PasswordDeleteError(f"no password for {username}")

    keyring.set_keyring(ExampleKeyring())
    from alertmail.core.secrets import store_password

    store_password("primary", "example-password")
    store_password("secondary", "example-client-secret")


def write_example_data() -> None:
    """Write the example settings file and queue the example messages."""
    from alertmail.core.queue import Queue
    from alertmail.core.settings import Settings
    from alertmail.core.store import save_settings

    settings = Settings(EXAMPLE_SETTINGS)
    save_settings(settings)
    with Queue() as queue:
        # The older messages went through one batch as the mailer sends it:
        # a 4xx reply kept one queued and a 5xx reply parked the other as failed.
        tried = [message for message in EXAMPLE_MESSAGES if message[2] is not None]
        outcomes = {queue.add(kind, subject, "Example body.\n", settings): outcome for kind, subject, outcome in tried}
        for message in queue.claim_batch():
            state, error = outcomes[message.id]
            if state == "failed":
                queue.mark_failed(message.id, error)
            else:
                queue.mark_deferred(message.id, error)
        for kind, subject, outcome in EXAMPLE_MESSAGES:
            if outcome is None:
                queue.add(kind, subject, "Example body.\n", settings)


def wait_until(app, condition, what: str) -> None:
    """Process events until ``condition()`` is true; raise ``TimeoutError`` after ``WAIT_S`` seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {WAIT_S} s")
        app.processEvents()
        time.sleep(0.01)


def render(output: Path, suffix: str, dark: bool) -> list[Path]:
    """Show the dialog with the example data and save one PNG per tab; return their paths."""
    from PySide6.QtWidgets import QApplication

    from alertmail.core.store import load_settings
    from alertmail.gui.colors import dark_palette
    from alertmail.gui.dialog import DEFAULT_SIZE, EmailOptionsDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    dialog = EmailOptionsDialog(load_settings(), first_tab="general")
    # The offscreen platform's screen is 800 x 800 pixels, which the dialog
    # would shrink to at a scale factor of 2.
    dialog.resize(*DEFAULT_SIZE)
    checked = []
    dialog.keyring_checked.connect(lambda: checked.append(True))
    dialog.show()
    wait_until(app, lambda: checked and dialog.queue_tab is not None and dialog.queue_tab.active, "the dialog")

    output.mkdir(parents=True, exist_ok=True)
    written = []
    for tab, stem in SHOTS:
        dialog.select_tab(tab)
        if tab == "queue":
            rows = dialog.queue_tab.model.rowCount
            wait_until(app, lambda: rows() == len(EXAMPLE_MESSAGES), "the queue to be read")
        for _ in range(5):
            app.processEvents()
        path = output / f"{stem}{suffix}.png"
        if not dialog.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)
    dialog.reject()
    return written


def main(argv: list[str] | None = None) -> int:
    """Render the screenshots; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="folder for the PNG files (default: %(default)s)")
    parser.add_argument("--dark", action="store_true", help="use the Fusion style with a dark palette")
    parser.add_argument("--scale", type=float, default=1.0, help="Qt scale factor, such as 2 for 200 %% (default: 1)")
    options = parser.parse_args(argv)

    # The example queue logs its made-up failures as warnings.
    logging.getLogger("alertmail").setLevel(logging.ERROR)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if options.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = f"{options.scale:g}"
    suffix = "-dark" if options.dark else ""
    if options.scale != 1.0:
        suffix += f"@{options.scale:g}x"
    with tempfile.TemporaryDirectory(prefix="alertmail-screenshots-") as folder:
        use_example_folders(Path(folder))
        use_example_keyring()
        write_example_data()
        for path in render(options.out, suffix, options.dark):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
