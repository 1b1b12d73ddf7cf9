"""Host, port and address validation of the settings model."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alertmail.core import settings
from alertmail.core.errors import SettingError, UnknownSettingError
from alertmail.core.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 127.0.0.1 ", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("  [2001:db8::1]\t", "2001:db8::1"),
        ("smtp.example.com", "smtp.example.com"),
        ("smtp.example.com.", "smtp.example.com."),
        ("bücher.example", "bücher.example"),
        ("relay", "relay"),
        ("", ""),
    ],
)
def test_host_accepted_forms(text, expected):
    model = Settings()
    model["primary.host"] = text
    assert model["primary.host"] == expected


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("localhost:2525", "Port field"),
        ("[::1]:25", "Port field"),
        ("smtp://relay.example.com", "without a scheme"),
        ("relay.example.com/path", "without a scheme"),
        ("user@relay.example.com", "without a user name"),
        ("relay example", "not a valid host name"),
        ("-relay.example", "not a valid host name"),
        ("300.1.1.1", "not a valid IPv4 address"),
        ("[::1", "closing ']'"),
        ("2001:db8::zz", "not a valid IPv6 address"),
        ("relay.example\r\nRCPT TO:<x@example.net>", "line breaks"),
        ("a" * 64 + ".example", "not a valid host name"),
    ],
)
def test_host_rejected_forms(text, reason_part):
    model = Settings()
    with pytest.raises(SettingError) as raised:
        model["primary.host"] = text
    assert raised.value.key == "primary.host"
    assert reason_part in raised.value.reason
    assert model["primary.host"] == ""


@pytest.mark.parametrize("key", ["primary.port", "secondary.pop_port"])
@pytest.mark.parametrize("value", [0, 65536, 70000, -1])
def test_port_out_of_range(key, value):
    with pytest.raises(SettingError) as raised:
        Settings()[key] = value
    assert "from 1 to 65535" in str(raised.value)


def test_port_text_not_a_number():
    with pytest.raises(SettingError) as raised:
        settings.setting("primary.port").parse("25a")
    assert "whole number from 1 to 65535" in raised.value.reason


def test_timeout_and_interval_ranges():
    model = Settings()
    model["primary.timeout_s"] = 3600
    model["mailer.send_interval_s"] = 86400
    model["mailer.max_attempts"] = 1000
    for key, value in [("primary.timeout_s", 0), ("mailer.send_interval_s", 86401), ("mailer.max_attempts", 1001)]:
        with pytest.raises(SettingError):
            model[key] = value


def test_bool_is_not_an_int():
    with pytest.raises(SettingError):
        Settings()["primary.port"] = True
    with pytest.raises(SettingError):
        Settings()["primary.enabled"] = 1


def test_recipients_display_names_and_separators():
    model = Settings()
    model["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com,, noc@example.com;'
    model["general.reports_to"] = "  reports@example.com  "
    assert model["general.errors_to"] == [
        '"Doe, Jane" <jane@example.com>',
        "ops@example.com",
        "noc@example.com",
    ]
    assert model["general.reports_to"] == ["reports@example.com"]


def test_recipients_envelope_addresses():
    from alertmail.core.validation import envelope_addresses

    model = Settings()
    model["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com,, noc@example.com;'
    assert envelope_addresses(model["general.errors_to"]) == [
        "jane@example.com",
        "ops@example.com",
        "noc@example.com",
    ]


def test_recipients_separators_only_rejected():
    with pytest.raises(SettingError) as raised:
        Settings()["general.errors_to"] = " ; , "
    assert "no address" in raised.value.reason


def test_recipients_empty_field_is_empty_list():
    model = Settings()
    model["general.errors_to"] = "   "
    assert model["general.errors_to"] == []


@pytest.mark.parametrize("key", ["general.errors_to", "general.from_address", "general.from_name"])
def test_line_breaks_rejected_in_every_header_field(key):
    model = Settings()
    before = model[key]
    with pytest.raises(SettingError) as raised:
        model[key] = "alerts@example.com\r\nRCPT TO:<x@example.net>"
    assert "line breaks" in raised.value.reason
    assert model[key] == before


def test_internationalized_recipient_accepted():
    model = Settings()
    model["general.errors_to"] = "müller@example.com, ops@example.com"
    assert model["general.errors_to"] == ["müller@example.com", "ops@example.com"]


def test_from_display_name_unicode_kept():
    model = Settings()
    model["general.from_name"] = "Überwachung"
    assert model["general.from_name"] == "Überwachung"


@pytest.mark.parametrize("text", ["not-an-address", "two@example.com three@example.com", "a@"])
def test_invalid_addresses_rejected(text):
    with pytest.raises(SettingError):
        Settings()["general.errors_to"] = text


def test_unknown_key_names_the_key():
    with pytest.raises(UnknownSettingError) as raised:
        settings.setting("primary.prot")
    assert "primary.prot" in str(raised.value)


def test_choice_values():
    model = Settings()
    model["primary.security"] = "STARTTLS"
    assert model["primary.security"] == "starttls"
    with pytest.raises(SettingError) as raised:
        model["primary.auth"] = "kerberos"
    assert "none, smtp, pop_before_smtp" in raised.value.reason


def test_problems_enabled_server_needs_host():
    model = Settings()
    problems = model.problems()
    assert [problem.key for problem in problems] == ["primary.host"]
    model["primary.host"] = "relay.example.com"
    model["primary.auth"] = "pop_before_smtp"
    assert [problem.key for problem in model.problems()] == ["primary.username", "primary.pop_host"]


def test_every_declaration_has_label_and_help():
    for declared in settings.SETTINGS:
        assert declared.label.count("&") >= 1, declared.key
        assert len(declared.help) > 20, declared.key
        assert declared.validate(declared.default) == declared.default, declared.key


def _mnemonics(text: str) -> list[str]:
    """Return the lower-case mnemonic letters of a label (or of several joined by spaces)."""
    return [match.lower() for match in re.findall(r"&([^&])", text.replace("&&", ""))]


def test_labels_unique_mnemonic_per_tab():
    from alertmail.gui.titles import KEYRING_ROW_LABELS, PAGE_TITLES

    # The tab titles' mnemonics work on every tab, so no label may take them.
    tab_letters = [title[title.index("&") + 1].lower() for title in PAGE_TITLES.values()]
    assert len(tab_letters) == len(set(tab_letters)), tab_letters
    reserved = settings.RESERVED_MNEMONICS["dialog"] + "".join(tab_letters)

    # The mailer settings are shown on the General tab.
    general = [
        letter
        for declared in settings.SETTINGS
        if declared.section in ("general", "mailer")
        for letter in _mnemonics(declared.label)
    ]
    assert len(general) == len(set(general)), general
    assert not set(general) & set(reserved), general

    # A server tab shows the rows of one authentication type (and provider) at a time.
    server_reserved = reserved + settings.RESERVED_MNEMONICS["server"]
    combinations = [
        (auth, provider)
        for auth, _ in settings.AUTH_CHOICES
        for provider, _ in settings.PROVIDER_CHOICES
    ]
    for server in settings.SERVERS:
        for auth, provider in combinations:
            letters, declared_letters = [], []
            for name in settings.server_fields_shown(auth, provider):
                if name in KEYRING_ROW_LABELS:
                    # The password row's letters are among the reserved ones.
                    letters += _mnemonics(KEYRING_ROW_LABELS[name])
                else:
                    declared_letters += _mnemonics(settings.setting(f"{server}.{name}").label)
            where = (server, auth, provider, letters, declared_letters)
            assert not set(declared_letters) & set(server_reserved), where
            assert not set(letters) & set(reserved), where
            assert len(letters + declared_letters) == len(set(letters + declared_letters)), where


def test_every_server_setting_is_shown_for_some_type():
    shown = {
        name
        for auth, _ in settings.AUTH_CHOICES
        for provider, _ in settings.PROVIDER_CHOICES
        for name in settings.server_fields_shown(auth, provider)
    }
    declared_names = {declared.name for declared in settings.SETTINGS if declared.section == "primary"}
    assert declared_names <= shown, declared_names - shown


@given(st.text(max_size=80))
def test_host_validation_never_crashes(text):
    try:
        result = Settings()
        result["primary.host"] = text
    except SettingError as error:
        assert error.key == "primary.host"
    else:
        assert "\n" not in result["primary.host"]
        assert "\r" not in result["primary.host"]


@given(st.text(max_size=120))
def test_recipient_validation_never_crashes(text):
    try:
        model = Settings()
        model["general.errors_to"] = text
    except SettingError as error:
        assert error.key == "general.errors_to"
    else:
        for entry in model["general.errors_to"]:
            assert "\r" not in entry
            assert "\n" not in entry


@pytest.mark.parametrize("address", ["root@localhost", "ops@mailhost"])
def test_one_label_domain_accepted(address):
    model = Settings()
    model["general.errors_to"] = address
    assert model["general.errors_to"] == [address]


@pytest.mark.parametrize("address", ["root@-bad", "a b@localhost", "root@local_host"])
def test_one_label_domain_still_checked(address):
    with pytest.raises(SettingError):
        Settings()["general.errors_to"] = address


@pytest.mark.parametrize("text", ["²", "--5", "٣", "1_000", "0x19", ""])
def test_port_text_non_ascii_digits_rejected(text):
    with pytest.raises(SettingError) as raised:
        settings.setting("primary.port").parse(text)
    assert "whole number from 1 to 65535" in raised.value.reason


def test_space_separated_addresses_explained():
    with pytest.raises(SettingError) as raised:
        Settings()["general.errors_to"] = "a@example.com b@example.com"
    assert raised.value.value == "a@example.com b@example.com"
    assert "commas or semicolons" in raised.value.reason


def test_username_kept_as_typed():
    model = Settings()
    model["primary.username"] = " bob "
    assert model["primary.username"] == " bob "
