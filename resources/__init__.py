"""alertmail's data files: the application icon, the desktop entry and the help pages.

Installed, this folder is the package ``alertmail.resources``. It contains:

- ``alertmail.svg``, the icon's source, and ``icons/alertmail-<size>.png``
  rendered from it by ``make_icons.py`` (with ``alertmail.ico`` for Windows
  and ``alertmail.icns`` for macOS);
- ``alertmail-settings.desktop``, the freedesktop menu entry. Its ``Exec``
  names the ``alertmail-settings`` command and its ``Icon`` the theme name
  ``alertmail``, so a package that installs both into the system can install
  the entry as it is. ``alertmail install-shortcut`` writes a copy with
  absolute paths instead;
- ``help/<page>.html``, the help of each tab of the E-mail Options dialog.

Help pages. Each tab has one page: ``general``, ``server`` (both server tabs)
and ``queue``. A page contains the prose, and two kinds of placeholder that
``render_help`` fills:

- ``<!-- fields -->`` is replaced by the tab's fields, in tab order, each
  with its label and help text taken from the setting declarations in
  ``alertmail.core.settings`` (``Setting.plain_label`` and ``Setting.help``).
  The page itself never repeats a label or a help text, so they are written
  once, in the declarations, for the tooltips and the help alike.
- ``<!-- include NAME -->`` is replaced by the shared section in
  ``help/NAME.html``, such as the failover rules.

Every section has an ``id`` anchor, and every generated field entry has the
anchor ``field_anchor(key)``, so the dialog can open the page and jump to the
section or field in focus with ``QTextBrowser.scrollToAnchor``.

This module imports no Qt, so the command line can use it.
"""

from __future__ import annotations

import html
import importlib.resources
import re
from pathlib import Path

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICON_NAME = "alertmail"
"""The icon's name in an icon theme, and the stem of its file names."""

DESKTOP_ENTRY_NAME = "alertmail-settings.desktop"
HELP_PAGES = ("general", "server", "queue")
SHARED_HELP_SECTIONS = ("failover",)
FIELDS_PLACEHOLDER = "<!-- fields -->"
_INCLUDE = re.compile(r"<!--\s*include\s+([a-z][a-z0-9-]*)\s*-->")

# Dialog tab keys and the help page that documents each.
_TAB_PAGES = {
    "general": "general",
    "primary": "server",
    "secondary": "server",
    "server": "server",
    "queue": "queue",
}

# Entries of the server tab's field list that are not settings. The first
# three are the keyring rows that ``settings.server_fields_shown`` names.
PASSWORD_FIELD = "password"
CLIENT_SECRET_FIELD = "client_secret"
SERVICE_ACCOUNT_KEY_FIELD = "service_account_key"
TEST_EMAIL_FIELD = "test_email"

# Fields of each help page in the tab's order. The server page lists the
# primary server's declarations: the secondary tab has the same labels.
TAB_FIELDS: dict[str, tuple[str, ...]] = {
    "general": (
        "general.errors_to",
        "general.reports_to",
        "general.from_address",
        "general.from_name",
        "mailer.send_interval_s",
        "mailer.max_attempts",
        "general.log_enabled",
        "general.log_verbose",
    ),
    "server": (
        "primary.enabled",
        "primary.host",
        "primary.port",
        "primary.timeout_s",
        "primary.security",
        "primary.auth",
        "primary.username",
        PASSWORD_FIELD,
        "primary.pop_host",
        "primary.pop_port",
        "primary.oauth_provider",
        "primary.oauth_tenant_id",
        "primary.oauth_client_id",
        CLIENT_SECRET_FIELD,
        "primary.oauth_token_url",
        "primary.oauth_scope",
        SERVICE_ACCOUNT_KEY_FIELD,
        "primary.oauth_mailbox",
        TEST_EMAIL_FIELD,
    ),
    "queue": ("mailer.enabled",),
}

# Label and help text of the server tab's entries that no setting declares.
# The password, client secret and service-account key live in the keyring,
# and Test Email is a button.
_OTHER_FIELDS = {
    PASSWORD_FIELD: (
        "Password",
        "Password for SMTP AUTH and for the POP login, kept in the system keyring and "
        "never in the settings file. An empty field keeps the stored password, typed "
        "text replaces it, and Clear password removes it, each when you press OK or Apply.",
    ),
    CLIENT_SECRET_FIELD: (
        "Client secret",
        "OAuth 2.0 with Microsoft 365 or another provider: the client secret of the app "
        "registration. It is kept in the keyring apart from the password, and "
        "is never written to the settings file. An empty field keeps the stored secret, "
        "typed text replaces it, and Clear stored secret removes it, each when you press OK or Apply.",
    ),
    SERVICE_ACCOUNT_KEY_FIELD: (
        "Service-account key",
        "OAuth 2.0 with Google Workspace: the JSON key file of a service account with "
        "domain-wide delegation. Load key file checks the file and shows the service "
        "account's address, never the key. The key is stored in the system keyring when "
        "you press OK or Apply, and never written to the settings file.",
    ),
    TEST_EMAIL_FIELD: (
        "Test Email",
        "Sends one test message to the Errors recipients and one to the Reports/Stats "
        "recipients through this tab's server, with the values now in the form, and "
        "shows the SMTP conversation with credentials hidden.",
    ),
}


def _root() -> Path:
    root = importlib.resources.files(__name__)
    if not isinstance(root, Path):
        raise FileNotFoundError(
            f"alertmail's resources are inside an archive ({root}), not in a folder; "
            "install alertmail with pip so they are installed as files"
        )
    return root


def svg_path() -> Path:
    """Return the path of the icon's SVG source."""
    return _root() / f"{ICON_NAME}.svg"


def icon_path(size: int | None = None) -> Path:
    """Return the path of the PNG icon of ``size`` pixels, the largest when ``size`` is None.

    Raises ``ValueError`` for a size that is not in ``ICON_SIZES``.
    """
    if size is None:
        size = max(ICON_SIZES)
    if size not in ICON_SIZES:
        raise ValueError(
            f"no {size} px icon: the sizes are " + ", ".join(str(known) for known in ICON_SIZES)
        )
    return _root() / "icons" / f"{ICON_NAME}-{size}.png"


def windows_icon_path() -> Path:
    """Return the path of the ICO file that Windows shortcuts show."""
    return _root() / "icons" / f"{ICON_NAME}.ico"


def macos_icon_path() -> Path:
    """Return the path of the ICNS file that a macOS application bundle shows."""
    return _root() / "icons" / f"{ICON_NAME}.icns"


def desktop_entry_path() -> Path:
    """Return the path of the freedesktop entry template, ``alertmail-settings.desktop``."""
    return _root() / DESKTOP_ENTRY_NAME


def help_path(name: str) -> Path:
    """Return the path of the help page or shared section ``name`` (without ``.html``).

    Raises ``ValueError`` for a name that is neither in ``HELP_PAGES`` nor in
    ``SHARED_HELP_SECTIONS``.
    """
    if name not in HELP_PAGES and name not in SHARED_HELP_SECTIONS:
        known = ", ".join(HELP_PAGES + SHARED_HELP_SECTIONS)
        raise ValueError(f"no help page {name!r}: the pages are {known}")
    return _root() / "help" / f"{name}.html"


def help_page(tab: str) -> str:
    """Return the help page name of a dialog tab key (``primary`` gives ``server``).

    Raises ``ValueError`` for an unknown tab key.
    """
    try:
        return _TAB_PAGES[tab]
    except KeyError:
        raise ValueError(
            f"no help for the tab {tab!r}: the tabs are " + ", ".join(_TAB_PAGES)
        ) from None


def field_anchor(key: str) -> str:
    """Return the anchor of a field's entry in its help page.

    ``key`` is a dotted setting key or one of the names ``PASSWORD_FIELD``,
    ``CLIENT_SECRET_FIELD``, ``SERVICE_ACCOUNT_KEY_FIELD`` and ``TEST_EMAIL_FIELD``.
    Both server tabs share one page, so ``primary.port`` and ``secondary.port``
    both give ``field-port``.
    """
    section, _, name = key.rpartition(".")
    if section in ("", "primary", "secondary"):
        return f"field-{name}"
    return f"field-{section}-{name}"


def field_entries(tab: str) -> list[tuple[str, str, str]]:
    """Return ``(anchor, label, help text)`` for every field of a tab, in tab order."""
    from alertmail.core.settings import setting

    entries = []
    for key in TAB_FIELDS[help_page(tab)]:
        if key in _OTHER_FIELDS:
            label, text = _OTHER_FIELDS[key]
        else:
            declared = setting(key)
            label, text = declared.plain_label, declared.help
            if key == "primary.enabled":
                # The only help text that differs between the two server tabs.
                text += " On the Secondary Mail Server tab: " + setting("secondary.enabled").help
        entries.append((field_anchor(key), label, text))
    return entries


def _fields_html(tab: str) -> str:
    lines = ["<dl>"]
    for anchor, label, text in field_entries(tab):
        lines.append(f'<dt id="{anchor}"><b>{html.escape(label)}</b></dt>')
        lines.append(f"<dd>{html.escape(text)}</dd>")
    lines.append("</dl>")
    return "\n".join(lines)


def _include(match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in SHARED_HELP_SECTIONS:
        raise ValueError(f"help pages include an unknown section {name!r}")
    return help_path(name).read_text(encoding="utf-8")


def render_help(tab: str) -> str:
    """Return the HTML help of a dialog tab, with its field list and shared sections filled in.

    ``tab`` is a tab key of the dialog (``general``, ``primary``,
    ``secondary``, ``queue``) or ``server``. The HTML uses the subset that
    ``QTextBrowser`` renders: headings, paragraphs, lists and tables, with no
    script and no style sheet.
    """
    page = help_page(tab)
    text = help_path(page).read_text(encoding="utf-8")
    if FIELDS_PLACEHOLDER not in text:
        raise ValueError(f"the help page {page}.html has no {FIELDS_PLACEHOLDER} placeholder")
    text = text.replace(FIELDS_PLACEHOLDER, _fields_html(tab))
    return _INCLUDE.sub(_include, text)
