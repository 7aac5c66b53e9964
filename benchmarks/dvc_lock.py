"""What DVC's per-stage dvc.lock rewrite costs, per lock file, against one lock for the whole DAG.

    python benchmarks/dvc_lock.py [--repeats 3]

After running a stage DVC loads the dvc.lock beside its dvc.yaml with ruamel's round-trip YAML,
replaces the stage's entry and dumps the whole file again (dvc.dvcfile.Lockfile.dump). This times
exactly those two calls (DVC's own `parse_yaml_for_update` and `dumps_yaml`) on every committed
lock file, and on all of them joined into one, which is what the single-dvc.yaml layout rewrote
after each of its stages. "per repro" = seconds per rewrite x the stages of that file.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from dvc.utils.serialize import dumps_yaml, parse_yaml_for_update

ROOT = Path(__file__).resolve().parents[1]
HEADER = "schema: '2.0'\nstages:\n"


def rewrite_seconds(text: str, repeats: int) -> float:
    """Best-of-n seconds of one load + dump of a lock file's text, as DVC does after a stage."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dumps_yaml(parse_yaml_for_update(text, "dvc.lock"))
        best = min(best, time.perf_counter() - start)
    return best


def stage_count(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("  ") and not line.startswith("   "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    locks = [ROOT / "dvc.lock", *sorted((ROOT / "dag").glob("*/dvc.lock"))]
    texts = {p.relative_to(ROOT).as_posix(): p.read_text() for p in locks if p.exists()}
    if not texts:
        raise SystemExit("no dvc.lock files: run `dvc repro` first")
    # The single-file layout: every stage entry under one `stages:` (same order as the files).
    joined = HEADER + "".join(t.removeprefix(HEADER) for t in texts.values())
    print(f"{'lock file':<30}{'stages':>7}{'lines':>8}{'KB':>7}{'s/rewrite':>11}{'per repro s':>13}")

    def row(name: str, text: str) -> float:
        seconds, stages = rewrite_seconds(text, args.repeats), stage_count(text)
        print(f"{name:<30}{stages:>7}{text.count(chr(10)):>8}{len(text) // 1024:>7}{seconds:>11.2f}"
              f"{seconds * stages:>13.0f}")
        return seconds * stages

    total = sum(row(name, text) for name, text in texts.items())
    print(f"{'split layout, all files':<30}{'':>7}{'':>8}{'':>7}{'':>11}{total:>13.0f}")
    row("all in one (old layout)", joined)


if __name__ == "__main__":
    main()
