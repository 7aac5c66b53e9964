"""params.yaml loading and validation, shared by every stage command.

A stage calls :func:`load_params` when it starts: an unknown value (for example
``dvc exp run -S weighting=ucx``) stops it with a message naming the key and the
valid values, before any work is done. The valid names come from the library's
registries: datasets from ``pipeline.data.registry`` (no torch), weightings, fusion models,
frameworks and rules from the torch-free name lists each registry checks itself against
(``pipeline.weighting.names``, ``pipeline.models.names``, ``pipeline.rules.names``), so a
stage validates params.yaml without importing torch. ``tests/stages/test_params.py`` checks
every registry name is accepted and an unknown one rejected.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml

from pipeline.data.registry import DATASETS
from pipeline.rules.names import RULE_NAMES as RULES
from pipeline.models.names import FRAMEWORKS, FUSION_MODEL_NAMES
from pipeline.weighting.names import WEIGHTING_NAMES as WEIGHTINGS

PROFILES = ("quick", "paper")
SOURCES = ("synthetic", "official", "local")
# Runs train and fuse on the segmentation datasets (M3FD is only fused, by runs with fuse_m3fd).
RUN_DATASETS = tuple(name for name, spec in DATASETS.items() if spec.task == "segmentation")


class ParamsError(click.ClickException, ValueError):
    """A params.yaml value is missing or not one of the valid values.

    A click exception, so a stage stops with the message alone (no traceback)."""


def project_root() -> Path:
    """The DVC project a stage runs in: DVC_ROOT, except inside an experiment's temporary workspace.

    DVC 3.67 sets DVC_ROOT of a queued experiment's stages to the parent workspace although they run in
    ``<workspace>/.dvc/tmp/exps/.../``, which holds the experiment's own params.yaml (its ``-S`` values).
    """
    root, here = Path(os.environ.get("DVC_ROOT", ".")).resolve(), Path.cwd().resolve()
    return here if (root / ".dvc") in here.parents else root


def params_path() -> Path:
    """params.yaml of the DVC project the stage runs in (see :func:`project_root`)."""
    return project_root() / "params.yaml"


def _choice(value: Any, key: str, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise ParamsError(
            f"params.yaml: {key}={value!r} is not valid; valid values: {', '.join(valid)}. "
            f"Fix it in params.yaml or with `dvc exp run -S {key}=<value>`."
        )
    return value


def get(params: dict, dotted: str) -> Any:
    """Value at a dotted key; a missing key is a ParamsError naming it."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"params.yaml: key {dotted!r} is missing (no {part!r}).")
        node = node[part]
    return node


def validate(params: dict) -> dict:
    """Check every enumerated value of params.yaml; return params unchanged."""
    _choice(get(params, "profile"), "profile", PROFILES)
    _choice(get(params, "weighting"), "weighting", WEIGHTINGS)
    _choice(get(params, "data.source"), "data.source", SOURCES)
    get(params, params["profile"])
    for name, run in get(params, "runs").items():
        key = f"runs.{name}"
        _choice(run.get("framework"), f"{key}.framework", FRAMEWORKS)
        _choice(run.get("model"), f"{key}.model", FUSION_MODEL_NAMES)
        _choice(run.get("dataset"), f"{key}.dataset", RUN_DATASETS)
        if run.get("channels") not in (1, 3):
            raise ParamsError(f"params.yaml: {key}.channels={run.get('channels')!r}; valid values: 1, 3.")
        if run["framework"] == "ssvif" and not run.get("headline"):
            _choice(run.get("weighting"), f"{key}.weighting", WEIGHTINGS)
    for rule in get(params, "methods.rules"):
        _choice(rule, "methods.rules[]", RULES)
    from pipeline.seeds import validate as seed_problems

    problems = seed_problems(params)
    if problems:
        raise ParamsError("params.yaml: " + "; ".join(problems) + ".")
    return params


def load_params(path: Path | None = None) -> dict:
    """Read and validate params.yaml."""
    path = path or params_path()
    if not path.exists():
        raise ParamsError(f"{path} not found: run the stage from the project root (where dvc.yaml is).")
    with open(path) as f:
        params = yaml.safe_load(f)
    return validate(params)


def profile_section(params: dict, part: str) -> Any:
    """The block `<profile>.<part>` of the active profile (e.g. `quick.train`)."""
    return get(params, f"{params['profile']}.{part}")


def run_weighting(params: dict, run_name: str) -> str | None:
    """Weighting a run trains with: headline runs take the top-level `weighting`."""
    run = get(params, f"runs.{run_name}")
    if run["framework"] != "ssvif":
        return None
    return params["weighting"] if run.get("headline") else run["weighting"]
