"""Training seeds as a dimension of the DAG: params ``seeds``, seeded names, the per-seed stages.

The top-level ``seed`` seeds the data (synthetic images, splits, the downstream stand-ins) and is
the first training seed; ``seeds`` lists every training seed and starts with ``seed``. The
stages of the first seed are the unsuffixed stages of a one-seed DAG, unchanged (same names,
commands, paths), so adding seeds re-runs nothing that exists. Every further seed ``s`` adds
one instance, named with the suffix ``-s<s>``, of each stage whose result depends on the
training seed:

- ``stage_one@<unit>-s<s>`` -> ``data/stage_one/<unit>-s<s>`` (the shared stage I, pipeline.train.stage_one)
- ``train@<run>-s<s>``  -> ``data/runs/<run>-s<s>``, ``reports/runs/<run>-s<s>/history.csv``
- ``fuse@<run>-s<s>[-m3fd]`` -> ``data/fused/<run>-s<s>/<dataset>``
- ``fusion_metrics@<run>-s<s>-<dataset>`` (runs only: a rule's or an external method's images
  do not depend on a seed, so they are scored once)
- ``segment@<method>-s<s>-<dataset>`` and ``detect@<method>-s<s>`` for every method (runs,
  rules, source-only baselines, externals: every fine-tune is seeded)

The seed reaches a stage through its command line: the run or method name it is given
(``--run <run>-s<s>``, ``--method max-s<s>``) carries it, and :func:`split_seeded` recovers
the params name and the seed (an unsuffixed name trains with ``seed``). Run, rule and external
names may therefore not end in ``-s<digits>`` (:func:`validate`).

Not seeded per instance: fetch, split, fuse_rule and the starting points (``weights@``): data
and splits must not depend on the seed list, and the starting points stand for released
checkpoints (SegMiF's segmenter, COCO's YOLO), which the paper does not re-draw either.
The figures and sanity stages read the first seed only.
Imports nothing of the project: every stage's params validation imports it.
The DAG expansion is pipeline/dag/seeds.py.
"""
from __future__ import annotations

import re

SEEDED = re.compile(r"^(?P<name>.+)-s(?P<seed>\d+)$")


def training_seeds(params: dict) -> list[int]:
    """params ``seeds`` (default: ``[seed]``), the first being the unsuffixed stages' seed."""
    return [int(s) for s in params.get("seeds", [params.get("seed", 0)])]


def extra_seeds(params: dict) -> list[int]:
    """The seeds beyond the first: each adds ``-s<seed>`` stages."""
    return training_seeds(params)[1:]


def seeded(name: str, seed: int | None) -> str:
    """``name`` of the seed ``seed`` (None: the first seed, unsuffixed)."""
    return name if seed is None else f"{name}-s{int(seed)}"


def split_seeded(name: str, default_seed: int) -> tuple[str, int]:
    """(params name, seed) of a stage's ``--run``/``--method`` value: ``x-s2`` -> (x, 2); ``x`` -> (x, default)."""
    match = SEEDED.match(name)
    if match is None:
        return name, int(default_seed)
    return match["name"], int(match["seed"])


def validate(params: dict) -> list[str]:
    """Problems with ``seeds`` (an empty list when there are none)."""
    seeds = params.get("seeds", [params.get("seed", 0)])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                          and s >= 0 for s in seeds):
        return [f"seeds={seeds!r}: a non-empty block-style list of non-negative integers, e.g. `seeds:\\n- 0\\n- 1`"]
    problems = []
    if len(set(seeds)) != len(seeds):
        problems.append(f"seeds={seeds!r} repeats a seed")
    if seeds[0] != params.get("seed", 0):
        problems.append(f"seeds={seeds!r} must start with seed={params.get('seed', 0)!r} (the data seed, whose "
                        "training stages are the unsuffixed ones)")
    methods = params.get("methods") or {}
    names = list(params.get("runs") or {}) + list(methods.get("rules") or []) + list(methods.get("external") or [])
    problems += [f"name {n!r} ends like a seeded instance (-s<digits>): rename it" for n in names if SEEDED.match(n)]
    return problems
