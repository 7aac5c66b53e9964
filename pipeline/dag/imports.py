"""The project files a stage module imports, transitively, for its DVC deps.

A stage lists its own script and every `pipeline/` / `stages/` module it imports
(also imports inside functions), so a code change invalidates exactly the stages
that run that code. Found by reading the source (AST), never by importing it.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGES = ("pipeline", "stages")


def module_file(root: Path, module: str) -> Path | None:
    """`pipeline.data.io` -> pipeline/data/io.py (or its package __init__.py)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # `from pipeline.data import io` imports the submodule pipeline.data.io
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _with_parents(module: str) -> list[str]:
    """Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def code_deps(root: Path, module: str) -> list[str]:
    """Sorted repo-relative paths of `module` and every project module it imports."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        for candidate in _with_parents(name):
            if candidate in seen:
                continue
            path = module_file(root, candidate)
            if path is None:
                continue
            seen[candidate] = path
            todo.extend(_imported_modules(path, candidate))
    files = {p.relative_to(root).as_posix() for p in seen.values()}
    # Empty package markers change nothing a stage computes: leave them out of deps.
    return sorted(f for f in files if not (f.endswith("__init__.py") and (root / f).stat().st_size <= 1))
