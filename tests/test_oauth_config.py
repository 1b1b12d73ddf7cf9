"""OAuth 2.0 settings: validation per provider, service-account keys, shared token sources."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from alertmail.core import secrets
from alertmail.core.errors import SettingError
from alertmail.core.oauth_config import config_from_values, secret_entry
from alertmail.core.settings import Settings
from alertmail.core.oauth import (
    OAuthConfig,
    OAuthCredentials,
    TokenSource,
    parse_service_account_key,
    token_source_for,
)

TENANT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SECRET = "Q~client-secret-value-0123456789"
MAILBOX = "alerts@example.com"


def microsoft(**fields) -> OAuthConfig:
    values = {
        "provider": "microsoft365", "mailbox": MAILBOX, "secret": SECRET,
        "client_id": "8f0b2c1e-3d4a-4b5c-9d6e-7f8091a2b3c4", "tenant_id": TENANT_ID,
    }
    values.update(fields)
    return OAuthConfig(**values)


def other(**fields) -> OAuthConfig:
    values = {
        "provider": "other", "mailbox": MAILBOX, "secret": SECRET, "client_id": "relay",
        "token_url": "https://id.example.com/oauth/token", "scope": "smtp.send",
    }
    values.update(fields)
    return OAuthConfig(**values)


@pytest.fixture
def key_json(service_account) -> str:
    return service_account("https://id.example.com/token").key_json


def test_microsoft_defaults():
    config = microsoft()

    assert config.endpoint == f"https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token"
    assert config.effective_scope == "https://outlook.office365.com/.default"
    assert config.user == MAILBOX


def test_microsoft_tenant_domain_accepted():
    config = microsoft(tenant_id="contoso.onmicrosoft.com")

    assert config.endpoint == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"tenant_id": ""}, "primary.oauth_tenant_id"),
        ({"tenant_id": "contoso"}, "primary.oauth_tenant_id"),
        ({"tenant_id": "bad_name.example.com"}, "primary.oauth_tenant_id"),
        ({"client_id": ""}, "primary.oauth_client_id"),
        ({"client_id": "abc\r\nRCPT TO:<x@example.com>"}, "primary.oauth_client_id"),
        ({"secret": ""}, "primary.oauth_client_secret"),
        ({"mailbox": ""}, "primary.oauth_mailbox"),
        ({"mailbox": "not an address"}, "primary.oauth_mailbox"),
        ({"token_url": "http://login.example.com/token"}, "primary.oauth_token_url"),
        ({"provider": "yahoo"}, "primary.oauth_provider"),
    ],
)
def test_microsoft_invalid_field_named(fields, key):
    with pytest.raises(SettingError) as caught:
        microsoft(**fields)

    assert caught.value.key == key


def test_invalid_secret_not_in_message():
    with pytest.raises(SettingError) as caught:
        microsoft(secret=SECRET, mailbox="broken")

    assert SECRET not in str(caught.value)
    assert SECRET not in repr(microsoft())


def test_empty_secret_says_how_to_store():
    with pytest.raises(SettingError) as caught:
        microsoft(secret="", server="secondary")

    assert caught.value.key == "secondary.oauth_client_secret"
    assert "alertmail config set-password secondary" in caught.value.reason


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"token_url": ""}, "primary.oauth_token_url"),
        ({"token_url": "/oauth/token"}, "primary.oauth_token_url"),
        ({"token_url": "https:///token"}, "primary.oauth_token_url"),
        ({"token_url": "ftp://id.example.com/token"}, "primary.oauth_token_url"),
        ({"scope": ""}, "primary.oauth_scope"),
        ({"scope": "smtp\nsend"}, "primary.oauth_scope"),
    ],
)
def test_other_invalid_field_named(fields, key):
    with pytest.raises(SettingError) as caught:
        other(**fields)

    assert caught.value.key == key


def test_other_uses_given_url_and_scope():
    config = other()

    assert config.endpoint == "https://id.example.com/oauth/token"
    assert config.effective_scope == "smtp.send"


def test_google_endpoint_from_key(key_json):
    config = OAuthConfig(provider="google", mailbox=MAILBOX, secret=key_json)

    assert config.endpoint == "https://id.example.com/token"
    assert config.effective_scope == "https://mail.google.com/"
    assert "PRIVATE KEY" not in repr(config)
    assert "PRIVATE KEY" not in repr(config.service_account_key())


@pytest.mark.parametrize("field", ["type", "client_email", "private_key", "token_uri"])
def test_key_missing_field_named(key_json, field):
    data = json.loads(key_json)
    del data[field]

    with pytest.raises(ValueError) as caught:
        parse_service_account_key(json.dumps(data), "key file /tmp/sa.json")

    message = str(caught.value)
    assert message.startswith("key file /tmp/sa.json is missing the field ")
    assert field in message
    assert "PRIVATE KEY" not in message


def test_key_wrong_type_rejected(key_json):
    data = json.loads(key_json)
    data["type"] = "authorized_user"

    with pytest.raises(ValueError, match="has type 'authorized_user', not 'service_account'"):
        parse_service_account_key(json.dumps(data), "sa.json")


def test_key_not_json_rejected():
    with pytest.raises(ValueError, match="^sa.json is not valid JSON"):
        parse_service_account_key("-----BEGIN PRIVATE KEY-----", "sa.json")


def test_google_broken_stored_key(key_json):
    data = json.loads(key_json)
    data["token_uri"] = "http://id.example.com/token"

    with pytest.raises(SettingError) as caught:
        OAuthConfig(provider="google", mailbox=MAILBOX, secret=json.dumps(data))
    with pytest.raises(SettingError) as missing:
        OAuthConfig(provider="google", mailbox=MAILBOX, secret="{}")

    assert caught.value.key == "primary.oauth_service_account_key"
    assert missing.value.key == "primary.oauth_service_account_key"
    assert "--key-file" in missing.value.reason
    assert "PRIVATE KEY" not in str(caught.value)


def test_shared_source_per_config():
    first = token_source_for(microsoft(server="secondary"))
    again = token_source_for(microsoft(server="secondary"))
    changed = token_source_for(microsoft(server="secondary", secret="Q~another-secret"))

    assert first is again
    assert changed is not first


def test_credentials_read_keyring_password():
    secrets.store_password("secondary", "relay-password")
    credentials = OAuthCredentials({"primary": TokenSource(microsoft())})

    assert credentials("secondary") == "relay-password"
    assert credentials.token_source("secondary") is None
    assert credentials.token_source("primary").mailbox == MAILBOX


def test_oauth_import_loads_no_http_library():
    code = (
        "import sys\n"
        "import alertmail.core.oauth, alertmail.core.dispatch, alertmail.core.failover\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('authlib', 'requests', 'joserfc', 'urllib3')))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert output.stdout.strip() == "[]"


def test_config_from_setting_values():
    values = {
        "secondary.oauth_provider": "microsoft365",
        "secondary.oauth_tenant_id": TENANT_ID,
        "secondary.oauth_client_id": "8f0b2c1e-3d4a-4b5c-9d6e-7f8091a2b3c4",
        "secondary.oauth_mailbox": MAILBOX,
    }

    config = config_from_values(values, "secondary", SECRET)

    assert config == microsoft(server="secondary")
    assert secret_entry("secondary", "microsoft365") == "secondary:oauth-secret-microsoft365"
    assert secret_entry("secondary", "google") == "secondary:oauth-key"


def test_config_missing_value_named():
    with pytest.raises(SettingError) as caught:
        config_from_values({"primary.oauth_provider": "other"}, "primary", SECRET)

    assert caught.value.key == "primary.oauth_mailbox"


def test_deeply_nested_key_rejected():
    with pytest.raises(ValueError) as raised:
        parse_service_account_key("[" * 30000 + "]" * 30000, "the key file deep.json")

    assert "the key file deep.json is not valid JSON: it is nested too deeply" == str(raised.value)


def test_unreadable_private_key_rejected(key_json):
    data = json.loads(key_json)
    data["private_key"] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"

    with pytest.raises(ValueError) as raised:
        parse_service_account_key(json.dumps(data), "the key file bad.json")

    assert "the key file bad.json has a private_key that cannot be read" in str(raised.value)


def test_plain_http_token_uri_rejected(key_json):
    data = json.loads(key_json)
    data["token_uri"] = "http://oauth2.example.com/token"

    with pytest.raises(ValueError) as raised:
        parse_service_account_key(json.dumps(data), "the key file http.json")

    assert "the key file http.json has an invalid token_uri" in str(raised.value)
    assert "https://" in str(raised.value)


def test_token_url_with_credentials_rejected():
    with pytest.raises(SettingError) as raised:
        Settings({"primary.oauth_token_url": "https://user:pw@idp.example.com/token"})

    assert "remove the user name and password" in str(raised.value)


def test_tenant_path_gets_tenant_wording():
    with pytest.raises(SettingError) as raised:
        Settings({"primary.oauth_tenant_id": "../../evil.example.com"})

    assert "a tenant ID is a GUID or a domain name" in str(raised.value)


def test_url_credentials_never_quoted():
    with pytest.raises(SettingError) as raised:
        Settings({"primary.oauth_token_url": "http://alice:Hunter2-TopSecret@idp.example.com/token"})

    assert "Hunter2-TopSecret" not in str(raised.value)
    assert "***@idp.example.com" in str(raised.value)


def test_named_pipe_key_file_refused(tmp_path):
    import os

    from alertmail.core.oauth_config import read_key_file

    pipe = tmp_path / "key.json"
    os.mkfifo(pipe)

    with pytest.raises(ValueError) as raised:
        read_key_file(str(pipe))

    assert f"the key file {pipe} is not a regular file" in str(raised.value)
