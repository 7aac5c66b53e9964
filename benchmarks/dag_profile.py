"""Where the time of a `dvc repro` goes: per stage group, wall time against process start + imports.

    python benchmarks/dag_profile.py [--log .ci-repro.log] [--repeats 3]

--log: the output of `dvc repro`, each line prefixed by the epoch second it appeared (.ci/run
writes .ci-repro.log so). A stage's wall time runs from its "Running stage" line to the next one
(the last stage ends at the last line), so it includes DVC's own bookkeeping for that stage; the
"after s" column is that bookkeeping alone: from the stage's last output line to the next
"Running stage" (hashing and caching outputs, rewriting the stage's dvc.lock).
Import cost: a fresh `python -c "import <modules>"` of the project modules the stage's script
imports plus every third-party package those modules import anywhere, lazily inside functions
too (torch, transformers, Ultralytics, ...): what one stage process pays before working.
Best of --repeats.
Prints a table; with no log it prints the import costs alone.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RUNNING = re.compile(r"^(\d+) Running stage '([^']+)'")


def stage_times(log: Path) -> dict[str, tuple[float, float]]:
    """{stage name: (seconds, seconds after its last output line)} from a timestamped `dvc repro` log."""
    lines = [line for line in log.read_text().splitlines() if line[:1].isdigit()]
    starts = [(i, int(m.group(1)), m.group(2)) for i, line in enumerate(lines) if (m := RUNNING.match(line))]
    if not starts:
        raise SystemExit(f"{log}: no \"Running stage\" lines (is it a timestamped `dvc repro` log?)")
    end = int(lines[-1].split(" ", 1)[0])
    times = {}
    for n, (i, t, name) in enumerate(starts):
        nxt = starts[n + 1] if n + 1 < len(starts) else None
        stop = nxt[1] if nxt else end
        last_output = end
        if nxt:  # the stage's last line of its own (DVC prints a blank line and lock-file notices)
            own = [line for line in lines[i + 1:nxt[0]] if not _dvc_line(line)]
            last_output = int((own or [lines[i]])[-1].split(" ", 1)[0])
        times[name] = (stop - t, stop - last_output)
    return times


def _dvc_line(line: str) -> bool:
    text = line.split(" ", 1)[1].strip() if " " in line else ""
    return not text or text.startswith(("Updating lock file", "Generating lock file"))


def group_of(stage: str) -> str:
    """'dag/train/dvc.yaml:train@run' and 'train@run' -> 'train'."""
    return stage.rsplit(":", 1)[-1].split("@")[0]


def third_party(paths: list[str]) -> set[str]:
    """Top-level names of the non-stdlib, non-project packages the files import (anywhere in them)."""
    import ast

    names = set()
    for path in paths:
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("pipeline", "stages", "__future__")}


def import_seconds(stage_module: str, repeats: int) -> float:
    """Best-of-n wall time of a fresh interpreter importing what one stage process imports."""
    from pipeline.dag.imports import code_deps

    paths = code_deps(ROOT, f"stages.{stage_module}")
    modules = sorted({p.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for p in paths})
    # Ultralytics is imported only after its offline settings are in place (as the stages do).
    code = ("import os; os.environ.update(YOLO_OFFLINE='true', YOLO_CONFIG_DIR='/tmp/ssvif-bench-yolo'); "
            + "; ".join(f"import {m}" for m in sorted(third_party(paths)) + modules))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=ROOT / ".ci-repro.log")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    groups: dict[str, list[float]] = defaultdict(list)
    after: dict[str, float] = defaultdict(float)
    if args.log.exists():
        for name, (seconds, bookkeeping) in stage_times(args.log).items():
            groups[group_of(name)].append(seconds)
            after[group_of(name)] += bookkeeping
    else:
        print(f"(no log at {args.log}: import costs only)")
        groups = {p.stem: [] for p in sorted((ROOT / "stages").glob("*.py"))
                  if not p.stem.startswith("_") and p.stem not in ("dag", "imports")}
    print(f"{'stage group':<16}{'stages':>7}{'wall s':>9}{'s/stage':>9}{'after s':>9}{'import s':>10}"
          f"{'import share':>14}")
    total_wall = total_import = 0.0
    for group, times in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        imp = import_seconds(group, args.repeats)
        wall = sum(times)
        total_wall, total_import = total_wall + wall, total_import + imp * len(times)
        share = f"{100 * imp * len(times) / wall:.0f} %" if wall else "-"
        per = f"{wall / len(times):.1f}" if times else "-"
        print(f"{group:<16}{len(times):>7}{wall:>9.0f}{per:>9}{after[group]:>9.0f}{imp:>10.2f}{share:>14}")
    if total_wall:
        print(f"{'all':<16}{sum(map(len, groups.values())):>7}{total_wall:>9.0f}{'':>9}{sum(after.values()):>9.0f}"
              f"{'':>10}{100 * total_import / total_wall:>12.0f} %")


if __name__ == "__main__":
    main()
