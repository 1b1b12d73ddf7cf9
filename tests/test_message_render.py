"""The direct renderer of plain messages writes exactly what the email package writes."""

from __future__ import annotations

import datetime
import email.policy
import re
import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from alertmail.core import messages
from alertmail.core.message_render import MessageFields, render_plain

LINE_END = re.compile(rb"\r\n|\r|\n")
ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"

atoms = st.text(alphabet=ATEXT, min_size=1, max_size=12)
labels = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=15)
addresses = st.builds(
    lambda local, domain: f"{'.'.join(local)}@{'.'.join(domain)}",
    st.lists(atoms, min_size=1, max_size=3),
    st.lists(labels, min_size=1, max_size=4),
)
phrases = st.lists(atoms, min_size=1, max_size=4).map(" ".join)
quoted_names = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='"\\'),
    min_size=1, max_size=25,
).map(lambda text: f'"{text}"')
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
mailboxes = st.one_of(
    addresses,
    st.builds(lambda name, address: f"{name} <{address}>", phrases, addresses),
    st.builds(lambda name, address: f"{name} <{address}>", quoted_names, addresses),
)
subjects = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=90),
    any_text.filter(lambda text: text.strip() and "\r" not in text and "\n" not in text),
)
dates = st.datetimes(
    min_value=datetime.datetime(1990, 1, 1), max_value=datetime.datetime(2090, 1, 1),
    timezones=st.sampled_from([
        datetime.timezone.utc,
        datetime.timezone(datetime.timedelta(hours=2)),
        datetime.timezone(datetime.timedelta(hours=-9, minutes=-30)),
    ]),
).map(messages.format_date)
message_ids = st.one_of(
    st.builds(lambda left, domain: f"<{left}@{domain}>", st.lists(atoms, min_size=1, max_size=4).map(".".join),
              st.lists(labels, min_size=1, max_size=3).map(".".join)),
    st.just("<1733300000000000000.12345.0123456789abcdef@alertmail.invalid>"),
)
body_lines = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=85),
    any_text,
)
bodies = st.builds(
    lambda lines, ending, last: ending.join(lines) + last,
    st.lists(body_lines, max_size=8),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["", "\n", "\r\n"]),
)
fields_strategy = st.builds(
    MessageFields,
    from_name=st.one_of(st.just(""), phrases, any_text.map(str.strip)),
    from_address=addresses,
    to=st.lists(mailboxes, min_size=1, max_size=8).map(tuple),
    subject=subjects,
    date=dates,
    message_id=message_ids,
    body=bodies,
)


def email_package_bytes(fields: MessageFields, policy) -> bytes:
    """Return the bytes the email package writes for ``fields``, with CRLF line endings."""
    return LINE_END.sub(b"\r\n", messages.build_email(fields).as_bytes(policy=policy))


def plain_fields(**changes) -> MessageFields:
    values = {
        "from_name": "Network Alerts",
        "from_address": "alerts@example.test",
        "to": ("noc@example.test", "Network Operations <oncall@example.test>"),
        "subject": "sw7: link down",
        "date": "Fri, 04 Dec 2026 21:33:06 +0000",
        "message_id": "<1796419986331.29849.a1b2c3d4e5f60718@example.test>",
        "body": "Interface GigabitEthernet0/1 on sw7 changed state to down.\n" * 20,
    }
    values.update(changes)
    return MessageFields(**values)


@settings(max_examples=400, deadline=None)
@given(fields_strategy)
@example(plain_fields(to=("a" * 30 + "@example.test",) * 5))
@example(plain_fields(to=("x" * 60 + "@example.test", "y" * 62 + "@example.test")))
@example(plain_fields(to=("z" * 50 + "@example.test", "Name <" + "n" * 60 + "@example.test>")))
@example(plain_fields(body=""))
@example(plain_fields(body="x" * 78 + "\n" + "y" * 78))
def test_plain_render_matches_email_package(fields):
    plain = render_plain(fields)

    if plain is not None:
        assert plain == email_package_bytes(fields, email.policy.SMTP)
        assert plain == email_package_bytes(fields, email.policy.SMTPUTF8)


def test_alert_is_plain():
    fields = plain_fields()

    assert render_plain(fields) == email_package_bytes(fields, email.policy.SMTP)


def test_folded_recipients_are_plain():
    fields = plain_fields(to=tuple(f"Operator {number} <operator{number}@example.test>" for number in range(6)))

    rendered = render_plain(fields)

    assert rendered is not None
    assert rendered.count(b"\r\n ") == 2
    assert rendered == email_package_bytes(fields, email.policy.SMTP)


def test_quoted_display_name_is_plain():
    fields = plain_fields(to=('"Doe, Jane" <jane@example.test>',))

    assert render_plain(fields) == email_package_bytes(fields, email.policy.SMTP)


def test_long_body_line_is_not_plain():
    assert render_plain(plain_fields(body="x" * 79 + "\n")) is None


def test_non_ascii_is_not_plain():
    assert render_plain(plain_fields(subject="Störung")) is None
    assert render_plain(plain_fields(from_name="Überwachung")) is None
    assert render_plain(plain_fields(to=("ops@bücher.example",))) is None
    assert render_plain(plain_fields(body="80 °C\n")) is None


def test_encoded_word_text_is_not_plain():
    assert render_plain(plain_fields(subject="=?utf-8?q?x?=")) is None


def test_compose_plain_builds_message_lazily():
    fields = plain_fields()

    outgoing = messages.compose("errors", fields, ["noc@example.test", "oncall@example.test"])

    assert messages.message_bytes(outgoing, smtputf8=False) == render_plain(fields)
    assert messages.message_bytes(outgoing, smtputf8=True) == render_plain(fields)
    assert outgoing.subject == "sw7: link down"
    assert str(outgoing.message["Message-ID"]) == fields.message_id
    assert outgoing.message.get_content() == fields.body


def test_compose_builds_other_messages_at_once():
    fields = plain_fields(subject="Störung")

    outgoing = messages.compose("errors", fields, ["noc@example.test"])

    assert outgoing._message is not None
    assert messages.message_bytes(outgoing, smtputf8=False) == email_package_bytes(fields, email.policy.SMTP)
