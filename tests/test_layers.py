"""The code's layers, read from the source (AST): no module imports a layer above its own."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _files(pattern: str) -> list[Path]:
    return sorted(ROOT.glob(pattern))


# (files, module prefixes they must not import)
RULES = [
    ("pipeline/**/*.py", ("stages",)),
    ("pipeline/layout.py", ("pipeline.",)),  # the path patterns import nothing from the project
    ("pipeline/losses/*.py", ("pipeline.distributed", "pipeline.train")),  # Eq. 3-6 are pure functions
    ("pipeline/fuse/*.py", ("pipeline.train",)),
    ("pipeline/rules/registry.py", ("pipeline.train",)),
    ("pipeline/models/*.py", ("pipeline.train", "pipeline.fuse", "pipeline.report", "pipeline.downstream")),
    ("pipeline/metrics/*.py", ("pipeline.report", "pipeline.train", "pipeline.downstream")),
    ("pipeline/data/*.py", ("pipeline.report", "pipeline.train", "pipeline.downstream", "pipeline.metrics")),
]


@pytest.mark.parametrize("pattern,banned", RULES, ids=[r[0] for r in RULES])
def test_no_upward_import(pattern, banned):
    files = _files(pattern)
    assert files, pattern
    bad = [f"{f.relative_to(ROOT)} imports {m}" for f in files for m in sorted(_imports(f))
           if any(m == b.rstrip(".") or m.startswith(b if b.endswith(".") else b + ".") for b in banned)]
    assert not bad, "\n".join(bad)
