"""The DAG's units from params.yaml (runs, rules, external methods): one DVC stage per unit.

Why generated: DVC cannot loop inside `deps:` and rejects hand-named `a@b` stages,
so aggregating stages (tables, figures) need explicit input lists and per-run
param lists differ (only headline runs read the top-level `weighting`). The
output still uses DVC's own `foreach`, so every unit is a stage of its own named after its run,
method or starting point and dataset alone (`train@ssvif-swinfusion-fmb`, `segment@max-fmb`), and
`${profile}` is interpolated by DVC: editing the other profile's numbers leaves every stage up to
date. Each unit's resolved definition depends on that unit alone (no padding to the widest item,
no partner), so adding or removing a run changes only its own stages and the reports.
Re-run `python -m stages.dag` after adding a run, rule or external method.

Which file holds each group, and why several: pipeline.dag.files.
"""
from __future__ import annotations

import importlib
import string
from pathlib import Path

import click
import yaml

from pipeline import layout as L
from pipeline.dag import seeds as seed_dag
from pipeline.data.registry import DATASETS as REGISTRY
from pipeline.layout import DETECTOR, SEGMENTER
from pipeline.report.sources import DETECTION_DATASET, SCORED_DATASETS, Methods
from pipeline.dag.imports import code_deps
from pipeline.models.names import FUSION_MODEL_NAMES
from pipeline.models.names import PACKAGE as MODEL_PACKAGE
from pipeline.plugins import module as plugin_module
from pipeline.rules.names import PACKAGE as RULE_PACKAGE
from pipeline.weighting.names import PACKAGE as WEIGHTING_PACKAGE
from pipeline.dag.units import RUNNER
from pipeline.dag.stage_one import train_fields as stage_one_train_fields
from pipeline.train.stage_one import units as stage_one_units

ROOT = Path(__file__).resolve().parents[2]
DATASETS = tuple(REGISTRY)
# Placeholders a stage's PARAMS may use, and what they become inside a foreach body.
PLACEHOLDERS = {"run": "${key}", "dataset": "${item.dataset}", "method": "${item.method}",
                "model": "${item.model}", "rule": "${item.rule}", "target": "${item.target}"}
# The fusion result EMMA's sensing networks learn from in this project (EMMA used DIDFuse / AUIF results).
SENSING_FUSION = "max"
# The sensing unit of EMMA's released A_i, A_v (`<profile>.sensing.source` official | local): one for every dataset.
RELEASED_SENSING = "released"
# Per-unit params keys and plugin code files fill fixed slots (p0.., q0.., c0..), so one unit's
# lists never change another unit's template.
PLAIN_SLOTS, SCOPED_SLOTS, CODE_SLOTS = 8, 9, 8
# stage_one@ lists the stage-I fields of `<profile>.train` one by one (never patience, gradient_stats).
STAGE_ONE_SCOPED_SLOTS = 14
# Starting points of the downstream fine-tunes: one segmenter per segmentation dataset, one detector.
WEIGHT_TARGETS = {**{L.weights_name(SEGMENTER, d): {"target": SEGMENTER, "dataset": d} for d in SCORED_DATASETS},
                  L.weights_name(DETECTOR, DETECTION_DATASET): {"target": DETECTOR, "dataset": DETECTION_DATASET}}


def _translate(key: str) -> str:
    """`{profile}.synthetic.{dataset}` -> `${profile}.synthetic.${item.dataset}`."""
    names = {f for _, f, _, _ in string.Formatter().parse(key) if f}
    return key.format(profile="${profile}", **{n: PLACEHOLDERS[n] for n in names if n != "profile"})


def _stage_module(name: str):
    """The entry point `stages/<name>.py`, which declares the params it reads (PARAMS or params_for)."""
    return importlib.import_module(f"stages.{name}")


def _code(name: str) -> list[str]:
    return code_deps(ROOT, f"stages.{name}")


def _static_params(name: str) -> list[str]:
    return [_translate(k) for k in _stage_module(name).PARAMS]


def _padded_params(module: str, runs: dict, scoped_slots: int = SCOPED_SLOTS) -> tuple[dict, list[str]]:
    """Per-unit param keys as item fields p0.. (unscoped) and q0.. (`<profile>.`-scoped).

    A foreach body is one template for every item, so each unit fills the same fixed number of
    slots (PLAIN_SLOTS, `scoped_slots`), repeating its own first key (DVC de-duplicates params
    keys): a unit's resolved params never depend on the other units.
    """
    fields = {}
    for name, run in runs.items():
        keys = _stage_module(module).params_for(name, run)
        plain = [k for k in keys if not k.startswith("{profile}.")]
        scoped = [k.removeprefix("{profile}.") for k in keys if k.startswith("{profile}.")]
        if not plain or not scoped or len(plain) > PLAIN_SLOTS or len(scoped) > scoped_slots:
            raise ValueError(f"stages.{module}.params_for({name!r}) gives {len(plain)} plain and {len(scoped)} "
                             f"`{{profile}}.` keys; each must be 1..{PLAIN_SLOTS} / 1..{scoped_slots} "
                             "(raise PLAIN_SLOTS / SCOPED_SLOTS in pipeline/dag/build.py)")
        plain += [plain[0]] * (PLAIN_SLOTS - len(plain))
        scoped += [scoped[0]] * (scoped_slots - len(scoped))
        fields[name] = {**{f"p{i}": k for i, k in enumerate(plain)}, **{f"q{i}": k for i, k in enumerate(scoped)}}
    template = [f"${{item.p{i}}}" for i in range(PLAIN_SLOTS)]
    template += [f"${{profile}}.${{item.q{i}}}" for i in range(scoped_slots)]
    return fields, template


def _plugin_code(group: str, modules: list[str]) -> dict:
    """Item fields c0.. holding the code of the plugins a unit imports by name (its fusion model and
    weighting, or its rule): the registries import them dynamically, so the import scan of the stage
    misses them, and no other unit depends on them (adding a plugin changes no existing stage)."""
    files = sorted({f for m in modules for f in code_deps(ROOT, m)} - set(_code(group)))
    if not files or len(files) > CODE_SLOTS:
        raise ValueError(f"{group}: {len(files)} plugin code files for {modules}; each unit needs 1..{CODE_SLOTS} "
                         "(raise CODE_SLOTS in pipeline/dag/build.py)")
    files += [files[0]] * (CODE_SLOTS - len(files))
    return {f"c{i}": f for i, f in enumerate(files)}


def _run_plugins(group: str, run: dict, params: dict) -> dict:
    """A run's unit: its fusion model, and for `train` its weighting (pipeline.params.run_weighting)."""
    from pipeline.params import run_weighting

    modules = [plugin_module(MODEL_PACKAGE, run["model"])]
    weighting = run_weighting({**params, "runs": {"_": run}}, "_") if group == "train" else None
    if weighting:
        modules.append(plugin_module(WEIGHTING_PACKAGE, weighting))
    return _plugin_code(group, modules)


CODE_TEMPLATE = [f"${{item.c{i}}}" for i in range(CODE_SLOTS)]


def _sensing_fields(run: dict, released: bool = False) -> dict:
    """An original EMMA run reads its dataset's sensing networks (`--sensing`, a dep), or the released pair
    (`released`: sensing@released); any other run's fields leave its command as it was and repeat a dep it
    already has (DVC de-duplicates)."""
    from pipeline.originals.sources import SENSED

    if run["framework"] == "original" and run["model"] == SENSED:
        folder = L.sensing_dir(RELEASED_SENSING if released else run["dataset"])
        return {"sensing_arg": f" --sensing {folder}", "sensing_dep": folder}
    return {"sensing_arg": "", "sensing_dep": L.split_file(run["dataset"])}


def released_sensing(params: dict) -> bool:
    """True when EMMA's A_i, A_v are its released pair (`<profile>.sensing.source` official or local):
    one sensing@released unit fetches them for every dataset, no sensing@<dataset> trains."""
    from pipeline.originals.sensing import released

    return released(params[params["profile"]].get("sensing", {}))


def released_originals(params: dict) -> bool:
    """True when the Original rows use the authors' released models (`<profile>.originals.source`
    official or local): no training for them, an original@<model> stage instead."""
    from pipeline.originals.official import validate_source

    source = params[params["profile"]].get("originals", {}).get("source", "synthetic")
    return validate_source(source) in ("official", "local")


def _split_fields(dataset: str) -> dict:
    """split@<dataset>'s own param key (p0) and code file (c0): M3FD's `m3fd_split` and grouped-split
    module (stages.split.params_for / modules_for); MSRS and FMB repeat a key and a file they already
    have (DVC de-duplicates), so their stages stay as they were."""
    stage = _stage_module("split")
    keys = stage.params_for(dataset) or stage.PARAMS[-1:]
    files = sorted({f for m in stage.modules_for(dataset) for f in code_deps(ROOT, m)} - set(_code("split")))
    files = files or ["stages/split.py"]
    if len(keys) != 1 or len(files) != 1:
        raise ValueError(f"split@{dataset}: {keys} / {files}: the split stage has one param and one code slot")
    return {"p0": keys[0], "c0": files[0]}


def _uncached(path: str) -> dict:
    return {path: {"cache": False}}


def build(params: dict) -> dict:
    runs, methods = params["runs"], Methods.from_params(params)
    # DVC placeholders: the foreach key and item fields, filled in by DVC for each stage.
    K, I, D, RUN, M, RULE = "${key}", "${item}", "${item.dataset}", "${item.run}", "${item.method}", "${item.rule}"
    stages: dict = {}
    stages["fetch"] = {
        "foreach": list(DATASETS),
        "do": {
            "cmd": f"python -m stages.fetch --dataset {I} --out {L.raw_dir(I)} --conditions {L.conditions_file(I)}",
            "deps": _code("fetch"),
            "params": [k.replace(D, I) for k in _static_params("fetch")],
            "outs": [L.raw_dir(I), _uncached(L.conditions_file(I))],
        },
    }
    stages["split"] = {
        "foreach": {d: {"dataset": d, **_split_fields(d)} for d in DATASETS},
        "do": {
            "cmd": f"python -m stages.split --dataset {D} --raw {L.raw_dir(D)} --out {L.split_file(D)}",
            "deps": _code("split") + ["${item.c0}", L.raw_dir(D)],
            "params": _static_params("split") + ["${item.p0}"],
            "outs": [_uncached(L.split_file(D))],
        },
    }
    released, sensing_released = released_originals(params), released_sensing(params)
    trained = {name: run for name, run in runs.items() if not (released and run["framework"] == "original")}
    # The shared stage I of the runs that have one (pipeline.train.stage_one), read through its representative.
    reps = stage_one_units(runs)
    one_fields, one_params = _padded_params("stage_one", {rep: runs[rep] for rep in reps.values()},
                                            STAGE_ONE_SCOPED_SLOTS)
    stages["stage_one"] = {} if not reps else {
        "foreach": {unit: {"dataset": runs[rep]["dataset"], **one_fields[rep],
                           **_run_plugins("stage_one", runs[rep], params)} for unit, rep in reps.items()},
        "do": {
            "cmd": (f"python -m stages.stage_one --unit {K} --raw {L.raw_dir(D)} --split {L.split_file(D)} "
                    f"--out {L.stage_one_dir(K)} --work {L.work_dir('stage_one')}"),
            "deps": _code("stage_one") + CODE_TEMPLATE + [L.raw_dir(D), L.split_file(D)],
            "params": one_params,
            "outs": [L.stage_one_dir(K)],
        },
    }
    if not reps:  # no run has a shared stage I: no group
        del stages["stage_one"]
    train_fields, train_params = _padded_params("train", trained)
    stages["train"] = {
        "foreach": {name: {"dataset": run["dataset"], "model": run["model"], **train_fields[name],
                           **_run_plugins("train", run, params), **_sensing_fields(run, sensing_released),
                           **stage_one_train_fields(name, run)}
                    for name, run in trained.items()},
        "do": {
            "cmd": (f"python -m stages.train --run {K} --raw {L.raw_dir(D)} "
                    f"--split {L.split_file(D)} --out {L.run_dir(K)} --history {L.history_file(K)} "
                    f"--work {L.work_dir('train')}${{item.sensing_arg}}${{item.stage_one_arg}}"),
            "deps": _code("train") + CODE_TEMPLATE + [L.raw_dir(D), L.split_file(D), "${item.sensing_dep}",
                                                      "${item.stage_one_dep}"],
            "params": train_params,
            "outs": [L.run_dir(K), _uncached(L.history_file(K))],
        },
    }
    fuse_fields, fuse_params = _padded_params("fuse", runs)
    fuse_items = {}
    for name, run in runs.items():
        code = _run_plugins("fuse", run, params)
        # The released model (original@<model>) when the Original rows use it, else the run's own.
        source = L.original_dir(run["model"]) if name not in trained else L.run_dir(name)
        code.update(model_dir=source, model_file=f"{source}/{L.RUN_MODEL}")
        fuse_items[name] = {"dataset": run["dataset"], "run": name, **fuse_fields[name], **code}
        if run.get("fuse_m3fd"):
            fuse_items[f"{name}-{DETECTION_DATASET}"] = {"dataset": DETECTION_DATASET, "run": name,
                                                         **fuse_fields[name], **code}
    stages["fuse"] = {
        "foreach": fuse_items,
        "do": {
            "cmd": (f"python -m stages.fuse --run {RUN} --dataset {D} "
                    f"--model ${{item.model_file}} --raw {L.raw_dir(D)} "
                    f"--split {L.split_file(D)} --out {L.fused_dir(RUN, D)}"),
            "deps": _code("fuse") + CODE_TEMPLATE + ["${item.model_dir}", L.raw_dir(D), L.split_file(D)],
            "params": fuse_params,
            "outs": [L.fused_dir(RUN, D)],
        },
    }
    sensed = sorted({run["dataset"] for run in trained.values() if _sensing_fields(run)["sensing_arg"]})
    if sensed and sensing_released:  # EMMA's released pseudo-sensing networks, for every dataset
        stages["sensing"] = {
            "foreach": [RELEASED_SENSING],
            "do": {
                "cmd": f"python -m stages.sensing_release --out {L.sensing_dir(I)} --downloads {L.DOWNLOADS}",
                "deps": _code("sensing_release"),
                "params": _static_params("sensing_release"),
                "outs": [L.sensing_dir(I)],
            },
        }
    elif sensed:  # EMMA's pseudo-sensing networks, trained on the max rule's images of each dataset
        stages["sensing"] = {
            "foreach": sensed,
            "do": {
                "cmd": (f"python -m stages.sensing --dataset {I} --raw {L.raw_dir(I)} --split {L.split_file(I)} "
                        f"--fused {L.fused_dir(SENSING_FUSION, I)} --out {L.sensing_dir(I)}"),
                "deps": _code("sensing") + [L.raw_dir(I), L.split_file(I), L.fused_dir(SENSING_FUSION, I)],
                "params": [k.replace(D, I) for k in _static_params("sensing")],
                "outs": [L.sensing_dir(I)],
            },
        }
    if released:  # the authors' released models replace the Original runs' training (Sec. IV-B)
        models = sorted({run["model"] for run in runs.values() if run["framework"] == "original"})
        stages["original"] = {
            "foreach": models,
            "do": {
                "cmd": f"python -m stages.original --model {I} --out {L.original_dir(I)} --downloads {L.DOWNLOADS}",
                "deps": _code("original"),
                "params": _static_params("original"),
                "outs": [L.original_dir(I)],
            },
        }
    stages["fuse_rule"] = {
        "foreach": {f"{r}-{d}": {"rule": r, "dataset": d, **_plugin_code("fuse_rule", [plugin_module(RULE_PACKAGE, r)])}
                    for r in methods.rules for d in DATASETS},
        "do": {
            "cmd": (f"python -m stages.fuse_rule --rule {RULE} --dataset {D} "
                    f"--raw {L.raw_dir(D)} --split {L.split_file(D)} "
                    f"--out {L.fused_dir(RULE, D)}"),
            "deps": _code("fuse_rule") + CODE_TEMPLATE + [L.raw_dir(D), L.split_file(D)],
            "params": _static_params("fuse_rule"),
            "outs": [L.fused_dir(RULE, D)],
        },
    }
    weight_fields, weight_params = _padded_params("weights", WEIGHT_TARGETS)
    stages["weights"] = {
        "foreach": {k: {**v, **weight_fields[k]} for k, v in WEIGHT_TARGETS.items()},
        "do": {
            "cmd": (f"python -m stages.weights --target ${{item.target}} --dataset {D} "
                    f"--raw {L.raw_dir(D)} --split {L.split_file(D)} "
                    f"--out {L.weights_dir(K)} --work {L.work_dir('weights')} --downloads {L.DOWNLOADS}"),
            "deps": _code("weights") + [L.raw_dir(D), L.split_file(D)],
            "params": weight_params,
            "outs": [L.weights_dir(K)],
        },
    }
    fused, segmenter = "${item.fused}", L.weights_dir(L.weights_name(SEGMENTER, D))
    scored = {L.scored_key(m, d): {"method": m, "dataset": d, "fused": methods.images(m, d)}
              for d in SCORED_DATASETS for m in methods.scored(d)}
    stages["fusion_metrics"] = {
        "foreach": scored,
        "do": {
            "cmd": (f"python -m stages.fusion_metrics --method {M} --dataset {D} "
                    f"--raw {L.raw_dir(D)} --split {L.split_file(D)} "
                    f"--fused {fused} --out {L.in_metrics(L.metric_file('fusion', K))} "
                    f"--per-image {L.in_metrics(L.per_image_file(K))}"),
            "deps": _code("fusion_metrics") + [L.raw_dir(D), L.split_file(D), fused],
            "params": _static_params("fusion_metrics"),
            "outs": [_uncached(L.in_metrics(L.metric_file("fusion", K))),
                     _uncached(L.in_metrics(L.per_image_file(K)))],
        },
    }
    stages["segment"] = {
        "foreach": scored,
        "do": {
            "cmd": (f"python -m stages.segment --method {M} --dataset {D} "
                    f"--fused {fused} --raw {L.raw_dir(D)} "
                    f"--split {L.split_file(D)} --init {segmenter} "
                    f"--conditions {L.conditions_file(D)} --out {L.in_metrics(L.metric_file('segment', K))} "
                    f"--confusion-csv {L.in_metrics(L.confusion_file(K, 'csv'))} "
                    f"--confusion-png {L.in_metrics(L.confusion_file(K, 'png'))} "
                    f"--predictions {L.predictions_dir('segment', K)} --work {L.work_dir('segment')}"),
            "deps": _code("segment") + [fused, L.raw_dir(D), L.split_file(D), segmenter, L.conditions_file(D)],
            "params": _static_params("segment"),
            "outs": [_uncached(L.in_metrics(L.metric_file("segment", K))),
                     _uncached(L.in_metrics(L.confusion_file(K, "csv"))),
                     _uncached(L.in_metrics(L.confusion_file(K, "png"))),
                     _uncached(L.predictions_dir("segment", K))],
        },
    }
    det, detector = DETECTION_DATASET, L.weights_dir(L.weights_name(DETECTOR, DETECTION_DATASET))
    stages["detect"] = {
        "foreach": {m: {"method": m, "fused": methods.images(m, det)} for m in methods.scored(det)},
        "do": {
            "cmd": (f"python -m stages.detect --method {M} --fused {fused} "
                    f"--raw {L.raw_dir(det)} --split {L.split_file(det)} --init {detector} "
                    f"--conditions {L.conditions_file(det)} --out {L.in_metrics(L.metric_file('detect', K))} "
                    f"--predictions {L.predictions_dir('detect', K)} --work {L.work_dir('detect')}"),
            "deps": _code("detect") + [fused, L.raw_dir(det), L.split_file(det), detector, L.conditions_file(det)],
            "params": _static_params("detect"),
            "outs": [_uncached(L.in_metrics(L.metric_file("detect", K))),
                     _uncached(L.predictions_dir("detect", K))],
        },
    }
    # Training seeds: every seed after the first adds `-s<seed>` items to the seeded groups above.
    seed_dag.expand(stages, params, methods.externals, DETECTION_DATASET)
    efficiency = L.in_metrics(L.EFFICIENCY_FILE)
    stages["efficiency"] = {
        "cmd": f"python -m stages.efficiency --out {efficiency}",
        # Table IV measures every fusion model: every model plugin's code (a report stage, like the tables).
        "deps": sorted(set(_code("efficiency")).union(*(code_deps(ROOT, plugin_module(MODEL_PACKAGE, m))
                                                         for m in FUSION_MODEL_NAMES))),
        "params": _static_params("efficiency"),
        "outs": [_uncached(efficiency)],
    }
    tables = _stage_module("tables")
    headline, gradient = L.in_metrics(L.HEADLINE_FILE), L.in_metrics(L.GRADIENT_FILE)
    stages["tables"] = {
        "cmd": (f"python -m stages.tables --metrics {L.METRICS} --runs {L.RUN_REPORTS} --out {L.TABLES} "
                f"--headline {headline} --gradient {gradient} "
                f"--readme {L.README} --m3fd-split {L.split_file(DETECTION_DATASET)}"),
        # reports/README.md prints digests of all project code and of params.yaml: the stage
        # depends on exactly those files, so the README can never go stale.
        "deps": sorted(set(_code("tables")) | set(L.digested_files(ROOT))) + sorted(tables.inputs(params))
        + [L.split_file(DETECTION_DATASET)],  # the README names the M3FD split and its near-duplicates
        "params": _static_params("tables"),
        "outs": [_uncached(L.TABLES), _uncached(L.README)],
        "metrics": [_uncached(headline), _uncached(gradient)],
    }
    stages["figures"] = _aggregate("figures", params, f"python -m stages.figures --data {L.DATA} --reports {L.REPORTS} "
                                   f"--out {L.PAPER_FIGURES}", [L.PAPER_FIGURES])
    sanity_json = L.in_metrics(L.SANITY_FILE)
    stages["sanity"] = _aggregate("sanity", params, f"python -m stages.sanity --metrics {L.METRICS} "
                                  f"--out {L.SANITY} --json {sanity_json}",
                                  [L.SANITY], metrics=[sanity_json])
    plots = _plots(params)
    for stage in stages.values():
        body = stage.get("do", stage)
        body["cmd"] = f"{RUNNER} {body['cmd']}"  # pipeline.dag.runner: runs it, and independent units beside it
        if not body.get("params"):
            body.pop("params", None)
    return {"stages": stages, "plots": plots}


def _aggregate(name: str, params: dict, cmd: str, outs: list[str], metrics: list[str] = ()) -> dict:
    """A stage reading many metric files: its deps are its code plus `stages.<name>.inputs(params)`."""
    stage = {"cmd": cmd, "deps": _code(name) + sorted(_stage_module(name).inputs(params)),
             "params": _static_params(name), "outs": [_uncached(p) for p in outs]}
    if metrics:
        stage["metrics"] = [_uncached(p) for p in metrics]
    return stage


def _plots(params: dict) -> list[dict]:
    """`dvc plots show`: training curves, w_csc per weighting, alpha_cf, confusion matrices."""
    runs = params["runs"]
    headline = [r for r, run in runs.items() if run.get("headline")]
    # Table III (ii): the runs that differ from the headline FMB run only in their weighting.
    from pipeline.report.run_match import weighting_runs as find_weighting_runs
    weighting_runs = find_weighting_runs(runs)
    return [
        {"Training losses of the headline runs": {
            "x": "epoch", "y": {L.history_file(r): ["loss_fus", "loss_csc", "loss_val"] for r in headline}}},
        {"w_csc per weighting (FMB)": {"x": "epoch", "y": {L.history_file(r): ["w_csc"] for r in weighting_runs}}},
        {"Projection coefficient alpha_cf (Appendix C)": {
            "x": "epoch", "y": {L.history_file(r): ["alpha_cf"] for r in headline}}},
        *[L.in_metrics(L.confusion_file(L.scored_key(r, runs[r]["dataset"]), "png")) for r in headline],
    ]


