"""What DVC would re-run after adding a run, removing one, or an ablation: `dvc status` in a finished workspace.

    python benchmarks/invalidation.py --workspace /path/to/finished/clone

The workspace must be a git clone where `dvc repro` has finished (so every stage is up to date).
Each scenario edits params.yaml there, regenerates the DAG (`python -m stages.dag`), lists the
stages `dvc status` reports as changed, and restores the workspace (`git checkout`). Prints a table.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import yaml

REPORTS = {"tables", "figures", "sanity", "efficiency"}


def _run(cmd: list[str], cwd: Path) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def changed(workspace: Path) -> list[str]:
    """Stage names `dvc status` lists as changed (any reason: deps, params, outs, command, new)."""
    status = json.loads(_run([sys.executable, "-m", "dvc", "status", "--json"], workspace) or "{}")
    return sorted(name.rpartition(":")[2] for name in status)


def _add_run(params: dict) -> str:
    twin = next(n for n, r in params["runs"].items() if r.get("lambda_color") == 10 and r["dataset"] == "fmb")
    params["runs"][f"{twin}-l15"] = {**params["runs"][twin], "lambda_color": 15}
    return f"add {twin}-l15 (lambda4 = 15)"


def _remove_run(params: dict) -> str:
    gone = next(n for n, r in params["runs"].items() if r.get("lambda_color") == 30)
    del params["runs"][gone]
    return f"remove {gone}"


def _ablation(params: dict) -> str:
    params["weighting"] = "ucw"
    return "weighting: ucw (no DAG change)"


@click.command()
@click.option("--workspace", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
def main(workspace: Path) -> None:
    """Stages DVC would re-run per scenario."""
    total = len(_run([sys.executable, "-m", "dvc", "stage", "list", "--all", "--name-only"], workspace).split())
    before = changed(workspace)
    if before:
        raise click.ClickException(f"{workspace} is not up to date ({len(before)} changed stages): dvc repro first")
    rows = []
    for scenario in (_add_run, _remove_run, _ablation):
        path = workspace / "params.yaml"
        params = yaml.safe_load(path.read_text())
        label = scenario(params)
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        try:
            _run([sys.executable, "-m", "stages.dag"], workspace)
            names = changed(workspace)
        finally:
            _run(["git", "checkout", "--", "params.yaml", "dvc.yaml", "dag"], workspace)
            _run(["git", "clean", "-fdq", "dag"], workspace)
        compute = [n for n in names if n.split("@")[0] not in REPORTS]
        rows.append((label, len(names), len(compute), ", ".join(compute) or "-"))
    print(f"{total} stages in the workspace's DAG\n")
    print("| scenario | changed stages | of which not reports | those |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
