"""Checks of the start-up benchmark's own parts: run with ``pytest benchmarks``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import importtime
import startup

# Lines as CPython 3.11 writes them: a child's line comes before its parent's.
IMPORTTIME_STDERR = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _weakrefset
import time:       300 |        420 | site
This plugin does not support propagateSizeHints()
import time:        50 |         50 |       shiboken6.Shiboken
import time:       900 |        950 |     PySide6.QtCore
import time:      1000 |       1950 |   alertmail.gui.dialog
import time:       200 |       2150 | alertmail.gui.app
-- first frame --
import time:       700 |        700 |     keyring.core
import time:       100 |        800 |   keyring
import time:        10 |        810 | alertmail.core.secrets
"""


def test_parse_importtime_splits_at_marker():
    before, after = importtime.parse_importtime(IMPORTTIME_STDERR)
    assert [cost.module for cost in before] == [
        "_weakrefset", "site", "shiboken6.Shiboken", "PySide6.QtCore",
        "alertmail.gui.dialog", "alertmail.gui.app",
    ]
    assert [cost.module for cost in after] == ["keyring.core", "keyring", "alertmail.core.secrets"]


def test_parse_importtime_finds_importers():
    before, after = importtime.parse_importtime(IMPORTTIME_STDERR)
    importers = {cost.module: cost.importer for cost in before + after}
    assert importers["_weakrefset"] == "site"
    assert importers["site"] is None
    assert importers["shiboken6.Shiboken"] == "PySide6.QtCore"
    assert importers["PySide6.QtCore"] == "alertmail.gui.dialog"
    assert importers["keyring"] == "alertmail.core.secrets"


def test_direct_imports_skip_own_and_nested():
    before, _ = importtime.parse_importtime(IMPORTTIME_STDERR)
    direct = [cost.module for cost in importtime.direct_imports(before, "alertmail")]
    assert direct == ["PySide6.QtCore", "site"]


def test_median_costs_per_module():
    first = [importtime.ImportCost("ssl", 100, 400, None)]
    second = [importtime.ImportCost("ssl", 300, 600, None)]
    third = [importtime.ImportCost("ssl", 200, 500, None), importtime.ImportCost("re", 5, 5, None)]
    merged = {cost.module: cost for cost in importtime.median_costs([first, second, third])}
    assert merged["ssl"].self_us == 200
    assert merged["ssl"].cumulative_us == 500
    assert merged["re"].self_us == 5


@pytest.fixture
def bench_env(tmp_path: Path) -> dict[str, str]:
    return startup.child_environment(startup.prepare_home(tmp_path), display=None)


def test_prepare_home_writes_settings_and_passwords(tmp_path: Path):
    variables = startup.prepare_home(tmp_path)
    settings_file = Path(variables["XDG_CONFIG_HOME"]) / "alertmail" / "alertmail.toml"
    assert 'host = "smtp.example.test"' in settings_file.read_text(encoding="utf-8")
    keyring_file = Path(variables["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg"
    assert "alertmail" in keyring_file.read_text(encoding="utf-8")


def test_bare_dialog_reports_first_frame(bench_env: dict[str, str]):
    result = startup.measure_once([sys.executable, str(startup.BARE_DIALOG)], bench_env, timeout_s=60)
    assert 0 < result["reported_s"] <= result["time_s"]
    assert result["maxrss_kib"] > 10 * 1024


def test_bare_dialog_imports_nothing_after_frame(bench_env: dict[str, str]):
    before, after = importtime.run_importtime(
        [sys.executable, str(startup.BARE_DIALOG)], bench_env, timeout_s=60)
    modules = {cost.module for cost in before}
    assert "PySide6.QtWidgets" in modules
    assert after == []


def test_missing_first_frame_is_an_error(bench_env: dict[str, str]):
    command = [sys.executable, "-c", "print('no frame')"]
    with pytest.raises(startup.RunError, match="no first-frame line"):
        startup.measure_once(command, bench_env, timeout_s=60)


def test_nonzero_exit_is_an_error(bench_env: dict[str, str]):
    command = [sys.executable, "-c", "import sys; print('first-frame 1.0', flush=True); sys.exit(3)"]
    with pytest.raises(startup.RunError, match="status 3"):
        startup.measure_once(command, bench_env, timeout_s=60)


def test_hanging_process_is_killed(bench_env: dict[str, str]):
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(startup.RunError, match="did not exit within 1 s"):
        startup.measure_once(command, bench_env, timeout_s=1)


def test_throughput_small_run_counts_every_message(tmp_path, capsys):
    import throughput

    # The sink's count must equal the messages both sides sent, or main returns 2.
    status = throughput.main(["--messages", "20", "--repeats", "2", "--costs"])

    output = capsys.readouterr().out
    assert status == 0
    assert "ratio mailer/plain:" in output
    assert "Queue.mark_sent" in output


def test_send_module_command_line():
    import send

    command = send.alertmail_command("module", Path("body.txt"), Path("/usr/bin/python3"))

    assert command[:3] == ["/usr/bin/python3", "-m", "alertmail.core.cli"]
    assert command[3:] == ["send", "--errors", "--subject", send.SUBJECT, "--body-file", "body.txt"]
