"""Training seeds as a DAG dimension (pipeline.seeds, pipeline.seed_dag): one seed changes nothing."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from pipeline import seeds
from pipeline.dag.units import RUNNER
from pipeline.dag import files as dag
from pipeline import params as _params
from stages import tables as tables_stage

ROOT = Path(__file__).resolve().parents[2]
SEEDED_GROUPS = ("stage_one", "train", "fuse", "fusion_metrics", "segment", "detect")


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def two(params) -> dict:
    p = copy.deepcopy(params)
    p["seeds"] = [p["seed"], p["seed"] + 1]
    return p


def _fill(text: str, key: str, item: dict) -> str:
    text = text.replace("${key}", key)
    for field, value in item.items():
        text = text.replace("${item.%s}" % field, str(value))
    return text


def _instances(pipeline: dict) -> dict[str, dict]:
    """Every stage instance as DVC names it (group@key), with cmd and outs filled in."""
    out = {}
    for group, stage in pipeline["stages"].items():
        items = stage.get("foreach")
        if not isinstance(items, dict):
            continue
        body = stage["do"]
        for key, item in items.items():
            outs = [o if isinstance(o, str) else next(iter(o)) for o in body["outs"]]
            deps = [d for d in body["deps"] if "$" in d]
            out[f"{group}@{key}"] = {"cmd": _fill(body["cmd"], key, item), "outs": [_fill(o, key, item) for o in outs],
                                     "deps": [_fill(d, key, item) for d in deps]}
    return out


def test_the_committed_default_is_one_seed_and_dvc_yaml_is_what_one_seed_generates(params):
    assert seeds.training_seeds(params) == [params["seed"]] and seeds.extra_seeds(params) == []
    without = {k: v for k, v in params.items() if k != "seeds"}
    committed = {path: (ROOT / path).read_text() for path in dag.render(params)}
    assert dag.render(without) == dag.render(params) == committed


def test_two_seeds_keep_every_first_seed_stage_and_add_seeded_ones(params, two):
    one, both = _instances(dag.build(params)), _instances(dag.build(two))
    assert all(both[name] == inst for name, inst in one.items()), "adding a seed must not change a seed-0 stage"
    added = set(both) - set(one)
    s = two["seeds"][1]
    assert added and all(f"-s{s}" in name for name in added)
    assert {name.split("@")[0] for name in added} == set(SEEDED_GROUPS)
    run = "ssvif-swinfusion-fmb"
    assert f"train@{run}-s{s}" in added and f"fuse@{run}-s{s}-m3fd" in added and f"detect@{run}-s{s}" in added
    # Every method's fine-tunes are seeded; only runs' fusion metrics are (a rule's images have no seed).
    assert f"segment@max-s{s}-fmb" in added and f"detect@visible-s{s}" in added
    assert f"fusion_metrics@{run}-s{s}-fmb" in added and f"fusion_metrics@max-s{s}-fmb" not in added
    # Unseeded stages keep one instance.
    for group in ("fetch", "split", "fuse_rule", "weights"):
        assert not any(n.startswith(f"{group}@") for n in added)
    # Every seeded output path is the seed's own, and the seed's chain is connected.
    outs = {o: name for name, inst in both.items() for o in inst["outs"]}
    assert len(outs) == sum(len(i["outs"]) for i in both.values()), "two stages write one path"
    for name in added:
        for dep in both[name]["deps"]:
            if dep.startswith(("data/runs/", "data/fused/", "data/stage_one/")):
                assert dep in outs, (name, dep)
    assert both[f"train@{run}-s{s}"]["cmd"].startswith(f"{RUNNER} python -m stages.train --run {run}-s{s} ")
    # ... and reads its own seed's model and stage I, never the first seed's (a seeded fuse once fused seed 0's).
    for name in added:
        for dep in both[name]["deps"]:
            if dep.startswith(("data/runs/", "data/stage_one/")):
                assert dep.endswith(f"-s{s}"), (name, dep)
    for key in (f"fuse@{run}-s{s}", f"fuse@{run}-s{s}-m3fd", f"fuse@original-swinfusion-fmb-s{s}"):
        model = f"data/runs/{key.split('@')[1].removesuffix('-m3fd')}/model.pt"
        assert f"--model {model} " in both[key]["cmd"], both[key]["cmd"]
    assert f"--fused data/fused/{run}-s{s}/fmb" in both[f"segment@{run}-s{s}-fmb"]["cmd"]
    assert "--fused data/fused/max/fmb" in both[f"segment@max-s{s}-fmb"]["cmd"]
    assert both[f"segment@max-s{s}-fmb"]["outs"][0] == f"reports/metrics/segment/max-s{s}-fmb.json"


def test_two_seed_dag_reads_each_seeded_run_params_entry(two):
    pipeline = dag.build(two)
    item = pipeline["stages"]["train"]["foreach"]["ssvif-swinfusion-fmb-s1"]
    assert "runs.ssvif-swinfusion-fmb" in item.values()
    for text in dag.render(two).values():
        assert "[" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_tables_stage_depends_on_every_seeds_metric_files(params, two):
    one, both = set(tables_stage.inputs(params)), set(tables_stage.inputs(two))
    assert one < both
    outs = {o for inst in _instances(dag.build(two)).values() for o in inst["outs"]}
    assert both - one <= outs
    assert "reports/metrics/segment/max-s1-fmb.json" in both
    assert "reports/metrics/fusion/max-s1-fmb.json" not in both


def test_split_seeded_and_settings_seed(params):
    from stages.train import settings

    assert seeds.split_seeded("ssvif-swinfusion-fmb-s2", 0) == ("ssvif-swinfusion-fmb", 2)
    assert seeds.split_seeded("max", 7) == ("max", 7)
    assert seeds.seeded("max", 3) == "max-s3" and seeds.seeded("max", None) == "max"
    assert settings(params, "ssvif-swinfusion-fmb").seed == params["seed"]
    assert settings(params, *seeds.split_seeded("ssvif-swinfusion-fmb-s5", params["seed"])).seed == 5


@pytest.mark.parametrize("change, message", [
    ({"seeds": [1, 0]}, "must start with seed"),
    ({"seeds": [0, 0]}, "repeats"),
    ({"seeds": []}, "non-empty"),
    ({"seeds": "0,1"}, "non-empty"),
])
def test_bad_seeds_are_rejected(params, change, message):
    with pytest.raises(_params.ParamsError, match=message):
        _params.validate({**copy.deepcopy(params), **change})


def test_a_run_named_like_a_seeded_instance_is_rejected(params):
    p = copy.deepcopy(params)
    p["runs"]["ssvif-swinfusion-fmb-s1"] = p["runs"].pop("ssvif-swinfusion-fmb-fixed")
    with pytest.raises(_params.ParamsError, match="ends like a seeded instance"):
        _params.validate(p)
