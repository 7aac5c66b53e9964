"""Where the time of a `dvc repro` goes: per stage group, wall time against process start + imports.

    python benchmarks/dag_profile.py [--log .ci-repro.log] [--repeats 3]

--log: the output of `dvc repro`, each line prefixed by the epoch second it appeared (.ci/run
writes .ci-repro.log so). A stage's wall time runs from its "Running stage" line to the next one
(the last stage ends at the last line), so it includes DVC's own bookkeeping for that stage.
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


def stage_times(log: Path) -> dict[str, float]:
    """{stage name: seconds} from a timestamped `dvc repro` log."""
    lines = [line.split(" ", 1) for line in log.read_text().splitlines() if line[:1].isdigit()]
    starts = [(int(m.group(1)), m.group(2)) for line in log.read_text().splitlines() if (m := RUNNING.match(line))]
    if not starts:
        raise SystemExit(f"{log}: no \"Running stage\" lines (is it a timestamped `dvc repro` log?)")
    end = int(lines[-1][0])
    return {name: (starts[i + 1][0] if i + 1 < len(starts) else end) - t for i, (t, name) in enumerate(starts)}


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
    from stages.imports import code_deps

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
    if args.log.exists():
        for name, seconds in stage_times(args.log).items():
            groups[name.split("@")[0]].append(seconds)
    else:
        print(f"(no log at {args.log}: import costs only)")
        groups = {p.stem: [] for p in sorted((ROOT / "stages").glob("*.py"))
                  if not p.stem.startswith("_") and p.stem not in ("dag", "imports")}
    print(f"{'stage group':<16}{'stages':>7}{'wall s':>9}{'s/stage':>9}{'import s':>10}{'import share':>14}")
    total_wall = total_import = 0.0
    for group, times in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        imp = import_seconds(group, args.repeats)
        wall = sum(times)
        total_wall, total_import = total_wall + wall, total_import + imp * len(times)
        share = f"{100 * imp * len(times) / wall:.0f} %" if wall else "-"
        per = f"{wall / len(times):.1f}" if times else "-"
        print(f"{group:<16}{len(times):>7}{wall:>9.0f}{per:>9}{imp:>10.2f}{share:>14}")
    if total_wall:
        print(f"{'all':<16}{sum(map(len, groups.values())):>7}{total_wall:>9.0f}{'':>9}{'':>10}"
              f"{100 * total_import / total_wall:>12.0f} %")


if __name__ == "__main__":
    main()
