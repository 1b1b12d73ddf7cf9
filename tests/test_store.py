"""The settings file: first run, round trip, comments, corruption, atomic writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import tomllib

import pytest

from alertmail.core import store
from alertmail.core.errors import ConfigFileError
from alertmail.core.settings import Settings


def filled_settings() -> Settings:
    model = Settings()
    model["general.errors_to"] = '"Doe, Jane" <jane@example.com>; ops@example.com'
    model["general.reports_to"] = "reports@example.com"
    model["general.from_address"] = "alerts@example.com"
    model["general.from_name"] = "Network Alerts"
    model["primary.host"] = "relay.example.com"
    model["primary.auth"] = "smtp"
    model["primary.username"] = "notify@example.com"
    return model


def test_path_follows_xdg_config_home(isolated_dirs):
    assert store.config_path() == isolated_dirs["config"] / "alertmail" / "alertmail.toml"
    assert store.data_dir() == isolated_dirs["data"] / "alertmail"


def test_first_run_creates_folder_on_save(isolated_dirs):
    folder = isolated_dirs["config"] / "alertmail"
    result = store.load_settings()
    assert result.exists is False
    assert result.problem is None
    assert result.settings == Settings()
    assert not folder.exists()

    store.save_settings(filled_settings())
    assert store.config_path().is_file()


def test_round_trip_keeps_every_value():
    model = filled_settings()
    store.save_settings(model)
    loaded = store.load_settings()
    assert loaded.problem is None
    assert loaded.settings == model


def test_file_is_owner_only():
    path = store.save_settings(filled_settings())
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600


def test_schema_version_written():
    path = store.save_settings(filled_settings())
    assert tomllib.loads(path.read_text())["schema"] == 1


def test_comments_survive_save():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent("""\
        # Managed by the NOC team, ask Sam before changing.
        schema = 1

        [primary]
        # the core relay in rack 4
        host = "relay.example.com"   # moved in March
        port = 25
        """))
    model = store.load_settings().settings
    model["primary.port"] = 587
    store.save_settings(model)
    text = path.read_text()
    assert "# Managed by the NOC team, ask Sam before changing." in text
    assert "# the core relay in rack 4" in text
    assert 'host = "relay.example.com"   # moved in March' in text
    assert "port = 587" in text


def test_unknown_keys_kept():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 1\n[primary]\nhost = "relay.example.com"\nfuture_option = 3\n')
    model = store.load_settings().settings
    store.save_settings(model)
    assert tomllib.loads(path.read_text())["primary"]["future_option"] == 3


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:20], id="first-20-bytes"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\0" * 4096, id="nul-bytes"),
    ],
)
def test_corrupt_file_kept_aside(damage):
    path = store.save_settings(filled_settings())
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)

    result = store.load_settings()
    assert result.settings == Settings()
    assert "could not be read" in result.problem
    assert result.kept_copy is not None
    assert result.kept_copy.name.startswith("alertmail.toml.corrupt-")
    assert result.kept_copy.read_bytes() == damaged
    assert not path.exists(), "nothing is written until the user saves"


def test_corrupt_copy_names_never_collide():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    kept = []
    for attempt in range(3):
        path.write_bytes(b"[broken" + bytes([48 + attempt]))
        kept.append(store.load_settings().kept_copy)
    assert len(set(kept)) == 3
    assert [copy.read_bytes() for copy in kept] == [b"[broken0", b"[broken1", b"[broken2"]


def test_invalid_value_loads_default_and_keeps_copy():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    original = b'schema = 1\n[primary]\nhost = "relay.example.com"\nport = 70000\n'
    path.write_bytes(original)

    result = store.load_settings()
    assert result.settings["primary.port"] == 25
    assert result.settings["primary.host"] == "relay.example.com"
    assert [error.key for error in result.invalid] == ["primary.port"]
    assert "primary.port" in result.problem
    assert result.kept_copy.read_bytes() == original
    assert path.read_bytes() == original, "the file itself is rewritten only on save"


def test_interrupted_write_leaves_old_file(monkeypatch):
    path = store.save_settings(filled_settings())
    before = path.read_bytes()
    changed = filled_settings()
    changed["primary.port"] = 2525

    real_fdopen = os.fdopen

    class DiskFullStream:
        """Writes half of what it is given, then fails like a full disk."""

        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        def fileno(self):
            return self.stream.fileno()

        def write(self, data):
            self.stream.write(data[: len(data) // 2])
            self.stream.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *args, **kwargs: DiskFullStream(real_fdopen(*args, **kwargs)))
    with pytest.raises(ConfigFileError) as raised:
        store.save_settings(changed)
    monkeypatch.undo()

    assert "could not be written" in str(raised.value)
    assert path.read_bytes() == before
    leftovers = [entry.name for entry in path.parent.iterdir() if entry.name.endswith(".tmp")]
    assert leftovers == []


def test_killed_writer_leaves_complete_file(tmp_path):
    """Kill a process in the middle of many saves; the file always parses."""
    path = store.save_settings(filled_settings())
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["XDG_CONFIG_HOME"] = {str(path.parent.parent)!r}
        from alertmail.core import store
        from alertmail.core.settings import Settings
        model = store.load_settings().settings
        print("ready", flush=True)
        for number in range(100000):
            model["primary.port"] = 1 + number % 65535
            store.save_settings(model)
    """)
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert writer.stdout.readline().strip() == b"ready"
        try:
            writer.wait(timeout=0.4)
        except subprocess.TimeoutExpired:
            writer.kill()
        writer.wait(timeout=10)
        writer.stdout.close()
        document = tomllib.loads(path.read_text())
        assert document["primary"]["host"] == "relay.example.com"
        assert 1 <= document["primary"]["port"] <= 65535


def test_deferred_address_checks_match_full_load():
    store.save_settings(filled_settings())
    full = store.load_settings()
    deferred = store.load_settings(defer_address_checks=True)
    assert deferred.settings.unchecked == {
        "general.errors_to", "general.reports_to", "general.from_address",
        "primary.oauth_mailbox", "secondary.oauth_mailbox",
    }
    store.finish_checks(deferred)
    assert deferred.settings.unchecked == frozenset()
    assert deferred.settings == full.settings
    assert deferred.problem is None


def test_deferred_invalid_address_reported_after_finish():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    original = b'schema = 1\n[general]\nerrors_to = ["ops@example.com", "not an address"]\n'
    path.write_bytes(original)

    result = store.load_settings(defer_address_checks=True)
    assert result.problem is None
    store.finish_checks(result)
    assert result.settings["general.errors_to"] == []
    assert [error.key for error in result.invalid] == ["general.errors_to"]
    assert "general.errors_to" in result.problem
    assert result.kept_copy.read_bytes() == original


def test_deferred_load_rejects_line_breaks_at_once():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 1\n[general]\nfrom_address = "a@example.com\\r\\nRCPT TO:<x@example.net>"\n')
    result = store.load_settings(defer_address_checks=True)
    assert result.settings["general.from_address"] == ""
    assert "line breaks" in result.problem


def test_newer_schema_noted():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 7\n[primary]\nhost = "relay.example.com"\n')
    result = store.load_settings()
    assert result.settings["primary.host"] == "relay.example.com"
    assert "newer alertmail (schema 7)" in result.problem


def test_invalid_file_copied_once():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b'schema = 1\n[primary]\nport = 70000\n')
    for _ in range(5):
        store.load_settings()
    copies = [entry.name for entry in path.parent.iterdir() if ".corrupt-" in entry.name]
    assert len(copies) == 1


def test_unknown_keys_reported():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 1\n[primary]\nhost = "relay.example.com"\nsecurty = "tls"\n[extra]\nx = 1\n')
    result = store.load_settings()
    assert result.unknown == ["primary.securty", "extra"]
    assert "primary.securty" in result.problem
    assert "typing errors" in result.problem


def test_value_in_place_of_table_is_invalid_and_replaced_on_save():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    original = b'schema = 1\nmailer = "off"\n[primary]\nhost = "relay.example.com"\n'
    path.write_bytes(original)
    result = store.load_settings()
    assert [error.key for error in result.invalid] == ["mailer"]
    assert result.kept_copy.read_bytes() == original
    store.save_settings(result.settings)
    assert tomllib.loads(path.read_text())["mailer"]["send_interval_s"] == 20


def test_servers_with_invalid_values():
    path = store.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('schema = 1\n[primary]\nhost = "relay.example.com"\nsecurity = "ssl"\n[general]\nfrom_name = 3\n')
    result = store.load_settings()
    invalid = store.servers_with_invalid_values(result)
    assert list(invalid) == ["primary"]
    assert invalid["primary"][0].key == "primary.security"


def test_only_keys_keeps_other_values_on_disk():
    store.save_settings(filled_settings())
    stale = store.load_settings().settings
    fresh = store.load_settings().settings
    fresh["primary.port"] = 2525
    store.save_settings(fresh)

    stale["primary.timeout_s"] = 9
    store.save_settings(stale, only_keys=["primary.timeout_s"])

    document = tomllib.loads(store.config_path().read_text())
    assert document["primary"]["port"] == 2525
    assert document["primary"]["timeout_s"] == 9


def test_symlinked_file_stays_a_link(tmp_path):
    target = tmp_path / "shared" / "alertmail.toml"
    target.parent.mkdir()
    target.write_text('schema = 1\n[primary]\nhost = "relay.example.com"\n')
    link = store.config_path()
    link.parent.mkdir(parents=True)
    link.symlink_to(target)

    model = store.load_settings().settings
    model["primary.port"] = 587
    store.save_settings(model)

    assert link.is_symlink()
    assert tomllib.loads(target.read_text())["primary"]["port"] == 587
