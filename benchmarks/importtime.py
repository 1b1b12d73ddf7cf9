"""Import costs of a start-up, read from ``python -X importtime``.

CPython's ``-X importtime`` writes one stderr line per imported module:
``import time: <self us> | <cumulative us> | <indent><module>``. The indent
is two spaces per nesting level. A line without indent is an import made
while no other import was in progress: by the interpreter's start-up, by
the program's own code, or by a function at run time. A line's cumulative
time includes everything that import pulled in.
"""

from __future__ import annotations

import dataclasses
import statistics
import subprocess
from collections.abc import Iterable, Mapping, Sequence

_PREFIX = "import time:"


@dataclasses.dataclass(frozen=True)
class ImportCost:
    """Time spent importing one module, in microseconds."""

    module: str
    self_us: int
    cumulative_us: int
    importer: str | None
    """The module whose import statement imported this one, ``None`` when no import was in progress."""


# Wraps the benchmarked program: when the program writes its first-frame line
# to sys.stdout, a marker goes to stderr between the -X importtime lines. The
# marker separates the imports before the first frame from those after it.
_MARKER = "-- first frame --"
_WRAPPER = f"""\
import sys
class _FirstFrameMarker:
    def __init__(self, stream):
        self._stream = stream
        self._marked = False
    def write(self, text):
        if not self._marked and "first-frame " in text:
            self._marked = True
            sys.stderr.write("{_MARKER}\\n")
            sys.stderr.flush()
        return self._stream.write(text)
    def __getattr__(self, name):
        return getattr(self._stream, name)
sys.stdout = _FirstFrameMarker(sys.stdout)
"""


def _parse_line(line: str) -> tuple[int, str, int, int] | None:
    """Return ``(level, module, self_us, cumulative_us)`` of one import-time line, or ``None``."""
    if not line.startswith(_PREFIX):
        return None
    fields = line[len(_PREFIX):].split("|")
    if len(fields) != 3 or not fields[0].strip().isdigit():
        return None  # the header line: "self [us] | cumulative | imported package"
    name = fields[2].rstrip()
    module = name.lstrip(" ")
    # One space follows the bar, then two spaces per nesting level.
    level = (len(name) - len(module) - 1) // 2
    return level, module, int(fields[0]), int(fields[1])


def parse_importtime(stderr: str) -> tuple[list[ImportCost], list[ImportCost]]:
    """Parse the ``-X importtime`` lines of a stderr into imports before and after the first frame.

    Lines that are not import times are ignored. Without a first-frame
    marker, every import counts as before the first frame. A module's line
    comes after the lines of the modules it imported, one level deeper, which
    is how each module's importer is found.
    """
    parsed: list[tuple[int, str, int, int, bool]] = []
    after_marker = False
    for line in stderr.splitlines():
        if line == _MARKER:
            after_marker = True
            continue
        entry = _parse_line(line)
        if entry is not None:
            parsed.append((*entry, after_marker))

    importers: dict[int, str] = {}
    waiting: dict[int, list[int]] = {}  # level -> indexes of lines whose importer is not read yet
    for index, (level, module, _, _, _) in enumerate(parsed):
        for child in waiting.pop(level + 1, []):
            importers[child] = module
        waiting.setdefault(level, []).append(index)

    before: list[ImportCost] = []
    after: list[ImportCost] = []
    for index, (_, module, self_us, cumulative_us, after_frame) in enumerate(parsed):
        cost = ImportCost(module, self_us, cumulative_us, importers.get(index))
        (after if after_frame else before).append(cost)
    return before, after


def wrap_command(command: Sequence[str]) -> list[str]:
    """Return ``command`` as a ``python -X importtime -c`` command line with the first-frame marker.

    ``command`` is ``[python, "-c", CODE]``, ``[python, "-m", MODULE]`` or
    ``[python, SCRIPT, *ARGS]``.
    """
    python, first, *rest = command
    if first == "-c":
        code = rest[0]
    elif first == "-m":
        code = f"import runpy; runpy.run_module({rest[0]!r}, run_name='__main__', alter_sys=True)"
    else:
        code = (f"import runpy; sys.argv = {[first, *rest]!r}; "
                f"runpy.run_path({first!r}, run_name='__main__')")
    return [python, "-X", "importtime", "-c", _WRAPPER + code]


def run_importtime(command: Sequence[str], env: Mapping[str, str],
                   timeout_s: float) -> tuple[list[ImportCost], list[ImportCost]]:
    """Run ``command`` under ``-X importtime``; return its imports before and after the first frame."""
    completed = subprocess.run(
        wrap_command(command), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, timeout=timeout_s, check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.splitlines()[-5:])
        raise RuntimeError(f"{' '.join(command)} under -X importtime exited with status "
                           f"{completed.returncode}:\n{tail}")
    return parse_importtime(completed.stderr)


def median_costs(runs: Iterable[list[ImportCost]]) -> list[ImportCost]:
    """Merge several runs into one list, with each module's median self and cumulative time.

    A module missing from some runs keeps the median of the runs it appears in.
    """
    merged: dict[str, list[ImportCost]] = {}
    for costs in runs:
        for cost in costs:
            merged.setdefault(cost.module, []).append(cost)
    return [
        ImportCost(
            module=module,
            self_us=int(statistics.median(cost.self_us for cost in samples)),
            cumulative_us=int(statistics.median(cost.cumulative_us for cost in samples)),
            importer=samples[0].importer,
        )
        for module, samples in merged.items()
    ]


def top_packages(costs: Iterable[ImportCost], count: int) -> list[tuple[str, int, int]]:
    """Return the ``count`` top-level packages with the largest summed self time.

    Each entry is ``(package, self_us, modules)``: the first dotted part of
    the module names, the self time of all its modules added up, and how many
    of its modules were imported. Summed self time charges each module once,
    wherever in the import tree it was first imported.
    """
    totals: dict[str, list[int]] = {}
    for cost in costs:
        package = cost.module.partition(".")[0]
        entry = totals.setdefault(package, [0, 0])
        entry[0] += cost.self_us
        entry[1] += 1
    ranked = sorted(totals.items(), key=lambda item: item[1][0], reverse=True)
    return [(package, self_us, modules) for package, (self_us, modules) in ranked[:count]]


def _is_own(module: str | None, own_package: str) -> bool:
    return module is not None and (module == own_package or module.startswith(own_package + "."))


def direct_imports(costs: Iterable[ImportCost], own_package: str) -> list[ImportCost]:
    """Return the imports made by the program itself, largest cumulative time first.

    Those are the modules outside ``own_package`` that were imported by a
    module of ``own_package``, or outside any other import: by the
    interpreter's start-up, by the program's own code, or by a function at
    run time.
    """
    chosen = [
        cost for cost in costs
        if not _is_own(cost.module, own_package)
        and (cost.importer is None or _is_own(cost.importer, own_package))
    ]
    return sorted(chosen, key=lambda cost: cost.cumulative_us, reverse=True)


def format_report(title: str, before: list[ImportCost], after: list[ImportCost],
                  own_package: str, count: int) -> str:
    """Format the import costs before the first frame, and what was imported after it."""
    total_ms = sum(cost.self_us for cost in before) / 1000
    lines = [f"{title}: {len(before)} modules imported before the first frame, "
             f"{total_ms:.1f} ms of import time"]
    lines.append(f"  imports made by {own_package} or outside any other import "
                 "(interpreter start-up, the program, a function), by cumulative time (ms):")
    for cost in direct_imports(before, own_package)[:count]:
        importer = f"by {cost.importer}" if cost.importer else "outside any other import"
        lines.append(f"    {cost.cumulative_us / 1000:8.1f}  {cost.module}  ({importer})")
    lines.append("  packages by summed self time (ms, modules):")
    for package, self_us, modules in top_packages(before, count):
        lines.append(f"    {self_us / 1000:8.1f}  {package} ({modules})")
    if after:
        packages = sorted({cost.module.partition(".")[0] for cost in after})
        after_ms = sum(cost.self_us for cost in after) / 1000
        lines.append(f"  after the first frame: {len(after)} modules, {after_ms:.1f} ms: "
                     + ", ".join(packages))
    return "\n".join(lines)


def format_watched(before: list[ImportCost], after: list[ImportCost], modules: Sequence[str]) -> str:
    """Format, for each of ``modules``, whether it was imported before or after the first frame."""
    found_before = {cost.module: cost for cost in before}
    found_after = {cost.module: cost for cost in after}
    lines = ["  modules that a settings dialog does not need for its first frame:"]
    for module in modules:
        if module in found_before:
            cost = found_before[module]
            importer = f"by {cost.importer}" if cost.importer else "outside any other import"
            where = f"BEFORE the first frame, {cost.cumulative_us / 1000:.1f} ms cumulative, imported {importer}"
        elif module in found_after:
            where = "after the first frame"
        else:
            where = "not imported"
        lines.append(f"    {module:16} {where}")
    return "\n".join(lines)
