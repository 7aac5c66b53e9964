"""The units of the generated DAG, resolved as DVC resolves them: name, command, deps, outs, upstream.

Read from the generated dvc.yaml files themselves (never from params.yaml's runs), so the
scheduler (pipeline.dag.runner) and the tests see exactly the stages DVC runs. Resolving is plain
substitution of `${key}`, `${item}`, `${item.<field>}` and `${<params key>}`, all that the
generator (pipeline.dag.build) writes.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline import layout as L

# libyaml's loader where installed (10x faster; the same data for these plain files): every stage's
# runner reads the whole DAG on DVC's serial path.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
RUNNER = "python -m stages.unit --"  # the prefix of every generated command (pipeline.dag.runner)


@dataclass
class Unit:
    name: str  # DVC's stage name: `train@ssvif-swinfusion-fmb`, `tables`
    cmd: str  # the unit's own command, without the runner prefix
    deps: list[str]
    outs: list[str]
    params: list[str]
    upstream: set[str] = field(default_factory=set)


def _lookup(tree, dotted: str):
    node = tree
    for part in dotted.split("."):
        node = node[part]
    return node


def _resolve(text: str, key, item, params: dict) -> str:
    def value(match: re.Match) -> str:
        ref = match.group(1)
        if ref == "key":
            return str(key)
        if ref == "item":
            return str(item)
        if ref.startswith("item."):
            return str(_lookup(item, ref[len("item."):]))
        return str(_lookup(params, ref))

    while "${" in text:  # `${profile}.${item.q0}` resolves in one pass; nesting never occurs
        text = _PLACEHOLDER.sub(value, text)
    return text


def _paths(entries: list, key, item, params: dict) -> list[str]:
    out = []
    for entry in entries or []:
        text = entry if isinstance(entry, str) else next(iter(entry))
        resolved = _resolve(text, key, item, params)
        if resolved not in out:  # DVC de-duplicates repeated (padded) entries the same way
            out.append(resolved)
    return out


def _unit(name: str, body: dict, key, item, params: dict) -> Unit:
    cmd = _resolve(body["cmd"], key, item, params).removeprefix(RUNNER).strip()
    outs = _paths(body.get("outs", []), key, item, params) + _paths(body.get("metrics", []), key, item, params)
    return Unit(name, cmd, _paths(body.get("deps", []), key, item, params), outs,
                _paths(body.get("params", []), key, item, params))


def read_yaml(path: Path):
    return yaml.load(path.read_text(), Loader=_LOADER)


def dvc_files(root: Path) -> list[Path]:
    """The root dvc.yaml, then every dag/<group>/dvc.yaml, in the order DVC's generator writes them."""
    return [root / L.ROOT_DVC_FILE, *sorted((root / L.DAG_DIR).glob("*/dvc.yaml"))]


def load(root: Path, params: dict | None = None) -> dict[str, Unit]:
    """Every unit of the committed DAG under `root`, in file order, with its upstream units."""
    params = params if params is not None else read_yaml(root / L.PARAMS_FILE)
    units: dict[str, Unit] = {}
    for path in dvc_files(root):
        for group, stage in (read_yaml(path) or {}).get("stages", {}).items():
            if "foreach" not in stage:
                units[group] = _unit(group, stage, None, None, params)
                continue
            items = stage["foreach"]
            for key, item in (items.items() if isinstance(items, dict) else ((i, i) for i in items)):
                units[f"{group}@{key}"] = _unit(f"{group}@{key}", stage["do"], key, item, params)
    _link(units)
    return units


def _link(units: dict[str, Unit]) -> None:
    """unit.upstream: the units whose outputs it reads (a dep equal to, inside or around an output).

    Indexed (a dict of outputs and a sorted list for the folders around them), because every stage's
    runner loads the DAG once, on DVC's serial path."""
    producer = {out.rstrip("/"): name for name, unit in units.items() for out in unit.outs}
    ordered = sorted(producer)
    for unit in units.values():
        found = set()
        for dep in unit.deps:
            path = dep.rstrip("/")
            while path:  # the dep is an output, or lies inside one
                if path in producer:
                    found.add(producer[path])
                path = path.rpartition("/")[0]
            prefix = dep.rstrip("/") + "/"  # outputs inside the dep (a folder)
            for out in ordered[bisect.bisect_left(ordered, prefix):]:
                if not out.startswith(prefix):
                    break
                found.add(producer[out])
        unit.upstream = found - {unit.name}
