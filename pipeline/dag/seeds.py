"""The per-seed stages of dvc.yaml: what pipeline.dag.build adds for every seed after the first (pipeline.seeds)."""
from __future__ import annotations

from typing import Iterable

from pipeline import layout
from pipeline.dag.stage_one import train_fields as stage_one_fields
from pipeline.seeds import SEEDED, extra_seeds, seeded


def expand(stages: dict, params: dict, externals: Iterable[str] = (), detection_dataset: str = "m3fd") -> None:
    """Add the ``-s<seed>`` items of every further seed to the seeded foreach groups of ``stages`` (in place).

    A no-op with one seed. The items are appended after the first seed's, and each group keeps its
    one command template: the seed travels in the instance's run or method name.
    """
    extra = extra_seeds(params)
    if not extra:
        return
    runs, externals = set(params["runs"]), tuple(externals)

    def fused(method: str, dataset: str, seed: int) -> str:
        # A run's images are seeded; a rule's or external method's are the same for every seed.
        name = seeded(method, seed) if method in runs else method
        return layout.fused_dir(name, dataset, externals)

    for seed in extra:
        if "stage_one" in stages:  # each seed its own shared stage I: `<unit>-s<seed>`, the same settings
            units = stages["stage_one"]["foreach"]
            units.update({seeded(k, seed): dict(v) for k, v in list(units.items()) if SEEDED.match(k) is None})
        train = stages["train"]["foreach"]
        train.update({seeded(k, seed): {**v, **stage_one_fields(k, params["runs"][k], seed)}
                      for k, v in list(train.items()) if SEEDED.match(k) is None})
        fuse = stages["fuse"]["foreach"]
        for key, item in [(k, v) for k, v in fuse.items() if SEEDED.match(v["run"]) is None]:
            run = seeded(item["run"], seed)
            model = {}
            if item["model_dir"] == layout.run_dir(item["run"]):  # its own training: this seed's model (a
                # released original@<model> is the same for every seed)
                model = {"model_dir": layout.run_dir(run), "model_file": layout.run_model(run)}
            fuse[run + key.removeprefix(item["run"])] = {**item, "run": run, **model}
        for group, runs_only in (("fusion_metrics", True), ("segment", False)):
            # A copy: the one-seed DAG shares one item dict between fusion_metrics and segment.
            body = stages[group]["foreach"] = dict(stages[group]["foreach"])
            for item in [v for v in list(body.values()) if SEEDED.match(v["method"]) is None]:
                if runs_only and item["method"] not in runs:
                    continue
                method = seeded(item["method"], seed)
                body[layout.scored_key(method, item["dataset"])] = {
                    **item, "method": method, "fused": fused(item["method"], item["dataset"], seed)}
        detect = stages["detect"]["foreach"]
        for item in [v for v in list(detect.values()) if SEEDED.match(v["method"]) is None]:
            method = seeded(item["method"], seed)
            detect[method] = {**item, "method": method, "fused": fused(item["method"], detection_dataset, seed)}
