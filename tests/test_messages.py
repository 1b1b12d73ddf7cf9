"""Building outgoing messages, their wire bytes, and the redacting transcript."""

from __future__ import annotations

import logging
import re

import pytest
from delivery_helpers import make_settings
from hypothesis import given
from hypothesis import strategies as st

from alertmail.core import messages
from alertmail.core.errors import SettingError
from alertmail.core.transcript import Transcript, redact

BARE_LF = re.compile(rb"(?<!\r)\n")
BARE_CR = re.compile(rb"\r(?!\n)")


def no_bare_line_breaks(data: bytes) -> bool:
    return BARE_LF.search(data) is None and BARE_CR.search(data) is None


# --- building ------------------------------------------------------------------------


def test_build_message_sets_headers_and_envelope():
    settings = make_settings(
        from_name="Network Alerts",
        errors_to='"Doe, Jane" <jane@example.com>; ops@example.com,, noc@example.com;',
    )

    built = messages.build_message(settings, "errors", "Link down", "eth0 is down\n")

    assert built.kind == "errors"
    assert built.sender == "alerts@example.com"
    assert built.recipients == ["jane@example.com", "ops@example.com", "noc@example.com"]
    header = built.message
    assert str(header["From"]) == "Network Alerts <alerts@example.com>"
    assert str(header["To"]) == '"Doe, Jane" <jane@example.com>, ops@example.com, noc@example.com'
    assert str(header["Subject"]) == "Link down"
    assert header["Date"] is not None
    assert str(header["Message-ID"]) == built.message_id
    assert re.fullmatch(r"<[^@<>]+@example\.com>", built.message_id)


def test_reports_kind_uses_reports_list():
    settings = make_settings(reports_to="  reports@example.com  ")

    built = messages.build_message(settings, "reports", "Daily", "ok\n")

    assert built.recipients == ["reports@example.com"]


def test_message_id_is_kept_when_given():
    settings = make_settings()

    built = messages.build_message(settings, "errors", "again", "body\n", message_id="<case05@example.com>")

    assert built.message_id == "<case05@example.com>"
    assert str(built.message["Message-ID"]) == "<case05@example.com>"


def test_message_id_domain_is_idna():
    settings = make_settings(from_address="alerts@bücher.example")

    built = messages.build_message(settings, "errors", "idn", "body\n")

    assert built.message_id.endswith("@xn--bcher-kva.example>")


@pytest.mark.parametrize("subject", ["split\r\nBcc: x@example.net", "line\nbreak"])
def test_line_break_in_subject_is_rejected(subject):
    with pytest.raises(SettingError) as caught:
        messages.build_message(make_settings(), "errors", subject, "body\n")

    assert caught.value.key == "subject"


def test_bad_message_id_is_rejected():
    with pytest.raises(SettingError) as caught:
        messages.build_message(make_settings(), "errors", "s", "b", message_id="no-brackets")

    assert caught.value.key == "message_id"


def test_empty_recipient_list_names_key():
    with pytest.raises(SettingError) as caught:
        messages.build_message(make_settings(errors_to=[]), "errors", "s", "b")

    assert caught.value.key == "general.errors_to"


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError):
        messages.build_message(make_settings(), "test", "s", "b")


# --- test messages -------------------------------------------------------------------


def test_test_messages_go_to_both_lists():
    settings = make_settings(primary={"host": "smtp.example.com", "port": 587})

    built = messages.build_test_messages(settings, "primary")

    assert [message.kind for message in built] == ["errors", "reports"]
    assert [message.recipients for message in built] == [["ops@example.com"], ["reports@example.com"]]
    assert all("alertmail test" in message.subject for message in built)
    assert all("primary server" in message.subject for message in built)
    body = built[0].message.get_content()
    assert "smtp.example.com port 587" in body


def test_test_messages_skip_an_empty_list():
    settings = make_settings(reports_to=[])

    built = messages.build_test_messages(settings, "secondary")

    assert [message.kind for message in built] == ["errors"]
    assert "secondary server" in built[0].subject


def test_test_messages_need_a_recipient():
    settings = make_settings(errors_to=[], reports_to=[])

    with pytest.raises(SettingError) as caught:
        messages.build_test_messages(settings, "primary")

    assert caught.value.key == "general.errors_to"


def test_test_messages_need_a_sender():
    settings = make_settings(from_address="")

    with pytest.raises(SettingError) as caught:
        messages.build_test_messages(settings, "auto")

    assert caught.value.key == "general.from_address"


# --- wire bytes ----------------------------------------------------------------------------


def test_message_bytes_use_crlf_for_stored_lf_body():
    settings = make_settings()
    original = messages.build_message(settings, "errors", "s", "one\n.\nthree\n")
    stored = original.message.as_bytes().replace(b"\r\n", b"\n")
    restored = messages.restore_message("errors", original.sender, original.recipients, stored)

    data = messages.message_bytes(restored, smtputf8=False)

    assert no_bare_line_breaks(data)
    assert b"\r\n\r\none\r\n.\r\nthree\r\n" in data
    assert restored.message_id == original.message_id


def test_ascii_form_encodes_names_and_domains():
    settings = make_settings(
        from_name="Überwachung", errors_to="müller@example.com, ops@bücher.example"
    )
    built = messages.build_message(settings, "errors", "Störung", "Temperatur über 80 °C\n")

    data = messages.message_bytes(built, smtputf8=False)

    assert data.isascii()
    assert b"From: =?utf-8?q?=C3=9Cberwachung?= <alerts@example.com>\r\n" in data
    assert b"ops@xn--bcher-kva.example" in data
    assert b"Subject: =?utf-8?q?St=C3=B6rung?=\r\n" in data
    assert b"Content-Transfer-Encoding: quoted-printable\r\n" in data


def test_utf8_form_keeps_headers_readable():
    settings = make_settings(from_name="Überwachung", errors_to="müller@example.com")
    built = messages.build_message(settings, "errors", "Störung", "body\n")

    data = messages.message_bytes(built, smtputf8=True)

    assert "From: Überwachung <alerts@example.com>\r\n".encode() in data
    assert "To: müller@example.com\r\n".encode() in data
    assert no_bare_line_breaks(data)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_body_gives_crlf_only(body):
    settings = make_settings()
    built = messages.build_message(settings, "errors", "property", body)

    for smtputf8 in (False, True):
        assert no_bare_line_breaks(messages.message_bytes(built, smtputf8=smtputf8))


# --- transcript -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "stored"),
    [
        ("AUTH PLAIN AG5vdGlmeQBTM2NyZXQh", "AUTH PLAIN <redacted>"),
        ("AUTH LOGIN", "AUTH LOGIN"),
        ("bm90aWZ5QGV4YW1wbGUuY29t", "<redacted>"),
        ("PASS Pässwörd€1", "PASS <redacted>"),
    ],
)
def test_redact_keeps_only_command_words(line, stored):
    assert redact(line) == stored


def test_transcript_redacts_before_listeners_and_log(caplog):
    caplog.set_level(logging.DEBUG, logger="alertmail.transcript")
    heard: list[str] = []
    transcript = Transcript(on_line=heard.append)

    transcript.note("connected to 127.0.0.1 port 2525")
    transcript.client("EHLO [127.0.0.1]")
    transcript.server("250-SIZE 1000")
    transcript.client("AUTH PLAIN AG5vdGlmeQBTM2NyZXQh", secret=True)

    expected = [
        "*: connected to 127.0.0.1 port 2525",
        "C: EHLO [127.0.0.1]",
        "S: 250-SIZE 1000",
        "C: AUTH PLAIN <redacted>",
    ]
    assert transcript.lines == expected
    assert heard == expected
    assert [record.getMessage() for record in caplog.records] == expected
    assert "AG5vdGlmeQBTM2NyZXQh" not in caplog.text
