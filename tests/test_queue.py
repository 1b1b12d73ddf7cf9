"""The queue API: adding, claiming, recording outcomes, retrying and editing messages."""

from __future__ import annotations

import datetime
import email.utils
import json
import sqlite3

import pytest

from alertmail.core.errors import SettingError
from alertmail.core.queue import MessageNotFoundError, Queue, QueueError
from alertmail.core.settings import Settings


@pytest.fixture
def settings() -> Settings:
    model = Settings()
    model["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com'
    model["general.reports_to"] = "reports@example.com"
    model["general.from_address"] = "alerts@example.com"
    model["general.from_name"] = "Network Alerts"
    return model


@pytest.fixture
def queue():
    with Queue() as opened:
        yield opened


def add_several(queue: Queue, settings: Settings, count: int) -> list[int]:
    return [queue.add("errors", f"alert {number}", f"body {number}\n", settings) for number in range(count)]


# --- add ------------------------------------------------------------------------------


def test_add_stores_every_field(queue, settings):
    body = "first line\n.\nlast line without newline"
    new_id = queue.add("errors", "Disk full on sw1", body, settings)

    stored = queue.get(new_id)
    assert stored.id == new_id
    assert stored.kind == "errors"
    assert stored.sender == "Network Alerts <alerts@example.com>"
    assert stored.recipients == ['"Doe, Jane" <jane@example.com>', "ops@example.com"]
    assert stored.envelope_recipients == ["jane@example.com", "ops@example.com"]
    assert stored.subject == "Disk full on sw1"
    assert stored.body == body
    assert stored.state == "queued"
    assert stored.attempts == 0
    assert stored.last_error is None
    assert stored.refused == {}
    assert stored.sent_at is None


def test_add_makes_message_id_and_utc_times(queue, settings):
    stored = queue.get(queue.add("reports", "Weekly report", "", settings))

    assert stored.message_id.startswith("<")
    assert stored.message_id.endswith("@example.com>")
    assert stored.recipients == ["reports@example.com"]
    queued_at = datetime.datetime.fromisoformat(stored.queued_at)
    assert queued_at.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.timezone.utc) - queued_at) < datetime.timedelta(minutes=1)
    assert stored.updated_at == stored.queued_at


def test_add_keeps_body_line_endings_exactly(queue, settings):
    body = "crlf\r\nbare lf\nbare cr\r.\n..\nÜmlaut €\n"
    new_id = queue.add("errors", "Line endings", body, settings)
    assert queue.get(new_id).body == body


@pytest.mark.parametrize(
    ("from_address", "domain"),
    [
        ("alerts@bücher.example", "xn--bcher-kva.example"),
        ("alerts@[127.0.0.1]", "alertmail.invalid"),
    ],
)
def test_message_id_domain_is_ascii(queue, settings, from_address, domain):
    settings["general.from_address"] = from_address
    stored = queue.get(queue.add("errors", "Alert", "", settings))
    assert stored.message_id.endswith(f"@{domain}>")
    assert stored.message_id.isascii()


def test_message_ids_are_unique(queue, settings):
    ids = add_several(queue, settings, 20)
    message_ids = {queue.get(new_id).message_id for new_id in ids}
    assert len(message_ids) == 20


@pytest.mark.parametrize(
    ("kind", "subject", "change", "key", "expected"),
    [
        ("errors", "Alert", {"general.errors_to": ""}, "general.errors_to", "no Errors recipient"),
        ("reports", "Report", {"general.reports_to": []}, "general.reports_to", "no Reports/Stats recipient"),
        ("errors", "Alert", {"general.from_address": ""}, "general.from_address", "From address is required"),
        ("errors", "Alert\r\nBcc: x@example.net", {}, "subject", "line breaks"),
        ("errors", "Alert\nsecond line", {}, "subject", "line breaks"),
        ("errors", "Alert\u2028second line", {}, "subject", "line breaks"),
        ("errors", "", {}, "subject", "empty"),
        ("errors", "   ", {}, "subject", "empty"),
    ],
)
def test_add_rejects_invalid_message(queue, settings, kind, subject, change, key, expected):
    for setting_key, value in change.items():
        settings[setting_key] = value

    with pytest.raises(SettingError) as raised:
        queue.add(kind, subject, "body", settings)

    assert raised.value.key == key
    assert expected in str(raised.value)
    assert queue.count() == 0


def test_add_unknown_kind_raises(queue, settings):
    with pytest.raises(ValueError, match="unknown message kind"):
        queue.add("warnings", "Alert", "body", settings)
    assert queue.count() == 0


def test_ids_not_reused_after_delete(queue, settings):
    first, second = add_several(queue, settings, 2)
    queue.delete(second)
    third = queue.add("errors", "after delete", "", settings)
    assert third > second


# --- claim_batch -------------------------------------------------------------------------


def test_claim_orders_by_attempts_then_id(queue, settings):
    ids = add_several(queue, settings, 4)
    # Give the first two messages one failed attempt each.
    queue.claim_batch(limit=2)
    queue.mark_deferred(ids[0], "451 4.3.0 try again later")
    queue.mark_deferred(ids[1], "451 4.3.0 try again later")

    claimed = queue.claim_batch()

    assert [message.id for message in claimed] == [ids[2], ids[3], ids[0], ids[1]]
    assert [message.attempts for message in claimed] == [0, 0, 1, 1]


def test_claim_marks_sending_in_database(queue, settings):
    ids = add_several(queue, settings, 3)

    claimed = queue.claim_batch(limit=2)

    assert [message.id for message in claimed] == ids[:2]
    assert all(message.state == "sending" for message in claimed)
    assert [message.state for message in queue.list()] == ["sending", "sending", "queued"]
    assert queue.count("sending") == 2
    assert queue.count("queued") == 1


def test_claim_skips_claimed_and_failed(queue, settings):
    ids = add_several(queue, settings, 3)
    queue.claim_batch(limit=1)
    queue.mark_failed(ids[1], "550 5.7.1 relaying denied")

    claimed = queue.claim_batch()

    assert [message.id for message in claimed] == [ids[2]]
    assert queue.claim_batch() == []


# --- outcomes -------------------------------------------------------------------------------


def test_mark_sent_records_refused_recipients(queue, settings):
    new_id = queue.add("errors", "Alert", "body", settings)
    queue.claim_batch()

    queue.mark_sent(new_id, refused={"gone@example.com": (550, "5.1.1 mailbox unavailable")})

    stored = queue.get(new_id)
    assert stored.state == "sent"
    assert stored.attempts == 1
    assert stored.sent_at is not None
    assert stored.refused == {"gone@example.com": (550, "5.1.1 mailbox unavailable")}
    assert "gone@example.com (550 5.1.1 mailbox unavailable)" in stored.last_error


def test_mark_sent_without_refusals(queue, settings):
    new_id = queue.add("errors", "Alert", "body", settings)
    queue.claim_batch()
    queue.mark_sent(new_id)

    stored = queue.get(new_id)
    assert stored.state == "sent"
    assert stored.refused == {}
    assert stored.last_error is None


def test_mark_failed_keeps_server_reply(queue, settings):
    new_id = queue.add("errors", "Alert", "body", settings)
    queue.claim_batch()

    queue.mark_failed(
        new_id,
        "550 5.1.1 every recipient refused",
        refused={"ops@example.com": (550, b"5.1.1 no such user")},
    )

    stored = queue.get(new_id)
    assert stored.state == "failed"
    assert stored.attempts == 1
    assert stored.last_error == "550 5.1.1 every recipient refused"
    assert stored.refused == {"ops@example.com": (550, "5.1.1 no such user")}
    assert queue.claim_batch() == []


def test_deferred_parks_at_max_attempts(settings):
    with Queue(max_attempts=3) as queue:
        new_id = queue.add("errors", "Alert", "body", settings)
        states = []
        for _ in range(3):
            assert [message.id for message in queue.claim_batch()] == [new_id]
            states.append(queue.mark_deferred(new_id, "451 4.7.1 greylisted"))

        stored = queue.get(new_id)
        assert states == ["queued", "queued", "failed"]
        assert stored.state == "failed"
        assert stored.attempts == 3
        assert "gave up after 3 attempts" in stored.last_error
        assert "451 4.7.1 greylisted" in stored.last_error
        assert queue.claim_batch() == []


def test_uncertain_requeues_with_same_message_id(settings):
    with Queue(max_attempts=2) as queue:
        new_id = queue.add("errors", "Alert", "body", settings)
        message_id = queue.get(new_id).message_id

        queue.claim_batch()
        first = queue.mark_uncertain(new_id, "no reply after the message data")
        again = queue.claim_batch()
        second = queue.mark_uncertain(new_id, "no reply after the message data")

        assert first == "queued"
        assert [message.message_id for message in again] == [message_id]
        assert second == "failed"
        assert queue.get(new_id).attempts == 2
        assert queue.get(new_id).message_id == message_id


def test_outcome_for_unknown_id_raises(queue):
    for record in (
        lambda: queue.mark_sent(404),
        lambda: queue.mark_failed(404, "550"),
        lambda: queue.mark_deferred(404, "451"),
        lambda: queue.mark_uncertain(404, "no reply"),
    ):
        with pytest.raises(MessageNotFoundError, match="no message with id 404"):
            record()


def test_recover_interrupted_requeues_sending(settings):
    with Queue() as first:
        ids = add_several(first, settings, 3)
        first.claim_batch(limit=2)
    # A new process after the mailer died: the claimed rows are still 'sending'.
    with Queue() as second:
        recovered = second.recover_interrupted()
        stored = second.list()

    assert recovered == 2
    assert [message.state for message in stored] == ["queued", "queued", "queued"]
    assert [message.attempts for message in stored] == [0, 0, 0]
    assert "stopped while sending" in stored[0].last_error
    assert stored[2].last_error is None
    assert [message.id for message in stored] == ids


# --- administrator actions ---------------------------------------------------------------


def test_retry_resets_attempts(settings):
    with Queue(max_attempts=1) as queue:
        new_id = queue.add("errors", "Alert", "body", settings)
        message_id = queue.get(new_id).message_id
        queue.claim_batch()
        assert queue.mark_deferred(new_id, "421 4.3.2 shutting down") == "failed"

        queue.retry(new_id)

        stored = queue.get(new_id)
        assert stored.state == "queued"
        assert stored.attempts == 0
        assert stored.last_error is None
        assert stored.message_id == message_id
        assert [message.id for message in queue.claim_batch()] == [new_id]


def test_retry_rejects_sent_and_sending(queue, settings):
    sent, sending = add_several(queue, settings, 2)
    queue.claim_batch()
    queue.mark_sent(sent)

    with pytest.raises(QueueError, match=f"message {sent} is sent and cannot be retried"):
        queue.retry(sent)
    with pytest.raises(QueueError, match=f"message {sending} is sending"):
        queue.retry(sending)
    with pytest.raises(MessageNotFoundError, match="no message with id 999"):
        queue.retry(999)


def test_delete_removes_message(queue, settings):
    keep, remove = add_several(queue, settings, 2)

    queue.delete(remove)

    assert [message.id for message in queue.list()] == [keep]
    with pytest.raises(MessageNotFoundError, match=f"no message with id {remove}"):
        queue.get(remove)
    with pytest.raises(MessageNotFoundError, match=f"no message with id {remove}"):
        queue.delete(remove)


def test_list_and_count_by_state(queue, settings):
    ids = add_several(queue, settings, 4)
    queue.claim_batch(limit=3)
    queue.mark_sent(ids[0])
    queue.mark_failed(ids[1], "550 rejected")

    assert [message.id for message in queue.list(["queued", "sending"])] == [ids[2], ids[3]]
    assert [message.id for message in queue.list(["failed"])] == [ids[1]]
    assert len(queue.list()) == 4
    assert queue.count("sent") == 1
    assert queue.count("failed") == 1
    assert queue.count() == 4
    with pytest.raises(ValueError, match="unknown state 'done'"):
        queue.list(["done"])


# --- update_fields ----------------------------------------------------------------------------


def test_update_fields_changes_queued_message(queue, settings):
    new_id = queue.add("errors", "Alert", "body", settings)
    message_id = queue.get(new_id).message_id

    updated = queue.update_fields(
        new_id,
        to='noc@example.com; "Roe, Rick" <rick@example.com>',
        sender="Überwachung <monitor@example.com>",
        subject="Alert, edited",
    )

    assert updated.recipients == ["noc@example.com", '"Roe, Rick" <rick@example.com>']
    assert updated.sender == "Überwachung <monitor@example.com>"
    assert updated.subject == "Alert, edited"
    assert updated.message_id == message_id
    assert updated.body == "body"
    assert queue.get(new_id) == updated


@pytest.mark.parametrize(
    ("fields", "key", "expected"),
    [
        ({"subject": "one\r\ntwo"}, "subject", "line breaks"),
        ({"subject": " "}, "subject", "empty"),
        ({"to": " ; , "}, "general.errors_to", "no address"),
        ({"to": []}, "general.errors_to", "no Errors recipient"),
        ({"to": "ops@example.com\r\nRCPT TO:<x@example.net>"}, "general.errors_to", "line breaks"),
        ({"sender": "not an address"}, "general.from_address", "not an e-mail address"),
        ({"sender": "alerts@example.com\nBcc: x@example.net"}, "general.from_address", "line breaks"),
    ],
)
def test_update_fields_rejects_invalid_values(queue, settings, fields, key, expected):
    new_id = queue.add("errors", "Alert", "body", settings)
    before = queue.get(new_id)

    with pytest.raises(SettingError) as raised:
        # A valid subject beside the invalid value: nothing at all may change.
        queue.update_fields(new_id, **{"subject": "valid subject", **fields})

    assert raised.value.key == key
    assert expected in str(raised.value)
    assert queue.get(new_id) == before


def test_update_fields_rejects_sent_message(queue, settings):
    new_id = queue.add("errors", "Alert", "body", settings)
    queue.claim_batch()
    queue.mark_sent(new_id)

    with pytest.raises(QueueError, match="is sent and cannot be edited"):
        queue.update_fields(new_id, subject="too late")
    assert queue.get(new_id).subject == "Alert"


# --- rebuilding the message --------------------------------------------------------------------


def test_to_outgoing_keeps_stored_values(queue, settings):
    from alertmail.core.messages import message_bytes
    from alertmail.core.queue_outgoing import to_outgoing

    body = "first\n.\nlast\n"
    new_id = queue.add("errors", "Disk full", body, settings)
    stored = queue.get(new_id)
    # Settings changed after queueing do not change the queued message.
    settings["general.errors_to"] = "someone-else@example.com"
    settings["general.from_address"] = "other@example.com"

    outgoing = to_outgoing(stored, settings)

    assert outgoing.message_id == stored.message_id
    assert outgoing.message["Message-ID"] == stored.message_id
    assert outgoing.sender == "alerts@example.com"
    assert outgoing.recipients == ["jane@example.com", "ops@example.com"]
    assert outgoing.kind == "errors"
    assert outgoing.subject == "Disk full"
    assert str(outgoing.message["From"]) == "Network Alerts <alerts@example.com>"
    sent_date = email.utils.parsedate_to_datetime(outgoing.message["Date"])
    assert sent_date == datetime.datetime.fromisoformat(stored.queued_at)
    assert outgoing.message.get_content() == body

    wire = message_bytes(outgoing, smtputf8=False)
    assert b"\r\nfirst\r\n.\r\nlast\r\n" in wire
    assert b"\n" not in wire.replace(b"\r\n", b"")


def test_to_outgoing_after_edit_uses_new_values(queue, settings):
    from alertmail.core.queue_outgoing import to_outgoing

    new_id = queue.add("reports", "Report", "body", settings)
    edited = queue.update_fields(new_id, to="noc@example.com", subject="Report, edited")

    outgoing = to_outgoing(edited, settings)

    assert outgoing.recipients == ["noc@example.com"]
    assert outgoing.subject == "Report, edited"
    assert outgoing.message_id == edited.message_id


# --- the database file ---------------------------------------------------------------------------


def test_database_in_data_dir_in_wal_mode(queue, isolated_dirs):
    path = isolated_dirs["data"] / "alertmail" / "queue.sqlite3"
    assert queue.path == path

    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        other.close()
    assert queue._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert queue._db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="POSIX permissions")
def test_database_readable_by_owner_only(queue, settings):
    import stat

    queue.add("errors", "Alert", "body", settings)
    for path in queue.path.parent.iterdir():
        if path.name.startswith("queue.sqlite3"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_newer_schema_rejected(tmp_path):
    path = tmp_path / "queue.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 7")
    raw.close()

    with pytest.raises(QueueError, match="newer alertmail"):
        Queue(path)


def test_new_database_migrated_from_version_0(tmp_path, settings):
    path = tmp_path / "queue.sqlite3"
    sqlite3.connect(path).close()

    with Queue(path) as queue:
        new_id = queue.add("errors", "Alert", "body", settings)

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        row = raw.execute("SELECT recipients, refused FROM messages WHERE id = ?", (new_id,)).fetchone()
    finally:
        raw.close()
    assert json.loads(row[0]) == ['"Doe, Jane" <jane@example.com>', "ops@example.com"]
    assert json.loads(row[1]) == {}


def test_unreadable_database_raises_queue_error(tmp_path):
    path = tmp_path / "queue.sqlite3"
    path.write_bytes(b"this is not an SQLite database" * 200)

    with pytest.raises(QueueError, match="failed while opening it"):
        Queue(path)


def test_add_waits_for_other_writer(settings):
    import threading

    with Queue() as queue:
        path = queue.path
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    results: list[int] = []
    errors: list[BaseException] = []

    def add() -> None:
        try:
            with Queue() as waiting:
                results.append(waiting.add("errors", "Alert", "body", settings))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    worker = threading.Thread(target=add)
    worker.start()
    worker.join(timeout=0.5)
    still_waiting = worker.is_alive()
    blocker.execute("COMMIT")
    blocker.close()
    worker.join(timeout=30)

    assert still_waiting
    assert not worker.is_alive()
    assert errors == []
    assert len(results) == 1


def test_deferred_address_checks(queue, settings, tmp_path):
    from alertmail.core import store
    from alertmail.core.queue_outgoing import to_outgoing

    path = tmp_path / "alertmail.toml"
    path.write_text(
        'schema = 1\n[general]\nerrors_to = ["ops@@example.com"]\nreports_to = ["reports"]\n'
        'from_address = "alerts@example.com"\n',
        encoding="utf-8",
    )
    loaded = store.load_settings(path, defer_address_checks=True).settings

    # An entry without '@' is rejected at once.
    with pytest.raises(SettingError) as raised:
        queue.add("reports", "Report", "body", loaded)
    assert raised.value.key == "general.reports_to"
    assert "not an e-mail address" in str(raised.value)

    # One with an '@' is queued, and the full check runs when it is built.
    new_id = queue.add("errors", "Alert", "body", loaded)
    with pytest.raises(SettingError) as raised:
        to_outgoing(queue.get(new_id), settings)
    assert raised.value.key == "general.errors_to"
