"""Start-up benchmark: alertmail's E-mail Options dialog against a bare PySide6 dialog.

Each run starts a fresh process and measures two things:

- time to the first frame: from just before ``subprocess.Popen`` to the
  moment the parent reads the child's ``first-frame`` line, both taken with
  ``time.perf_counter()`` in this process;
- peak memory: the child's ``ru_maxrss`` from ``os.wait4`` (KiB on Linux),
  which covers the whole process life up to its exit right after that frame.

Baseline and alertmail runs alternate, and the one that goes first in a pair
alternates too, so that noise on the machine hits both. One warm-up pair is
run and not counted. Both run in one temporary set of XDG folders. That set
contains a settings file with both servers filled in, and their passwords in
a file-backed keyring.

Both run with the interpreter of a virtual environment that contains a
regular ``pip install`` of the repository's ``HEAD`` commit (see
``benchenv.py``), as users install alertmail, with bytecode caching on.
``--python current`` runs this interpreter and the alertmail it imports
instead, with bytecode cached in the temporary folder.

Run ``python benchmarks/startup.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import os
import selectors
import shlex
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

TIME_TARGET = 1.10
MEMORY_TARGET = 1.15
FIRST_FRAME_PREFIX = b"first-frame "
# Modules with a large import cost that the dialog needs only after its first
# frame (passwords, address validation, writing TOML, sending mail).
WATCHED_MODULES = ("keyring", "email_validator", "tomlkit", "smtplib", "ssl", "truststore")
BARE_DIALOG = Path(__file__).resolve().parent / "bare_dialog.py"
# The console script alertmail-settings does exactly this with its interpreter.
ENTRY_POINT_CODE = "import sys; from alertmail.gui.app import main; sys.exit(main())"

SETTINGS_TOML = """\
schema = 1

[general]
errors_to = ["noc@example.test", "Network Operations <oncall@example.test>"]
reports_to = ["reports@example.test"]
from_address = "alerts@example.test"
from_name = "Network Alerts"
log_enabled = true
log_verbose = false

[mailer]
enabled = true
send_interval_s = 20
max_attempts = 10

[primary]
enabled = true
host = "smtp.example.test"
port = 587
timeout_s = 30
security = "starttls"
auth = "smtp"
username = "alerts@example.test"
pop_host = ""
pop_port = 110

[secondary]
enabled = true
host = "relay.example.test"
port = 25
timeout_s = 20
security = "none"
auth = "pop_before_smtp"
username = "relay-user"
pop_host = "pop.example.test"
pop_port = 110
"""


class RunError(RuntimeError):
    """A benchmarked process did not report a first frame or did not exit 0."""


def prepare_home(root: Path) -> dict[str, str]:
    """Create the XDG folders, settings file and keyring under ``root``; return their variables."""
    variables = {"HOME": str(root / "home")}
    for name in ("config", "data", "state", "cache"):
        folder = root / name
        folder.mkdir(parents=True)
        variables[f"XDG_{name.upper()}_HOME"] = str(folder)
    (root / "home").mkdir()
    config = root / "config" / "alertmail"
    config.mkdir()
    (config / "alertmail.toml").write_text(SETTINGS_TOML, encoding="utf-8")

    # keyrings.alt's plain-text backend keeps its file in XDG_DATA_HOME/python_keyring,
    # where the child finds it through PYTHON_KEYRING_BACKEND.
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(root / "data" / "python_keyring" / "keyring_pass.cfg")
    backend.set_password("alertmail", "primary", "benchmark-primary-password")
    backend.set_password("alertmail", "secondary", "benchmark-secondary-password")
    variables["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    return variables


def child_environment(
    home: Mapping[str, str], display: str | None, pycache_prefix: Path | None = None
) -> dict[str, str]:
    """Return the environment of a benchmarked process.

    Bytecode caching is on even when PYTHONDONTWRITEBYTECODE is set here,
    because an installed program runs from cached bytecode. With
    ``pycache_prefix`` the bytecode is cached there.
    """
    env = benchenv.child_environment(os.environ, pycache_prefix=pycache_prefix)
    env.update(home)
    env["ALERTMAIL_BENCH_FIRST_FRAME"] = "1"
    env["ALERTMAIL_BENCH_QUIT"] = "1"
    if display:
        env["QT_QPA_PLATFORM"] = "xcb"
        env["DISPLAY"] = display
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def measure_once(command: Sequence[str], env: Mapping[str, str], timeout_s: float) -> dict[str, float]:
    """Start ``command``, wait for its first frame and its exit; return the measurements.

    The result has these keys:

    - ``time_s``: from the spawn to the parent reading the line;
    - ``reported_s``: from the spawn to the child's own ``perf_counter``
      value, which is the same monotonic clock on Linux;
    - ``cpu_s``: the child's user and system CPU time over its whole life;
    - ``maxrss_kib``: the child's peak resident set size.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = started + timeout_s
    output = b""
    arrived = None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    selector.register(process.stderr, selectors.EVENT_READ)
    errors = b""
    open_pipes = 2
    try:
        while open_pipes and time.perf_counter() < deadline:
            for key, _ in selector.select(timeout=max(0.0, deadline - time.perf_counter())):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                elif key.fileobj is process.stdout:
                    output += chunk
                    if arrived is None and FIRST_FRAME_PREFIX in output:
                        arrived = time.perf_counter()
                else:
                    errors += chunk
    finally:
        selector.close()
        if open_pipes:
            process.kill()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
        process.stderr.close()

    shown = shlex.join(command)
    tail = errors.decode(errors="replace").strip()[-600:]
    if open_pipes:
        raise RunError(f"{shown} did not exit within {timeout_s:g} s and was killed. End of its stderr:\n{tail}")
    if arrived is None:
        raise RunError(f"{shown} wrote no first-frame line and exited with status {process.returncode}. "
                       f"End of its stderr:\n{tail}")
    if process.returncode != 0:
        raise RunError(f"{shown} exited with status {process.returncode} after its first frame. "
                       f"End of its stderr:\n{tail}")
    line = output[output.index(FIRST_FRAME_PREFIX):].split(b"\n", 1)[0]
    reported = float(line[len(FIRST_FRAME_PREFIX):].strip())
    return {
        "time_s": arrived - started,
        "reported_s": reported - started,
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
        else:
            times = ", ".join(f"{name} {samples[name][-1]['time_s'] * 1000:.0f} ms" for name in order)
            print(f"  pair {pair}/{runs}: {times}", flush=True)
    return samples


def _column(samples: list[dict[str, float]], key: str, scale: float) -> list[float]:
    return [sample[key] * scale for sample in samples]


def summarize(samples: Mapping[str, list[dict[str, float]]], baseline: str, candidate: str) -> bool:
    """Print medians, minimums and ratios; return whether both targets are met.

    The targets are judged on the ratio of the medians. The ratio of the
    minimums and the median of the ratios within each pair are printed to
    show how much the machine's noise moves the result.
    """
    metrics = (
        ("time to first frame (ms)", "time_s", 1000.0),
        ("CPU time, user + system (ms)", "cpu_s", 1000.0),
        ("peak memory, max RSS (MiB)", "maxrss_kib", 1 / 1024),
    )
    ratios = {}
    print()
    print(f"{'':30} {'median':>9} {'min':>9} {'max':>9}")
    for title, key, scale in metrics:
        print(title)
        columns = {name: _column(samples[name], key, scale) for name in (baseline, candidate)}
        for name, values in columns.items():
            print(f"  {name:28} {statistics.median(values):9.1f} {min(values):9.1f} {max(values):9.1f}")
        pair_ratios = [c / b for b, c in zip(columns[baseline], columns[candidate])]
        ratios[key] = statistics.median(columns[candidate]) / statistics.median(columns[baseline])
        print(f"  {'ratio ' + candidate + '/' + baseline:28} {ratios[key]:9.3f} "
              f"{min(columns[candidate]) / min(columns[baseline]):9.3f}"
              f"   (median of pair ratios {statistics.median(pair_ratios):.3f})")
    pipe_delay = [sample["time_s"] - sample["reported_s"] for sample in samples[candidate]]
    print(f"median delay between the child's first-frame time and the parent reading it: "
          f"{statistics.median(pipe_delay) * 1e6:.0f} us")

    time_ok = ratios["time_s"] <= TIME_TARGET
    memory_ok = ratios["maxrss_kib"] <= MEMORY_TARGET
    print()
    print(f"time to first frame: ratio of medians {ratios['time_s']:.3f}, "
          f"target <= {TIME_TARGET:.2f}: {'PASS' if time_ok else 'FAIL'}")
    print(f"peak memory:         ratio of medians {ratios['maxrss_kib']:.3f}, "
          f"target <= {MEMORY_TARGET:.2f}: {'PASS' if memory_ok else 'FAIL'}")
    return time_ok and memory_ok


def report_imports(commands: Mapping[str, Sequence[str]], env: Mapping[str, str], repeats: int,
                   count: int, timeout_s: float) -> None:
    """Print the largest import costs of each command, as medians of ``repeats`` runs."""
    for name, command in commands.items():
        runs = [importtime.run_importtime(command, env, timeout_s) for _ in range(repeats)]
        before = importtime.median_costs(run[0] for run in runs)
        after = importtime.median_costs(run[1] for run in runs)
        print()
        title = f"{name} (median of {repeats} runs of -X importtime)"
        print(importtime.format_report(title, before, after, "alertmail", count))
        print(importtime.format_watched(before, after, WATCHED_MODULES))


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--runs", type=int, default=20,
                        help="counted pairs of runs, after one warm-up pair (default: %(default)s)")
    parser.add_argument("--display", metavar="DISPLAY",
                        help="run on this X display with the xcb platform instead of offscreen")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target is missed")
    parser.add_argument("--python", choices=("install", "current"), default="install",
                        help="run both programs with a virtual environment holding a regular install "
                             "of HEAD, created or updated in --venv, or with this interpreter and the "
                             "alertmail it imports (default: %(default)s)")
    parser.add_argument("--venv", type=Path, default=benchenv.DEFAULT_VENV,
                        help="folder of the benchmark's virtual environment (default: %(default)s)")
    parser.add_argument("--entry", choices=("entry-point", "module"), default="entry-point",
                        help="start alertmail by calling alertmail.gui.app:main as the console script "
                             "does, or with python -m alertmail.gui.app (default: %(default)s)")
    parser.add_argument("--import-repeats", type=int, default=3,
                        help="runs of -X importtime per process, 0 to skip (default: %(default)s)")
    parser.add_argument("--import-top", type=int, default=15,
                        help="lines per import table (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a process may take to show its first frame and exit (default: %(default)s)")
    parser.add_argument("--baseline-twice", action="store_true",
                        help="compare the baseline with itself, to see the noise of the method")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its results; return the exit status."""
    options = parse_arguments(argv)
    if options.python == "current":
        python = sys.executable
        source = f"this interpreter's alertmail, working tree of {benchenv.head_commit()[:12]}"
    else:
        try:
            installed, commit = benchenv.prepare(options.venv)
        except benchenv.BenchEnvError as error:
            print(f"benchmark failed: {error}", file=sys.stderr)
            return 2
        python = str(installed)
        source = f"a regular install of commit {commit[:12]} in {options.venv}"
    baseline = [python, str(BARE_DIALOG)]
    if options.baseline_twice:
        commands = {"baseline": baseline, "baseline-2": baseline}
    elif options.entry == "module":
        commands = {"baseline": baseline, "alertmail": [python, "-m", "alertmail.gui.app"]}
    else:
        commands = {"baseline": baseline, "alertmail": [python, "-c", ENTRY_POINT_CODE]}
    baseline_name, candidate_name = commands

    print(machine.describe(python))
    print(f"interpreter: {python} ({source})")
    for name, command in commands.items():
        print(f"{name}: {' '.join(command)}")
    print(f"platform: {'xcb on ' + options.display if options.display else 'offscreen'}; "
          f"{options.runs} counted pairs after 1 warm-up pair")

    with tempfile.TemporaryDirectory(prefix="alertmail-bench-") as root:
        pycache_prefix = Path(root) / "pycache" if options.python == "current" else None
        env = child_environment(prepare_home(Path(root)), options.display, pycache_prefix)
        try:
            samples = run_pairs(commands, env, options.runs, options.timeout)
        except RunError as error:
            print(f"benchmark failed: {error}", file=sys.stderr)
            return 2
        passed = summarize(samples, baseline_name, candidate_name)
        if options.import_repeats > 0:
            report_imports(commands, env, options.import_repeats, options.import_top, options.timeout)

    if options.check and not passed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
