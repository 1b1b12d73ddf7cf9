"""Lazy module loggers: ``logging`` is imported only for a record that logging would emit."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

from alertmail.core import lazy_logging


def run_child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, where nothing has imported ``logging`` yet."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
    )


def test_records_reach_configured_logging(caplog):
    caplog.set_level(logging.DEBUG, logger="alertmail.test.lazy")
    log = lazy_logging.get_logger("alertmail.test.lazy")

    log.debug("debug %d", 1)
    log.info("info %s", "two")
    log.warning("warning %r", "three")

    records = [(record.name, record.levelname, record.getMessage()) for record in caplog.records]
    assert records == [
        ("alertmail.test.lazy", "DEBUG", "debug 1"),
        ("alertmail.test.lazy", "INFO", "info two"),
        ("alertmail.test.lazy", "WARNING", "warning 'three'"),
    ]


def test_record_names_the_calling_function(caplog):
    caplog.set_level(logging.INFO, logger="alertmail.test.lazy")

    lazy_logging.get_logger("alertmail.test.lazy").info("where")

    assert caplog.records[0].funcName == "test_record_names_the_calling_function"
    assert caplog.records[0].filename == "test_lazy_logging.py"


def test_level_of_configured_logger_applies(caplog):
    caplog.set_level(logging.WARNING, logger="alertmail.test.lazy")
    log = lazy_logging.get_logger("alertmail.test.lazy")

    log.info("dropped")
    log.error("kept")

    assert [record.getMessage() for record in caplog.records] == ["kept"]
    assert log.isEnabledFor(logging.ERROR)
    assert not log.isEnabledFor(logging.INFO)


def test_exception_carries_traceback(caplog):
    caplog.set_level(logging.ERROR, logger="alertmail.test.lazy")

    try:
        raise ValueError("broken")
    except ValueError:
        lazy_logging.get_logger("alertmail.test.lazy").exception("failed: %s", "step")

    assert caplog.records[0].getMessage() == "failed: step"
    assert caplog.records[0].exc_info[0] is ValueError


def test_info_without_logging_imports_nothing():
    child = run_child(
        """
        import sys
        from alertmail.core.lazy_logging import get_logger

        log = get_logger("alertmail.child")
        log.debug("not shown %d", 1)
        log.info("not shown %d", 2)
        print("logging" in sys.modules)
        """
    )

    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["False"]
    assert child.stderr == ""


def test_warning_without_setup_goes_to_stderr():
    child = run_child(
        """
        import sys
        from alertmail.core.lazy_logging import get_logger

        get_logger("alertmail.child").warning("disk %s is full", "/var")
        print("logging" in sys.modules)
        """
    )

    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["True"]
    # logging's last-resort handler prints the bare message.
    assert child.stderr == "disk /var is full\n"


def test_deferred_setup_runs_at_first_kept_record():
    child = run_child(
        """
        import sys
        from alertmail.core import lazy_logging

        def setup():
            import logging

            print("setup", flush=True)
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            root = logging.getLogger("alertmail")
            root.addHandler(handler)
            root.setLevel(logging.ERROR)
            root.propagate = False

        lazy_logging.defer_setup(setup, lazy_logging.ERROR)
        log = lazy_logging.get_logger("alertmail.child")
        log.warning("dropped before setup")
        print("logging" in sys.modules, flush=True)
        log.error("queue %s failed", "q1")
        log.warning("dropped after setup")
        log.error("again")
        """
    )

    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == [
        "False",
        "setup",
        "ERROR alertmail.child: queue q1 failed",
        "ERROR alertmail.child: again",
    ]
    assert child.stderr == ""


def test_send_command_imports_no_logging(tmp_path):
    folders = {f"XDG_{name.upper()}_HOME": str(tmp_path / name) for name in ("config", "data", "state")}
    settings_file = tmp_path / "config" / "alertmail" / "alertmail.toml"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(
        '[general]\nfrom_address = "alerts@example.com"\nerrors_to = ["ops@example.com"]\n',
        encoding="utf-8",
    )
    body = tmp_path / "body.txt"
    body.write_text("port 1 down\n", encoding="utf-8")
    child = run_child(
        f"""
        import os, sys
        os.environ.update({folders!r})
        from alertmail.core import cli
        status = cli.main(["send", "--errors", "--subject", "sw1 down", "--body-file", {str(body)!r}])
        print(status, "logging" in sys.modules)
        """
    )

    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == ["1", "0 False"]
