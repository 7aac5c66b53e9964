"""A stage's code deps are its own script plus every project module it imports."""
from __future__ import annotations

from pathlib import Path

from stages.imports import code_deps


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


def test_real_dag_stage_imports_params_module():
    root = Path(__file__).resolve().parents[2]
    deps = code_deps(root, "stages.dag")
    assert "stages/_params.py" in deps and "stages/imports.py" in deps
