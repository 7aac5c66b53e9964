"""Name lists written once: a plugin package's modules declare themselves, read without importing them.

A plugin module (a weighting in pipeline/weighting/, a fusion model in pipeline/models/, a rule in
pipeline/rules/) assigns a literal `PLUGIN = {"order": <int>, "class": "<its class>", ...}` (a rule:
`"function"`); its name is its file name. This
module reads those literals with `ast` (no torch), so params validation lists every valid name, and
the registries import only the plugin a stage uses. Adding a plugin is adding one file: no list to
edit, so no existing stage's code changes (pipeline.dag.build adds each unit's own plugin files to
its deps).
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared(package: str) -> dict[str, dict]:
    """{plugin name: its PLUGIN literal} of `package` (dotted), ordered by PLUGIN['order'], then name."""
    found = {}
    for path in sorted(ROOT.joinpath(*package.split(".")).glob("*.py")):
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PLUGIN"]:
                found[path.stem] = ast.literal_eval(node.value)
    return dict(sorted(found.items(), key=lambda kv: (kv[1].get("order", 0), kv[0])))


def names(package: str) -> tuple[str, ...]:
    return tuple(declared(package))


def load(package: str, name: str, kind: str):
    """The class (or, for a rule, the function) plugin `name` of `package` declares; an unknown name is a
    KeyError listing the valid ones."""
    plugins = declared(package)
    if name not in plugins:
        raise KeyError(f"unknown {kind} {name!r}; valid names: {', '.join(plugins)}")
    entry = plugins[name].get("class") or plugins[name]["function"]
    return getattr(importlib.import_module(f"{package}.{name}"), entry)


def module(package: str, name: str) -> str:
    """The dotted module of plugin `name` (for its code deps)."""
    return f"{package}.{name}"
