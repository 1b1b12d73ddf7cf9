"""``alertmail mailer run``: the mailer in the foreground.

The mailer's modules are imported when the command runs, so that
registering it costs ``alertmail send`` nothing.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from . import store
from .errors import ConfigFileError, NoServerEnabledError, SettingError
from .settings import Settings

log = logging.getLogger("alertmail.mailer")


class _SettingsSource:
    """Rereads the settings file before each batch, keeping the last good settings.

    The rereading never moves or copies the file, because the mailer may
    catch an editor in the middle of writing it. Each problem with the file
    is logged once, when it first appears.
    """

    def __init__(self, first: store.LoadResult, mail_log) -> None:
        self.current = usable_settings(first)
        self.mail_log = mail_log
        self._problem: str | None = first.problem

    def _report(self, problem: str | None) -> None:
        if problem and problem != self._problem:
            log.warning("%s", problem)
        self._problem = problem

    def __call__(self) -> Settings:
        try:
            result = store.load_settings(keep_aside=False)
        except ConfigFileError as error:
            self._report(f"{error}. The settings read before stay in use.")
            return self.current
        if result.unreadable:
            self._report(f"{result.problem} The settings read before stay in use.")
            return self.current
        self._report(result.problem)
        settings = usable_settings(result)
        if settings != self.current:
            log.info("settings changed; the next batch uses them")
            self.current = settings
            self.mail_log.configure(
                enabled=self.current["general.log_enabled"], verbose=self.current["general.log_verbose"]
            )
        return self.current


def usable_settings(result: store.LoadResult) -> Settings:
    """Return the loaded settings with every server whose stored values were invalid turned off.

    An invalid value loads as its default, and a default in place of what
    the administrator wrote may be unsafe: security "ssl" read as "none"
    would send the password in plain text. Such a server is not used until
    its settings are fixed; the secondary takes over as when the primary is
    not enabled.
    """
    settings = result.settings.copy()
    for server, errors in store.servers_with_invalid_values(result).items():
        if settings[f"{server}.enabled"]:
            settings[f"{server}.enabled"] = False
            log.error(
                "the %s server is not used because its settings contain invalid values (%s); "
                "fix them in the dialog or with 'alertmail config set'",
                server, "; ".join(str(error) for error in errors),
            )
    return settings


def _run(args: argparse.Namespace) -> int:
    from . import failover, maillog
    from .mailer import Mailer
    from .queue import Queue
    from .queue_lock import QueueLock

    root = logging.getLogger("alertmail")
    consoles = [handler for handler in root.handlers if handler.get_name() == "alertmail-console"]
    if not consoles:
        consoles = [logging.StreamHandler(sys.stderr)]
        root.addHandler(consoles[0])
    for console in consoles:
        console.setFormatter(logging.Formatter("alertmail: %(message)s"))
        console.setLevel(logging.INFO)

    loaded = store.load_settings()
    if loaded.problem:
        print(f"alertmail: {loaded.problem}", file=sys.stderr)
    settings = loaded.settings
    mail_log = maillog.MailLog(enabled=settings["general.log_enabled"], verbose=settings["general.log_verbose"])
    logging.getLogger("alertmail").setLevel(logging.DEBUG if settings["general.log_verbose"] else logging.INFO)

    lock = QueueLock()
    if not lock.acquire():
        print(
            f"alertmail: another mailer is already sending from the queue in {store.data_dir()}; "
            "only one mailer runs at a time",
            file=sys.stderr,
        )
        return 1

    try:
        with Queue(max_attempts=settings["mailer.max_attempts"]) as queue:
            mailer = Mailer(queue, _SettingsSource(loaded, mail_log))

            def stop(signum, frame):  # noqa: ARG001 - signal handler signature
                log.info("signal %d received, stopping", signum)
                mailer.stop()

            signal.signal(signal.SIGINT, stop)
            if hasattr(signal, "SIGTERM"):
                signal.signal(signal.SIGTERM, stop)

            if not args.once:
                mailer.run()
                return 0

            try:
                failover.servers_in_order(mailer.load())
            except NoServerEnabledError as error:
                raise SettingError("primary.enabled", False, str(error)) from None
            report = mailer.run(once=True)
            if report is None:
                print("alertmail: the mailer is stopped (mailer.enabled = false); nothing was sent", file=sys.stderr)
                return 1
            return 0 if not report.kept and not report.failed else 1
    finally:
        lock.release()
        mail_log.close()


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``mailer`` command to the ``alertmail`` parser."""
    mailer = commands.add_parser("mailer", help="run the mailer that sends the queue")
    actions = mailer.add_subparsers(dest="mailer_command", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="send queued messages every send interval, in the foreground, until stopped",
        description="Send the queued messages as a batch every mailer.send_interval_s seconds, "
        "through the primary server or, when it cannot be used, the secondary. "
        "Stop it with Ctrl+C or SIGTERM.",
    )
    run.add_argument(
        "--once", action="store_true",
        help="send one batch now and exit: 0 when nothing is left queued, 1 otherwise",
    )
    run.set_defaults(handler=_run)
