"""A stage's code deps are its own script plus every project module it imports."""
from __future__ import annotations

from pathlib import Path

from pipeline.dag.imports import code_deps


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_transitive_imports_inside_functions_and_relative(tmp_path):
    _write(tmp_path, "stages/__init__.py", "")
    _write(tmp_path, "stages/s.py", "import click\n\ndef main():\n    from pipeline.data import io\n")
    _write(tmp_path, "pipeline/__init__.py", "")
    _write(tmp_path, "pipeline/data/__init__.py", "from .registry import DATASETS\n")
    _write(tmp_path, "pipeline/data/registry.py", "DATASETS = {}\n")
    _write(tmp_path, "pipeline/data/io.py", "from . import layout\nimport numpy\n")
    _write(tmp_path, "pipeline/data/layout.py", "x = 1\n")
    _write(tmp_path, "pipeline/unused.py", "x = 1\n")
    assert code_deps(tmp_path, "stages.s") == [
        "pipeline/data/__init__.py",  # non-empty package init: it runs code
        "pipeline/data/io.py",
        "pipeline/data/layout.py",
        "pipeline/data/registry.py",
        "stages/s.py",
    ]


def test_real_dag_entry_point_reaches_the_dag_package_through_a_function_import():
    root = Path(__file__).resolve().parents[2]
    deps = code_deps(root, "stages.dag")
    assert "pipeline/params.py" in deps and "pipeline/dag/imports.py" in deps and "pipeline/dag/build.py" in deps


def test_no_stage_depends_on_the_runner_that_only_schedules_it():
    """pipeline.dag.runner decides when a unit runs, never what it computes: editing it re-runs nothing."""
    root = Path(__file__).resolve().parents[2]
    for stage in ("train", "fuse", "segment", "detect", "tables"):
        assert not any(d.startswith("pipeline/dag/") for d in code_deps(root, f"stages.{stage}")), stage
