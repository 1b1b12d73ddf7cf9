"""Building the message a queued record is sent as, from the record alone."""

from __future__ import annotations

import datetime

import pytest

from alertmail.core import messages, validation
from alertmail.core.errors import SettingError
from alertmail.core.queue import Queue
from alertmail.core.queue_outgoing import to_outgoing
from alertmail.core.settings import Settings

RECIPIENT_FIELDS = [
    "ops@example.com",
    '"Doe, Jane" <jane@example.com>; ops@example.com',
    "Operator One <one@example.com>, Operator Two <two@example.com>, Operator Three <three@example.com>",
    "müller@example.com, ops@bücher.example",
    "Überwachung <noc@example.com>",
]


@pytest.fixture
def queue():
    with Queue() as opened:
        yield opened


def make_settings(errors_to: str, from_name: str = "Network Alerts") -> Settings:
    settings = Settings()
    settings["general.errors_to"] = errors_to
    settings["general.from_address"] = "alerts@example.com"
    settings["general.from_name"] = from_name
    return settings


def built_through_settings(stored, settings: Settings) -> messages.OutgoingMessage:
    """Build the message through a ``Settings`` copy and the email package, Date set to the queueing time.

    Its wire bytes come from ``EmailMessage.as_bytes``, never from the
    direct renderer of plain messages.
    """
    import email.utils

    name, address = email.utils.parseaddr(stored.sender)
    values = settings.copy()
    values["general.from_address"] = address
    values["general.from_name"] = name
    values["general.errors_to"] = stored.recipients
    built = messages.build_message(values, "errors", stored.subject, stored.body, message_id=stored.message_id)
    message = messages.build_email(built.fields)
    queued_at = datetime.datetime.fromisoformat(stored.queued_at).astimezone()
    message.replace_header("Date", email.utils.format_datetime(queued_at))
    return messages.OutgoingMessage("errors", built.sender, built.recipients, built.message_id, message=message)


@pytest.mark.parametrize("errors_to", RECIPIENT_FIELDS)
@pytest.mark.parametrize("from_name", ["Network Alerts", "", "Störungsmelder", "Ops, Night Shift"])
def test_wire_bytes_match_settings_build(queue, errors_to, from_name):
    settings = make_settings(errors_to, from_name)
    stored = queue.get(queue.add("errors", "sw7: link down", "line one\n.\nline three\n", settings))

    outgoing = to_outgoing(stored, settings)
    expected = built_through_settings(stored, settings)

    assert outgoing.sender == expected.sender
    assert outgoing.recipients == expected.recipients
    assert outgoing.message_id == expected.message_id
    for smtputf8 in (False, True):
        assert messages.message_bytes(outgoing, smtputf8=smtputf8) == messages.message_bytes(
            expected, smtputf8=smtputf8
        )


def test_stored_sender_failing_check_raises(queue):
    settings = make_settings("ops@example.com")
    new_id = queue.add("errors", "Alert", "body\n", settings)
    queue._db.execute("UPDATE messages SET sender = 'Alerts <alerts@@example.com>' WHERE id = ?", (new_id,))

    for _ in range(2):
        # A failed check is not remembered as a success.
        with pytest.raises(SettingError) as raised:
            to_outgoing(queue.get(new_id), settings)
        assert raised.value.key == "general.from_address"


def test_stored_recipient_list_empty_raises(queue):
    settings = make_settings("ops@example.com")
    new_id = queue.add("errors", "Alert", "body\n", settings)
    queue._db.execute("UPDATE messages SET recipients = '[]' WHERE id = ?", (new_id,))

    with pytest.raises(SettingError) as raised:
        to_outgoing(queue.get(new_id), settings)

    assert raised.value.key == "general.errors_to"


def test_address_checked_once_per_batch(queue, monkeypatch):
    checked: list[str] = []
    original = validation.check_address_syntax

    def counting_check(key: str, address: str) -> str:
        checked.append(address)
        return original(key, address)

    monkeypatch.setattr(validation, "check_address_syntax", counting_check)
    # Addresses no other test uses, so no earlier check is remembered.
    settings = make_settings("once-a@example.org, Once B <once-b@example.org>")
    settings["general.from_address"] = "once-sender@example.org"
    checked.clear()
    stored = [queue.get(queue.add("errors", f"alert {number}", "body\n", settings)) for number in range(50)]

    built = [to_outgoing(message, settings) for message in stored]

    assert len(built) == 50
    assert sorted(checked) == ["once-a@example.org", "once-b@example.org", "once-sender@example.org"]
