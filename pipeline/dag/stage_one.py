"""How train@<run> reaches its shared stage I: the `--stage-one` argument and dep of a member's train item.

Used by pipeline.dag.build (the first seed) and pipeline.dag.seeds (each further seed's `-s<seed>` unit).
"""
from __future__ import annotations

from pipeline import layout
from pipeline.train.stage_one import unit_name


def train_fields(name: str, run: dict, seed: int | None = None) -> dict:
    """A member run reads its unit's folder (`--stage-one`, a dep); any other run's fields leave its command as
    it was and repeat a dep it already has (DVC de-duplicates), as pipeline.dag.build's `_sensing_fields`."""
    unit = unit_name(name, run, seed)
    if unit is None:
        return {"stage_one_arg": "", "stage_one_dep": layout.split_file(run["dataset"])}
    folder = layout.stage_one_dir(unit)
    return {"stage_one_arg": f" --stage-one {folder}", "stage_one_dep": folder}
