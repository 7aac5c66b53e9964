"""Precise invalidation: adding, removing or changing one run touches only its own stages and the reports."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.dag import build as dag_build
from pipeline.dag import files as dag
from pipeline.dag.units import load
from pipeline import params as _params
from pipeline.train.stage_one import unit_name

ROOT = Path(__file__).resolve().parents[2]
REPORTS = {"tables", "figures", "sanity"}  # they read every scored output: they change with the run list
NEW_RUN = "ssvif-swinfusion-fmb-l15"


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


def _definitions(params: dict, where: Path) -> dict[str, dict]:
    """Every stage as DVC resolves it: {name: cmd, deps, params, outs}, from the files `python -m stages.dag` writes."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for path, text in dag.render(params).items():
        (where / path).parent.mkdir(parents=True, exist_ok=True)
        (where / path).write_text(text)
    return {name: {"cmd": u.cmd, "deps": u.deps, "params": u.params, "outs": u.outs}
            for name, u in load(where).items()}


def _with_new_run(params: dict) -> dict:
    """A Table VII twin of the lambda4 = 10 run with lambda4 = 15 (the measurement of issue 20)."""
    p = copy.deepcopy(params)
    twin = next(r for r in p["runs"].values() if r.get("lambda_color") == 10 and r["dataset"] == "fmb")
    p["runs"][NEW_RUN] = {**twin, "lambda_color": 15}
    return p


def _changed(before: dict, after: dict) -> set[str]:
    return {n for n in set(before) | set(after) if before.get(n) != after.get(n)}


def _own(name: str, changed: set[str], runs: dict) -> set[str]:
    """The stages of run `name` among `changed`: its chain, and its stage-I unit when that is its alone."""
    unit = unit_name(name, runs[name])
    alone = unit is not None and [unit_name(n, r) for n, r in runs.items()].count(unit) == 1
    return {n for n in changed if name in n or (alone and n == f"stage_one@{unit}")}


def test_adding_a_run_changes_only_its_own_stages_and_the_reports(params, tmp_path):
    before = _definitions(params, tmp_path / "before")
    bigger = _with_new_run(params)
    after = _definitions(bigger, tmp_path / "after")
    changed = _changed(before, after)
    own = _own(NEW_RUN, changed, bigger["runs"])
    assert f"stage_one@{unit_name(NEW_RUN, bigger['runs'][NEW_RUN])}" in own  # lambda4 = 15: a stage I of its own
    assert own >= {f"train@{NEW_RUN}", f"fuse@{NEW_RUN}", f"fusion_metrics@{NEW_RUN}-fmb", f"segment@{NEW_RUN}-fmb"}
    assert own <= set(after) - set(before)  # all new: no existing stage was renamed
    assert changed - own <= REPORTS, sorted(changed - own)


def test_removing_a_run_changes_only_the_reports(params, tmp_path):
    gone = next(n for n, r in params["runs"].items() if r.get("lambda_color") == 30)
    smaller = copy.deepcopy(params)
    del smaller["runs"][gone]
    before, after = _definitions(params, tmp_path / "before"), _definitions(smaller, tmp_path / "after")
    removed = set(before) - set(after)
    assert removed and removed == _own(gone, removed, params["runs"])  # its chain and its own stage I
    assert {n for n in set(after) if before[n] != after[n]} <= REPORTS


def test_changing_one_runs_setting_changes_only_its_chain_by_params(params, tmp_path):
    """A run's own params block is read by its own stages alone (`runs.<run>`), so DVC re-runs only its chain."""
    defs = _definitions(params, tmp_path)
    run = "ssvif-swinfusion-fmb-nocsc"
    readers = {n for n, d in defs.items() if any(p == f"runs.{run}" or p == "runs" for p in d["params"])}
    assert readers - REPORTS == {f"train@{run}", f"fuse@{run}"}


def test_a_run_joining_a_shared_stage_one_changes_no_existing_stage(params, tmp_path):
    """n_classes and the weighting are no stage-I settings: a twin of the UCW run with 5 classes adds its own
    chain and continues from the existing stage_one unit, which stays as it was."""
    twin = copy.deepcopy(params)
    twin["runs"]["ssvif-swinfusion-fmb-ucw5"] = {**params["runs"]["ssvif-swinfusion-fmb-ucw"], "n_classes": 5}
    before, after = _definitions(params, tmp_path / "before"), _definitions(twin, tmp_path / "after")
    changed = _changed(before, after)
    assert changed - {n for n in changed if "ucw5" in n} <= REPORTS
    assert "data/stage_one/swinfusion-fmb-3ch-l20" in after["train@ssvif-swinfusion-fmb-ucw5"]["deps"]


def test_adding_a_weighting_module_changes_no_existing_stage(params, tmp_path, monkeypatch):
    """A weighting is one plugin file: nothing lists it, so no existing stage's deps change, and the run that
    uses it depends on its file."""
    copy_root = tmp_path / "repo"
    for folder in ("pipeline", "stages"):
        shutil.copytree(ROOT / folder, copy_root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = _definitions(params, tmp_path / "before")
    (copy_root / "pipeline/weighting/halfhalf.py").write_text(
        '"""A test weighting."""\nfrom pipeline.weighting.base import Weighting\n\n'
        'PLUGIN = {"order": 9, "class": "Half", "label": "1/2"}\n\n\nclass Half(Weighting):\n    pass\n')
    monkeypatch.setattr(dag_build, "ROOT", copy_root)
    monkeypatch.setattr("pipeline.plugins.ROOT", copy_root)
    from pipeline import plugins

    assert "halfhalf" in plugins.names("pipeline.weighting")
    p = _with_new_run(params)
    p["runs"][NEW_RUN]["weighting"] = "halfhalf"
    after = _definitions(p, tmp_path / "after")
    assert {n for n in before if before[n] != after[n]} <= REPORTS
    assert "pipeline/weighting/halfhalf.py" in after[f"train@{NEW_RUN}"]["deps"]
    others = {n: s for n, s in after.items() if n != f"train@{NEW_RUN}" and n not in REPORTS}
    assert not any("halfhalf" in d for s in others.values() for d in s["deps"])


def test_every_stage_is_named_after_its_unit_alone(params, tmp_path):
    defs = _definitions(params, tmp_path)
    runs, methods = params["runs"], dag_build.Methods.from_params(params)
    by_group: dict[str, set[str]] = {}
    for name in defs:
        group, _, key = name.partition("@")
        by_group.setdefault(group, set()).add(key)
    assert not any("+" in name for name in defs)
    assert by_group["train"] == set(runs)
    assert by_group["fuse"] == set(runs) | {f"{r}-m3fd" for r, run in runs.items() if run.get("fuse_m3fd")}
    assert by_group["weights"] == {"segmenter-fmb", "segmenter-msrs", "detector"}
    assert by_group["segment"] == {f"{m}-{d}" for d in ("fmb", "msrs") for m in methods.scored(d)}
    assert by_group["detect"] == set(methods.scored("m3fd"))
    for name, d in defs.items():  # each unit writes under its own name: nobody else's outputs
        key = name.partition("@")[2]
        if name.startswith(("train@", "segment@", "fusion_metrics@", "detect@")):
            assert all(key in out for out in d["outs"]), (name, d["outs"])


def test_only_split_at_m3fd_reads_the_m3fd_split_method(params, tmp_path):
    """`m3fd_split` and the grouped-split code are split@m3fd's alone: split@msrs and split@fmb read
    exactly `seed` and `split` and none of that code, so switching the method re-runs only M3FD's chain."""
    units = _definitions(params, tmp_path / "dag")
    readers = {n for n, u in units.items() if any(p.startswith("m3fd_split") for p in u["params"])}
    assert readers == {"split@m3fd"}
    users = {n for n, u in units.items() if n.startswith(("fetch@", "split@", "train@", "fuse@", "segment@", "detect@"))
             and "pipeline/data/grouped_split.py" in u["deps"]}
    assert users == {"split@m3fd"}
    for dataset in ("msrs", "fmb"):
        assert sorted(units[f"split@{dataset}"]["params"]) == ["seed", "split"]
    assert "data/splits/m3fd.json" in units["tables"]["deps"]  # the README names the split


def test_split_definitions_of_msrs_and_fmb_are_those_of_a_list_foreach(params, tmp_path):
    """The split group's per-dataset items leave MSRS and FMB resolved exactly as the plain `foreach` list
    over datasets did (the definition before `m3fd_split`): their dvc.lock entries stay valid."""
    units = _definitions(params, tmp_path / "dag")
    stage = dag_build.build(params)["stages"]["split"]
    body = stage["do"]
    for dataset in ("msrs", "fmb"):
        plain = {"cmd": body["cmd"].replace("${item.dataset}", dataset).removeprefix(dag_build.RUNNER).strip(),
                 "deps": [d.replace("${item.dataset}", dataset) for d in body["deps"] if d != "${item.c0}"],
                 "params": [p for p in body["params"] if p != "${item.p0}"]}
        unit = units[f"split@{dataset}"]
        assert unit["cmd"] == plain["cmd"] and unit["params"] == plain["params"]
        assert sorted(unit["deps"]) == sorted(plain["deps"])
