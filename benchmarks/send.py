"""Benchmark of ``alertmail send`` against a bare SQLite insert from the same Python.

Each run starts a fresh process and measures:

- wall time: from just before ``subprocess.Popen`` to the child's exit, both
  taken with ``time.perf_counter()`` in this process;
- CPU time (user + system) and peak memory (``ru_maxrss``, KiB on Linux),
  from ``os.wait4``.

Both programs run with the interpreter of a virtual environment that contains
a regular ``pip install`` of the repository's ``HEAD`` commit (see
``benchenv.py``), with bytecode caching on. ``--python current`` uses this
interpreter instead. The candidate is the ``alertmail`` console script beside
that interpreter (``--entry module`` runs ``python -m alertmail.core.cli``
instead), queuing one message with ``send --errors --subject ... --body-file
...``. The baseline starts the same interpreter, opens the same queue
database and inserts one row with the same values in one transaction, with
SQLite's default ``synchronous = FULL``, then prints the row's id. Both
therefore pay for the interpreter start-up and one synced commit. What is
left is the cost of alertmail's imports, reading the settings file,
validation and argument parsing.

Baseline and candidate runs alternate, and the one that goes first in a pair
alternates too. One warm-up pair is run and not counted. Both use one
temporary set of XDG folders with a settings file.

Run ``python benchmarks/send.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import os
import select
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchenv  # noqa: E402 (a module beside this script)
import importtime  # noqa: E402
import machine  # noqa: E402

TIME_TARGET = 1.5
# Modules reported as imported or not. 'alertmail send' needs sqlite3 and
# none of the others: the GUI toolkit, the keyring, what only writing settings
# or talking SMTP needs, and the full address syntax check.
WATCHED_MODULES = ("PySide6", "keyring", "tomlkit", "smtplib", "ssl", "email_validator", "sqlite3")

SETTINGS_TOML = """\
schema = 1

[general]
errors_to = ["noc@example.test", "Network Operations <oncall@example.test>"]
reports_to = ["reports@example.test"]
from_address = "alerts@example.test"
from_name = "Network Alerts"

[mailer]
enabled = true

[primary]
enabled = true
host = "smtp.example.test"
"""

BODY = "Interface GigabitEthernet0/1 on sw1 changed state to down.\n.\nChecked at 03:00.\n"
SUBJECT = "sw1: link down"

# The baseline: the same Python, the same database file, one row with the
# values 'alertmail send' stores, inserted in one committed transaction.
BASELINE_CODE = """\
import json, os, sqlite3, sys, time
path, body_path = sys.argv[1], sys.argv[2]
with open(body_path, encoding="utf-8", newline="") as stream:
    body = stream.read()
db = sqlite3.connect(path, timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
cursor = db.execute(
    "INSERT INTO messages (kind, sender, recipients, subject, body, message_id, queued_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ("errors", "Network Alerts <alerts@example.test>",
     json.dumps(["noc@example.test", "Network Operations <oncall@example.test>"]),
     "sw1: link down", body, f"<baseline.{os.getpid()}.{time.time_ns()}@example.test>",
     "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00"),
)
db.execute("COMMIT")
print(cursor.lastrowid)
"""


class RunError(RuntimeError):
    """A benchmarked process did not exit 0 in time."""


def prepare_home(root: Path, python: Path, pycache_prefix: Path | None) -> tuple[dict[str, str], Path, Path]:
    """Create XDG folders, the settings file, a body file and the queue under ``root``.

    ``python`` creates the queue. Returns the environment variables, the body
    file and the queue database.
    """
    variables = {"HOME": str(root / "home")}
    for name in ("config", "data", "state", "cache"):
        folder = root / name
        folder.mkdir(parents=True)
        variables[f"XDG_{name.upper()}_HOME"] = str(folder)
    (root / "home").mkdir()
    config = root / "config" / "alertmail"
    config.mkdir()
    (config / "alertmail.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    body = root / "body.txt"
    body.write_text(BODY, encoding="utf-8", newline="")

    env = child_environment(variables, pycache_prefix)
    # Create the queue database, so that the baseline finds its table.
    subprocess.run(
        [str(python), "-c", "from alertmail.core.queue import Queue\nwith Queue() as q: print(q.path)"],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    )
    database = root / "data" / "alertmail" / "queue.sqlite3"
    return variables, body, database


def _wait(process: subprocess.Popen, timeout_s: float, command: Sequence[str]):
    """Wait for ``process`` to exit; return its ``os.wait4`` status and resource use.

    A pidfd (Linux 5.3 and later) lets the wait end at the exit, with a
    timeout; elsewhere the wait blocks without one.
    """
    if hasattr(os, "pidfd_open"):
        pidfd = os.pidfd_open(process.pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], timeout_s)
        finally:
            os.close(pidfd)
        if not ready:
            process.kill()
            os.wait4(process.pid, 0)
            raise RunError(f"{' '.join(command)} did not exit within {timeout_s:g} s")
    _, status, usage = os.wait4(process.pid, 0)
    return status, usage


def child_environment(variables: Mapping[str, str], pycache_prefix: Path | None) -> dict[str, str]:
    """Return the environment of a benchmarked process.

    Bytecode caching is on even when PYTHONDONTWRITEBYTECODE is set here,
    because an installed program runs from cached bytecode. The installed
    environment uses the ``.pyc`` files pip wrote. With ``pycache_prefix``
    (the current interpreter), the warm-up pair fills a cache there.
    """
    env = benchenv.child_environment(os.environ, pycache_prefix=pycache_prefix)
    env.update(variables)
    return env


def measure_once(command: Sequence[str], env: Mapping[str, str], timeout_s: float) -> dict[str, float]:
    """Run ``command`` to its exit; return wall time, CPU time and peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        # The outputs are a line or two, far less than a pipe's buffer, so
        # the child never waits for this process to read them.
        status, usage = _wait(process, timeout_s, command)
        ended = time.perf_counter()
        process.returncode = os.waitstatus_to_exitcode(status)
        output = process.stdout.read()
        errors = process.stderr.read()
    finally:
        process.stdout.close()
        process.stderr.close()

    if process.returncode != 0 or not output.strip().isdigit():
        tail = errors.decode(errors="replace").strip()[-600:]
        raise RunError(f"{' '.join(command)} exited with status {process.returncode}; stderr:\n{tail}")
    return {
        "time_s": ended - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
    }


def run_pairs(commands: Mapping[str, Sequence[str]], env: Mapping[str, str], runs: int,
              timeout_s: float) -> dict[str, list[dict[str, float]]]:
    """Run one uncounted warm-up pair, then ``runs`` interleaved pairs; return the counted samples."""
    names = list(commands)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for pair in range(runs + 1):
        order = names if pair % 2 == 0 else names[::-1]
        for name in order:
            result = measure_once(commands[name], env, timeout_s)
            if pair > 0:
                samples[name].append(result)
        if pair == 0:
            print("  warm-up pair done", flush=True)
        elif pair % 10 == 0 or pair == runs:
            print(f"  {pair}/{runs} pairs done", flush=True)
    return samples


def summarize(samples: Mapping[str, list[dict[str, float]]], baseline: str, candidate: str) -> bool:
    """Print medians, minimums and ratios; return whether the wall-time target is met.

    The target is judged on the ratio of the medians. The ratio of the
    minimums and the median of the ratios within each pair show how much the
    machine's noise moves the result.
    """
    metrics = (
        ("wall time, start to exit (ms)", "time_s", 1000.0),
        ("CPU time, user + system (ms)", "cpu_s", 1000.0),
        ("peak memory, max RSS (MiB)", "maxrss_kib", 1 / 1024),
    )
    ratios = {}
    print()
    print(f"{'':30} {'median':>9} {'min':>9} {'max':>9}")
    for title, key, scale in metrics:
        print(title)
        columns = {name: [sample[key] * scale for sample in samples[name]] for name in (baseline, candidate)}
        for name, values in columns.items():
            print(f"  {name:28} {statistics.median(values):9.1f} {min(values):9.1f} {max(values):9.1f}")
        pair_ratios = [c / b for b, c in zip(columns[baseline], columns[candidate])]
        ratios[key] = statistics.median(columns[candidate]) / statistics.median(columns[baseline])
        print(f"  {'ratio ' + candidate + '/' + baseline:28} {ratios[key]:9.3f} "
              f"{min(columns[candidate]) / min(columns[baseline]):9.3f}"
              f"   (median of pair ratios {statistics.median(pair_ratios):.3f})")

    passed = ratios["time_s"] <= TIME_TARGET
    print()
    print(f"wall time: ratio of medians {ratios['time_s']:.3f}, target <= {TIME_TARGET:.2f}: "
          f"{'PASS' if passed else 'FAIL'}")
    return passed


def report_imports(name: str, command: Sequence[str], env: Mapping[str, str], repeats: int,
                   count: int, timeout_s: float) -> None:
    """Print where the import time of ``command`` goes, as medians of ``repeats`` runs of ``-X importtime``."""
    runs = [importtime.run_importtime(command, env, timeout_s)[0] for _ in range(repeats)]
    costs = importtime.median_costs(runs)
    total_ms = sum(cost.self_us for cost in costs) / 1000
    print()
    print(f"{name}: {len(costs)} modules imported, {total_ms:.1f} ms of import time "
          f"(median of {repeats} runs of -X importtime)")
    print("  imports made by alertmail or outside any other import, by cumulative time (ms):")
    for cost in importtime.direct_imports(costs, "alertmail")[:count]:
        importer = f"by {cost.importer}" if cost.importer else "outside any other import"
        print(f"    {cost.cumulative_us / 1000:8.1f}  {cost.module}  ({importer})")
    print("  alertmail's own modules, by cumulative time (ms):")
    own = [cost for cost in costs if cost.module.startswith("alertmail")]
    for cost in sorted(own, key=lambda cost: cost.cumulative_us, reverse=True)[:count]:
        print(f"    {cost.cumulative_us / 1000:8.1f}  {cost.module}  (self {cost.self_us / 1000:.1f})")
    print("  packages by summed self time (ms, modules):")
    for package, self_us, modules in importtime.top_packages(costs, count):
        print(f"    {self_us / 1000:8.1f}  {package} ({modules})")
    found = {cost.module.partition(".")[0] for cost in costs}
    print("  watched modules: " + ", ".join(
        f"{module} {'imported' if module in found else 'not imported'}" for module in WATCHED_MODULES
    ))


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--runs", type=int, default=30,
                        help="counted pairs of runs, after one warm-up pair (default: %(default)s)")
    parser.add_argument("--python", choices=("install", "current"), default="install",
                        help="run both programs with a virtual environment holding a regular install "
                             "of HEAD, created or updated in --venv, or with this interpreter and its "
                             "alertmail (default: %(default)s)")
    parser.add_argument("--venv", type=Path, default=benchenv.DEFAULT_VENV,
                        help="folder of the benchmark's virtual environment (default: %(default)s)")
    parser.add_argument("--entry", choices=("console-script", "module"), default="console-script",
                        help="start alertmail with the console script beside this interpreter, "
                             "or with python -m alertmail.core.cli (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when the target is missed")
    parser.add_argument("--import-repeats", type=int, default=5,
                        help="runs of -X importtime, 0 to skip (default: %(default)s)")
    parser.add_argument("--import-top", type=int, default=12,
                        help="lines per import table (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a process may take to exit (default: %(default)s)")
    parser.add_argument("--baseline-twice", action="store_true",
                        help="compare the baseline with itself, to see the noise of the method")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    return options


def alertmail_command(entry: str, body: Path, python: Path) -> list[str]:
    """Return the command line of one 'alertmail send' run by ``python``."""
    arguments = ["send", "--errors", "--subject", SUBJECT, "--body-file", str(body)]
    script = benchenv.console_script(python, "alertmail")
    if entry == "console-script":
        if not script.exists():
            raise SystemExit(f"the console script {script} is missing; install alertmail or use --entry module")
        return [str(script), *arguments]
    return [str(python), "-m", "alertmail.core.cli", *arguments]


def choose_python(options: argparse.Namespace) -> tuple[Path, str]:
    """Return the interpreter to run both programs with, and what it runs."""
    if options.python == "current":
        return Path(sys.executable), f"this interpreter's alertmail, working tree of {benchenv.head_commit()[:12]}"
    python, commit = benchenv.prepare(options.venv)
    return python, f"a regular install of commit {commit[:12]} in {options.venv}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its results; return the exit status."""
    options = parse_arguments(argv)
    try:
        python, source = choose_python(options)
    except benchenv.BenchEnvError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    print(machine.describe(str(python)))
    print(f"SQLite: {sqlite3.sqlite_version}")
    print(f"interpreter: {python} ({source})")

    with tempfile.TemporaryDirectory(prefix="alertmail-bench-send-") as root:
        pycache_prefix = Path(root) / "pycache" if options.python == "current" else None
        variables, body, database = prepare_home(Path(root), python, pycache_prefix)
        env = child_environment(variables, pycache_prefix)
        baseline = [str(python), "-c", BASELINE_CODE, str(database), str(body)]
        if options.baseline_twice:
            commands = {"baseline": baseline, "baseline-2": baseline}
        else:
            commands = {"baseline": baseline, "alertmail send": alertmail_command(options.entry, body, python)}
        for name, command in commands.items():
            shown = "python -c BASELINE_CODE ..." if command is baseline else shlex.join(command)
            print(f"{name}: {shown}")
        print(f"{options.runs} counted pairs after 1 warm-up pair")

        try:
            samples = run_pairs(commands, env, options.runs, options.timeout)
        except RunError as error:
            print(f"benchmark failed: {error}", file=sys.stderr)
            return 2
        baseline_name, candidate_name = commands
        passed = summarize(samples, baseline_name, candidate_name)
        if options.import_repeats > 0 and not options.baseline_twice:
            # importtime.run_importtime passes no arguments on, so they go into the code.
            send_argv = ["alertmail", *alertmail_command("module", body, python)[3:]]
            send_code = f"import sys; sys.argv = {send_argv!r}; from alertmail.core.cli import main; sys.exit(main())"
            baseline_code = f"import sys; sys.argv = {['baseline', str(database), str(body)]!r}\n" + BASELINE_CODE
            for name, code in (("alertmail send", send_code), ("baseline", baseline_code)):
                report_imports(name, [str(python), "-c", code], env, options.import_repeats,
                               options.import_top, options.timeout)

    if options.check and not passed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
