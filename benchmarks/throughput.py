"""Benchmark of the mailer's throughput against plain ``smtplib`` on the same SMTP sink.

Both sides send the same messages to one aiosmtpd sink on 127.0.0.1, which
this script starts in a child process (``smtp_sink.py``) on a free port:

- **mailer**: the messages are queued with ``Queue.add`` in a new queue
  database (not timed). Then ``run_batch(settings, queue)`` from
  ``alertmail.core.mailer`` runs one batch through one SMTP session. The
  queue works as the mailer uses it: WAL, ``synchronous = FULL``, and each
  message's result committed in its own transaction by the mailer's writer
  thread before the next message's data is sent. The mail log is attached
  at INFO level, as ``alertmail mailer run`` attaches it. The time runs
  from the call to its return.
- **plain smtplib**: one ``smtplib.SMTP`` session sends the same messages
  with ``sendmail``, then QUIT. Their wire bytes are rendered before the
  clock starts, so this side only talks SMTP and builds nothing.

Repetitions alternate which side goes first. The target is judged on the
ratio of the median rates. Run ``python benchmarks/throughput.py --help``
for the options.
"""

from __future__ import annotations

import argparse
import gc
import logging
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402 (a module beside this script)
import throughput_costs  # noqa: E402

from alertmail.core import maillog  # noqa: E402
from alertmail.core.mailer import run_batch  # noqa: E402
from alertmail.core.messages import message_bytes  # noqa: E402
from alertmail.core.queue import Queue  # noqa: E402
from alertmail.core.queue_outgoing import to_outgoing  # noqa: E402
from alertmail.core.settings import Settings  # noqa: E402

RATE_TARGET = 0.9
SINK_SCRIPT = Path(__file__).resolve().parent / "smtp_sink.py"
SINK_START_TIMEOUT_S = 30.0

RECIPIENTS = "noc@example.test, Network Operations <oncall@example.test>"
SENDER = "alerts@example.test"
SENDER_NAME = "Network Alerts"
BODY_LINE = "Interface GigabitEthernet0/{index} on sw{number} changed state to down.\n"


class Sink:
    """The aiosmtpd sink in a child process; a context manager that stops it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SINK_SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self._read_line()
        if not line.startswith("ready "):
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"the SMTP sink did not start: {line!r}")
        self.port = int(line.split()[1])
        self.received: int | None = None

    def _read_line(self) -> str:
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(SINK_START_TIMEOUT_S):
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"the SMTP sink did not start within {SINK_START_TIMEOUT_S:g} s")
        return self.process.stdout.readline().strip()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the sink and read how many messages it accepted."""
        try:
            # communicate() closes the sink's standard input, which stops it.
            output, _ = self.process.communicate(timeout=SINK_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return
        for line in output.splitlines():
            if line.startswith("received "):
                self.received = int(line.split()[1])


def make_settings(port: int) -> Settings:
    """Return settings that send through the sink: no TLS, no login, two recipients."""
    settings = Settings()
    settings["general.errors_to"] = RECIPIENTS
    settings["general.from_address"] = SENDER
    settings["general.from_name"] = SENDER_NAME
    settings["primary.host"] = "127.0.0.1"
    settings["primary.port"] = port
    settings["primary.timeout_s"] = 30
    return settings


def message_body(number: int, lines: int) -> str:
    """Return the body of message ``number``: ``lines`` lines of an interface alert."""
    return "".join(BODY_LINE.format(index=index, number=number) for index in range(lines))


def fill_queue(path: Path, settings: Settings, count: int, body_lines: int) -> Queue:
    """Create a queue at ``path`` holding ``count`` messages to the Errors recipients."""
    queue = Queue(path, max_attempts=settings["mailer.max_attempts"])
    for number in range(count):
        queue.add("errors", f"sw{number}: link down", message_body(number, body_lines), settings)
    return queue


def wire_messages(queue: Queue, settings: Settings) -> list[tuple[str, list[str], bytes]]:
    """Return (sender, recipients, data) of each queued message, as the mailer sends it."""
    rendered = []
    for message in queue.list():
        outgoing = to_outgoing(message, settings)
        rendered.append((outgoing.sender, outgoing.recipients, message_bytes(outgoing, smtputf8=False)))
    return rendered


def time_mailer(queue: Queue, settings: Settings, count: int) -> float:
    """Send every queued message with one ``run_batch``; return the seconds it took."""
    gc.collect()
    started = time.perf_counter()
    report = run_batch(settings, queue, password_for=_no_password)
    elapsed = time.perf_counter() - started
    if len(report.sent) != count or queue.count("sent") != count:
        raise RuntimeError(f"the mailer did not send every message: {report.summary()}")
    return elapsed


def _no_password(server: str) -> str:
    raise AssertionError(f"the benchmark uses no login, yet the {server} password was read")


def time_plain(port: int, messages: Sequence[tuple[str, list[str], bytes]]) -> float:
    """Send ``messages`` with plain ``smtplib`` over one session; return the seconds it took."""
    gc.collect()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for sender, recipients, data in messages:
            refused = client.sendmail(sender, recipients, data)
            if refused:
                raise RuntimeError(f"the sink refused recipients: {refused}")
    return time.perf_counter() - started


def attach_mail_log(folder: Path) -> maillog.MailLog:
    """Attach the rotating mail log at INFO level, as ``alertmail mailer run`` does by default."""
    logging.getLogger("alertmail").setLevel(logging.INFO)
    return maillog.MailLog(enabled=True, verbose=False, path=folder / maillog.LOG_NAME)


def run_repetitions(options: argparse.Namespace, port: int, folder: Path) -> dict[str, list[float]]:
    """Run the interleaved repetitions; return the messages per second of each side."""
    settings = make_settings(port)
    rates: dict[str, list[float]] = {"mailer": [], "plain smtplib": []}
    for repetition in range(options.repeats):
        queue = fill_queue(folder / f"queue-{repetition}.sqlite3", settings, options.messages, options.body_lines)
        try:
            rendered = wire_messages(queue, settings)
            order = ("mailer", "plain smtplib") if repetition % 2 == 0 else ("plain smtplib", "mailer")
            for side in order:
                if side == "mailer":
                    elapsed = time_mailer(queue, settings, options.messages)
                else:
                    elapsed = time_plain(port, rendered)
                rates[side].append(options.messages / elapsed)
        finally:
            queue.close()
        print(f"  repetition {repetition + 1}: mailer {rates['mailer'][-1]:7.0f} msg/s, "
              f"plain smtplib {rates['plain smtplib'][-1]:7.0f} msg/s", flush=True)
    return rates


def summarize(rates: dict[str, list[float]]) -> bool:
    """Print medians and the ratio; return whether the target is met."""
    print()
    print(f"{'messages/s':16} {'median':>8} {'min':>8} {'max':>8}")
    for side, values in rates.items():
        print(f"{side:16} {statistics.median(values):8.0f} {min(values):8.0f} {max(values):8.0f}")
    ratio = statistics.median(rates["mailer"]) / statistics.median(rates["plain smtplib"])
    pair_ratios = [mailer / plain for mailer, plain in zip(rates["mailer"], rates["plain smtplib"])]
    passed = ratio >= RATE_TARGET
    print(f"ratio mailer/plain: {ratio:.3f} (median of per-repetition ratios "
          f"{statistics.median(pair_ratios):.3f}), target >= {RATE_TARGET}: {'PASS' if passed else 'FAIL'}")
    return passed


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--messages", type=int, default=1000,
                        help="messages per batch and per smtplib session (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="repetitions of each side, interleaved (default: %(default)s)")
    parser.add_argument("--body-lines", type=int, default=20,
                        help="lines in each message body, about 70 bytes each (default: %(default)s)")
    parser.add_argument("--no-mail-log", action="store_true",
                        help="leave the mail log out, to see what writing it costs")
    parser.add_argument("--costs", action="store_true",
                        help="also time the mailer's steps one by one, per message")
    parser.add_argument("--profile", action="store_true",
                        help="also run one more batch under cProfile and print the top functions")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when the target is missed")
    options = parser.parse_args(argv)
    if options.messages < 1 or options.repeats < 1:
        parser.error("--messages and --repeats must be at least 1")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its results; return the exit status."""
    options = parse_arguments(argv)
    print(machine.describe())
    print(f"SQLite: {sqlite3.sqlite_version}")
    print(f"{options.messages} messages of {options.body_lines} body lines to 2 recipients, "
          f"{options.repeats} repetitions per side")

    with tempfile.TemporaryDirectory(prefix="alertmail-bench-throughput-") as root:
        folder = Path(root)
        level = logging.getLogger("alertmail").level
        mail_log = None if options.no_mail_log else attach_mail_log(folder)
        expected = 2 * options.messages * options.repeats
        try:
            with Sink() as sink:
                print(f"sink: aiosmtpd on 127.0.0.1 port {sink.port}")
                rates = run_repetitions(options, sink.port, folder)
                passed = summarize(rates)
                settings = make_settings(sink.port)
                if options.costs:
                    queue = fill_queue(folder / "queue-costs.sqlite3", settings, options.messages, options.body_lines)
                    expected += throughput_costs.print_costs(settings, queue)
                if options.profile:
                    queue = fill_queue(folder / "queue-profile.sqlite3", settings, options.messages, options.body_lines)
                    expected += throughput_costs.print_profile(settings, queue)
        finally:
            if mail_log is not None:
                mail_log.close()
            logging.getLogger("alertmail").setLevel(level)
        if sink.received != expected:
            print(f"the sink accepted {sink.received} messages, {expected} expected", file=sys.stderr)
            return 2

    if options.check and not passed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
