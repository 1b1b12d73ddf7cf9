"""render_help: the help pages with the field list from the setting declarations."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from alertmail import resources
from alertmail.core import settings as declared

TABS = ("general", "primary", "secondary", "queue")


class _TextAndIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                self.ids.append(value)

    def handle_data(self, data):
        self.chunks.append(data)


def parse(page: str) -> tuple[str, list[str]]:
    """Return the text of an HTML page, white space collapsed, and its ids in order."""
    parser = _TextAndIds()
    parser.feed(page)
    parser.close()
    return " ".join(" ".join(parser.chunks).split()), parser.ids


def keys_of(tab: str) -> list[str]:
    return [key for key in resources.TAB_FIELDS[resources.help_page(tab)] if "." in key]


@pytest.mark.parametrize("tab", TABS)
def test_help_lists_every_field_of_tab(tab):
    text, _ = parse(resources.render_help(tab))
    for key in keys_of(tab):
        setting = declared.setting(key)
        assert setting.plain_label in text, key
        assert " ".join(setting.help.split()) in text, key


@pytest.mark.parametrize("tab", TABS)
def test_help_has_failover_section(tab):
    page = resources.render_help(tab)
    text, ids = parse(page)
    assert "failover" in ids
    assert "the secondary server is tried at once" in text
    assert "waits one send interval" in text
    assert "always uses the secondary server" in text
    assert "nothing is sent, the queue is kept" in text


@pytest.mark.parametrize("tab", TABS)
def test_help_leaves_no_placeholder(tab):
    page = resources.render_help(tab)
    assert resources.FIELDS_PLACEHOLDER not in page
    assert re.search(r"<!--\s*(fields|include)", page) is None


@pytest.mark.parametrize("tab", TABS)
def test_help_anchors_unique(tab):
    _, ids = parse(resources.render_help(tab))
    assert len(ids) == len(set(ids))
    for key in resources.TAB_FIELDS[resources.help_page(tab)]:
        assert resources.field_anchor(key) in ids


def test_help_fields_in_tab_order():
    page = resources.render_help("general")
    positions = [page.index(f'id="{resources.field_anchor(key)}"') for key in keys_of("general")]
    assert positions == sorted(positions)


def test_server_help_shared_by_both_tabs():
    assert resources.render_help("primary") == resources.render_help("secondary")
    assert resources.render_help("server") == resources.render_help("primary")


def test_server_help_has_password_and_test_email():
    entries = resources.field_entries("primary")
    labels = [label for _, label, _ in entries]
    assert labels.index("Password") == labels.index("Username") + 1
    assert labels[-1] == "Test Email"
    text, _ = parse(resources.render_help("primary"))
    assert "kept in the system keyring" in text
    assert "one to the Reports/Stats recipients" in text


def test_server_help_names_both_enable_texts():
    text, _ = parse(resources.render_help("primary"))
    assert " ".join(declared.setting("primary.enabled").help.split()) in text
    assert " ".join(declared.setting("secondary.enabled").help.split()) in text


def test_server_help_explains_test_failures():
    text, ids = parse(resources.render_help("primary"))
    assert "test-failures" in ids
    for phrase in (
        "could not be resolved",
        "the connection was refused",
        "no connection within the timeout",
        "port 465 usually needs Implicit TLS",
        "answered in plain text, not TLS",
        "does not offer STARTTLS",
        "add that authority's certificate to the system's trust store",
        "authentication only after STARTTLS",
        "the server rejected the login",
        "could not be read from the keyring",
        "POP login",
        "refused the sender",
        "every recipient was refused",
        "the server refused the message",
        "1 of 2 recipients refused",
        "outcome uncertain",
    ):
        assert phrase in text, phrase


def test_queue_help_explains_states_and_buttons():
    text, ids = parse(resources.render_help("queue"))
    assert {"states", "buttons"} <= set(ids)
    for phrase in ("queued", "sending", "failed", "Start mailer", "Stop mailer", "Send now",
                   "Reset state", "Delete", "To, From and Subject"):
        assert phrase in text, phrase


def test_help_field_text_escaped():
    # The recipients help contains quotes and angle brackets.
    page = resources.render_help("general")
    assert html.escape(declared.setting("general.errors_to").help) in page


def test_every_setting_documented_on_a_page():
    documented = set()
    for fields in resources.TAB_FIELDS.values():
        documented.update(key for key in fields if "." in key)
    documented |= {key.replace("primary.", "secondary.", 1) for key in documented if key.startswith("primary.")}
    assert documented == set(declared.keys())


def test_render_help_imports_no_qt():
    code = (
        "import sys\n"
        "from alertmail.resources import render_help\n"
        "for tab in ('general', 'primary', 'queue'): render_help(tab)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("tab", ("general", "primary", "queue"))
def test_text_browser_finds_anchors(qtbot, tab):
    from PySide6.QtWidgets import QTextBrowser

    browser = QTextBrowser()
    qtbot.addWidget(browser)
    browser.setHtml(resources.render_help(tab))
    anchors = set()
    block = browser.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            anchors.update(fragments.fragment().charFormat().anchorNames())
            fragments += 1
        block = block.next()
    assert "failover" in anchors
    for key in resources.TAB_FIELDS[resources.help_page(tab)]:
        assert resources.field_anchor(key) in anchors
