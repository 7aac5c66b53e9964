"""Sanity report: expectations true by construction of the synthetic data; each one broken alone fails alone."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipeline import layout
from pipeline.report import sanity
from pipeline.report.sources import metric_file
from stages import sanity as stage

SEEDED = __import__("re").compile(r"^(.+)-s\d+$")

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("Person", "Bus", "Truck", "person", "guardrail", "car_stop", "People", "Car")
# Per role: (mIoU / mAP50, night people IoU / AP50, colour-only class IoU); other methods get DEFAULT.
ROLES = {"visible": (40.0, 5.0, 70.0), "infrared": (45.0, 60.0, 20.0), "max": (50.0, 40.0, 50.0),
         "headline": (60.0, 55.0, 65.0)}
DEFAULT = (50.0, 30.0, 50.0)
NAMES = [f"night people: infrared beats visible ({m}, {d})" for m, d in (("IoU", "fmb"), ("IoU", "msrs"),
                                                                          ("AP50", "m3fd"))]
NAMES += ["colour-only classes: visible beats infrared (fmb bus/truck)",
          "colour-only classes: visible beats infrared (msrs guardrail/car_stop)"]
NAMES += [f"max rule no worse than the weaker source ({m}, {d})" for m, d in (("mIoU", "fmb"), ("mIoU", "msrs"),
                                                                              ("mAP50", "m3fd"))]
HEADLINE = [f"headline SSVIF beats the weaker source ({m}, {d})" for m, d in (("mIoU", "fmb"), ("mIoU", "msrs"),
                                                                              ("mAP50", "m3fd"))]


@pytest.fixture
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def _headline(params: dict, dataset: str) -> str:
    return next(n for n, r in params["runs"].items() if r.get("headline") and r["dataset"] == dataset)


def _file(rel: str, role: str) -> dict:
    main, night, colour = ROLES.get(role, DEFAULT)
    iou = {c: (colour if c in ("Bus", "Truck", "guardrail", "car_stop") else 50.0) for c in CLASSES}
    key, group = ("mAP50", "AP50") if rel.startswith("detect/") else ("mIoU", "IoU")
    conds = {c: {"images": 3, key: main, group: {**iou, "Person": 50.0, "person": 50.0, "People": 50.0}}
             for c in ("day", "fog")}
    conds["night"] = {"images": 3, key: main, group: {**iou, "Person": night, "person": night, "People": night}}
    if rel.startswith("fusion/"):
        return {"EN": 6.0, "MI": main / 10, "Qabf": 0.5, "SSIM": 0.9}
    return {key: main, group: iou, "by_condition": conds, "init": {"source": "synthetic"}}


def good_files(params: dict) -> dict[str, dict]:
    """Every file the report reads, with values that satisfy every expectation."""
    heads = {_headline(params, "fmb"), _headline(params, "msrs")}
    files = {}
    for rel in sanity.required_files(params):
        method = rel.split("/")[1].removesuffix(".json")
        method = method if rel.startswith("detect/") else method.rsplit("-", 1)[0]
        method = SEEDED.sub(r"\1", method)  # a further seed's file: the same role
        files[rel] = _file(rel, "headline" if method in heads else method)
    return files


def _set(files: dict, rel: str, keys: tuple, value) -> None:
    node = files[rel]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value


def _night(cls: str, group: str = "IoU") -> tuple:
    return "by_condition", "night", group, cls


def _breakers(params: dict) -> dict[str, callable]:  # noqa: ARG001  (params: the same signature as good_files)
    """For each asserted expectation: a mutation of the good files that breaks exactly it."""

    def copy_from(src: str, dst: str, *keys):  # the "fused = visible image" mistake, limited to ``keys``
        def apply(files):
            for k in keys:
                node = files[src]
                for part in k:
                    node = node[part]
                _set(files, dst, k, node)
        return apply

    def lower(rel: str, key: str):
        return lambda files: _set(files, rel, (key,), 1.0)

    return dict(zip(NAMES, [
        copy_from("segment/visible-fmb.json", "segment/infrared-fmb.json", _night("Person")),
        copy_from("segment/visible-msrs.json", "segment/infrared-msrs.json", _night("person")),
        copy_from("detect/visible.json", "detect/infrared.json", _night("People", "AP50")),
        copy_from("segment/visible-fmb.json", "segment/infrared-fmb.json", ("IoU", "Bus"), ("IoU", "Truck")),
        copy_from("segment/visible-msrs.json", "segment/infrared-msrs.json", ("IoU", "guardrail"),
                  ("IoU", "car_stop")),
        lower("segment/max-fmb.json", "mIoU"), lower("segment/max-msrs.json", "mIoU"), lower("detect/max.json", "mAP50"),
    ]))


def test_the_headline_check_is_measured_but_not_enforced(params):
    """It does not hold on every seed (issue 21's policy): a headline below both sources is reported as
    failing, says why it is not enforced, and fails nothing."""
    files = good_files(params)
    for rel in (f"segment/{_headline(params, 'fmb')}-fmb.json", f"detect/{_headline(params, 'fmb')}.json"):
        _set(files, rel, ("mAP50" if rel.startswith("detect") else "mIoU",), 1.0)
    results = _evaluate(params, files)
    assert [results[n]["passed"] for n in HEADLINE] == [False, True, False]
    assert not any(results[n]["asserted"] for n in HEADLINE) and _failed(results) == []
    assert "not enforced" in results[HEADLINE[0]]["why"] and "seed 1" in results[HEADLINE[0]]["why"]


def _evaluate(params: dict, files: dict) -> dict[str, dict]:
    return {e["name"]: e for e in sanity.evaluate_expectations(params, files.get)}


def _failed(results: dict) -> list[str]:
    return [n for n, e in results.items() if e["asserted"] and e["passed"] is not True]


def test_good_metrics_pass_every_expectation(params):
    results = _evaluate(params, good_files(params))
    assert [n for n, e in results.items() if e["asserted"]] == NAMES
    assert _failed(results) == []
    colour = results["colour-only classes: visible beats infrared (fmb bus/truck)"]["values"]
    assert colour["visible mean"] == 70.0 and colour["infrared mean"] == 20.0


@pytest.mark.parametrize("name", NAMES)
def test_each_broken_input_fails_exactly_its_expectation(params, name):
    files = copy.deepcopy(good_files(params))
    _breakers(params)[name](files)
    results = _evaluate(params, files)
    assert _failed(results) == [name]
    assert results[name]["passed"] is False and not results[name]["why"].startswith("cannot check")


def test_missing_file_or_null_value_fails_and_names_it(params):
    files = good_files(params)
    del files["segment/max-fmb.json"]
    files["segment/infrared-msrs.json"]["IoU"]["car_stop"] = None
    results = _evaluate(params, files)
    assert _failed(results) == ["colour-only classes: visible beats infrared (msrs guardrail/car_stop)",
                                "max rule no worse than the weaker source (mIoU, fmb)"]
    assert "segment/max-fmb.json is missing" in results[_failed(results)[1]]["why"]
    assert "segment/infrared-msrs.json: IoU.car_stop is null" in results[_failed(results)[0]]["why"]


def test_runs_are_found_by_settings_not_names(params):
    params["runs"]["renamed-head"] = params["runs"].pop(_headline(params, "fmb"))
    files = good_files(params)
    assert "detect/renamed-head.json" in files and "segment/renamed-head-fmb.json" in files
    results = _evaluate(params, files)
    assert _failed(results) == []
    assert results["headline SSVIF beats the weaker source (mAP50, m3fd)"]["values"]["headline"] == 60.0


def test_a_method_dropped_from_params_is_reported_not_failed(params):
    params["methods"]["rules"].remove("max")
    results = _evaluate(params, good_files(params))
    skipped = results["max rule no worse than the weaker source (mIoU, fmb)"]
    assert skipped["passed"] is None and "no max method" in skipped["why"] and _failed(results) == [
        n for n in NAMES if n.startswith("max rule")]


def test_informational_comparisons_found_by_settings(params):
    results = _evaluate(params, good_files(params))
    weighting = sorted(n for n in results if n.startswith("weighting:"))
    assert weighting == [f"weighting: gdwa (headline) vs {w} (mIoU, fmb)" for w in ("dwa", "fixed", "segmif", "ucw")]
    assert all(results[n]["passed"] is True and not results[n]["asserted"] for n in weighting)
    ssvif = [n for n in results if n.startswith("SSVIF vs original: ssvif-emma-fmb vs original-emma-fmb")]
    assert [n.rsplit("(", 1)[1] for n in ssvif] == ["mIoU, fmb)", "MI, fmb)", "Qabf, fmb)", "SSIM, fmb)"]
    assert all(results[n]["passed"] is False for n in ssvif)  # both got the default values: not higher


def test_a_further_seed_is_enforced_too(params):
    """seeds [0, 1]: seed 1's expectations read the -s1 files; the enforced ones are enforced on seed 1 too
    (issue 21: enforced only what holds on every seed), its headline check is reported, never enforced."""
    params["seeds"] = [params["seed"], 1]
    files = good_files(params)
    hf = _headline(params, "fmb")
    assert {f"segment/{hf}-s1-fmb.json", "segment/visible-s1-fmb.json", "detect/infrared-s1.json"} <= set(files)
    lower = lambda rel: _set(files, rel, ("mIoU",), 1.0)  # noqa: E731
    lower(f"segment/{hf}-s1-fmb.json")  # seed 1's headline below both of seed 1's sources
    results = _evaluate(params, files)
    seed1 = results["headline SSVIF beats the weaker source (mIoU, fmb, seed 1)"]
    assert seed1["passed"] is False and not seed1["asserted"]
    assert seed1["values"] == {"headline": 1.0, "visible": 40.0, "infrared": 45.0}  # the -s1 files
    assert _failed(results) == []
    assert [n for n, e in results.items() if e["asserted"]] == NAMES + [f"{n[:-1]}, seed 1)" for n in NAMES]
    assert sum(n.startswith("headline") and ", seed 1)" in n for n in results) == 3  # fmb, msrs, m3fd
    copy_visible = lambda files: _set(files, "segment/infrared-s1-fmb.json", _night("Person"), 5.0)  # noqa: E731
    copy_visible(files)  # seed 1's infrared as dark as visible at night: seed 1's check alone fails
    assert _failed(_evaluate(params, files)) == ["night people: infrared beats visible (IoU, fmb, seed 1)"]


def test_markdown_and_json(params):
    files = good_files(params)
    files["segment/mean-fmb.json"]["by_condition"]["night"]["mIoU"] = 12.345678
    expectations = sanity.evaluate_expectations(params, files.get)
    breakdown = sanity.condition_breakdown(params, files.get)
    assert breakdown["fmb"]["mean"] == {"day": 50.0, "night": 12.345678, "fog": 50.0}
    assert set(breakdown["m3fd"]) == set(sanity.breakdown_methods(params)["m3fd"])
    md = sanity.render_markdown(expectations, breakdown, "synthetic")
    assert "**enforced**" in md and "| night people: infrared beats visible (IoU, fmb) | infrared 60.00, " in md
    assert "| mean | 50.00 | 12.35 | 50.00 |" in md and "FAIL" not in md
    assert "**informational**" in sanity.render_markdown(expectations, breakdown, "official")
    out = sanity.sanity_json([{**expectations[0], "values": {"a": 1.23456789, "b": None}}])
    assert list(out) == ["expectations", "summary"] and out["expectations"][0]["values"] == {"a": 1.2346, "b": None}
    assert out["summary"] == {"asserted": 1, "asserted_passed": 1, "asserted_failed": 0, "informational": 0}


def _project(tmp_path: Path, monkeypatch, params: dict, files: dict) -> Path:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    for rel, data in files.items():
        path = tmp_path / "reports/metrics" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    for run, rows in good_histories(params).items():  # every run trained as it should
        path = tmp_path / layout.history_file(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("epoch,stage,loss_fus,loss_csc,w_csc\n" + "".join(
            f"{r['epoch']},{r['stage']},{r['loss_fus']},{r['loss_csc']},{r['w_csc']}\n" for r in rows))
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run_stage():
    args = ["--metrics", "reports/metrics", "--out", "reports/sanity.md", "--json", "reports/metrics/sanity.json"]
    return CliRunner().invoke(stage.main, args)


@pytest.mark.parametrize("source", ["synthetic", "official"])
def test_stage_enforces_only_on_synthetic(tmp_path, monkeypatch, params, source):
    params["data"]["source"] = source
    files = good_files(params)
    _breakers(params)[NAMES[0]](files)
    project = _project(tmp_path, monkeypatch, params, files)
    result = _run_stage()
    assert (result.exit_code != 0) == (source == "synthetic"), result.output
    if source == "synthetic":
        assert NAMES[0] in result.output and "infrared 5.00, visible 5.00" in result.output
        assert NAMES[1] not in result.output
    written = json.loads((project / "reports/metrics/sanity.json").read_text())
    expected = [False] + [True] * (len(NAMES) + len(TRAINING) - 1)  # the training checks read the histories
    assert [e["passed"] for e in written["expectations"] if e["asserted"]] == expected
    assert (project / "reports/sanity.md").read_text().startswith("# Sanity report")


def test_stage_passes_on_good_metrics_deterministically(tmp_path, monkeypatch, params):
    project = _project(tmp_path, monkeypatch, params, good_files(params))
    outs = []
    for _ in range(2):
        result = _run_stage()
        assert result.exit_code == 0, result.output + repr(result.exception)
        outs.append([(project / p).read_bytes() for p in ("reports/sanity.md", "reports/metrics/sanity.json")])
    assert outs[0] == outs[1]


def test_inputs_are_the_files_read(params):
    files = stage.inputs(params)
    assert files == ([layout.in_metrics(rel) for rel in sanity.required_files(params)]
                     + [layout.history_file(run) for run in sanity.required_histories(params)])
    assert set(sanity.required_histories(params)) == set(params["runs"])
    expected = [("segment", "visible", "fmb"), ("detect", "infrared", None), ("detect", _headline(params, "fmb"), None),
                ("fusion", "original-emma-fmb", "fmb")]
    assert {layout.in_metrics(metric_file(*e)) for e in expected} <= set(files)
    assert set(stage.PARAMS) >= {"data.source", "runs", "methods"}


def test_weighting_comparisons_are_the_weighting_runs(params):
    """Table III (ii)'s runs (pipeline.report.run_match.weighting_runs), renamed or not."""
    from pipeline.report.run_match import weighting_runs

    params["runs"] = {("my-ucw" if n == "ssvif-swinfusion-fmb-ucw" else n): r for n, r in params["runs"].items()}
    compared = [n for n in weighting_runs(params["runs"]) if n != _headline(params, "fmb")]
    assert "my-ucw" in compared
    assert {metric_file("segment", n, "fmb") for n in compared} <= set(sanity.required_files(params))
    names = [e["name"] for e in sanity.evaluate_expectations(params, lambda rel: None) if e["name"].startswith("weighting:")]
    assert len(names) == len(compared)


# ----------------------------------------------------------------------------- the training checks
def good_histories(params: dict, seeds=(None,)) -> dict[str, list[dict]]:
    """history.csv rows of every run, as a working training writes them: losses fall, CSC runs switch to stage II."""
    out = {}
    for seed in seeds:
        for name, run in params["runs"].items():
            csc = run["framework"] == "ssvif" and run.get("csc", True)
            rows = [{"epoch": str(e), "stage": "2" if csc and e > 2 else "1", "loss_fus": f"{10 - e:.3f}",
                     "loss_csc": f"{5 - e / 2:.3f}" if csc and e > 2 else "", "w_csc": "0.05" if csc and e > 2 else ""}
                    for e in range(1, 7)]
            out[name if seed is None else f"{name}-s{seed}"] = rows
    return out


def _trained(params: dict, histories: dict) -> dict[str, dict]:
    return {e["name"]: e for e in sanity.evaluate_expectations(params, good_files(params).get, histories.get)}


TRAINING = ["training lowers L_fus (every SSVIF run, last vs first epoch)",
            "stage II lowers L_csc (every CSC run, last vs first stage-II epoch)",
            "no L_csc without CSC (ssvif-swinfusion-fmb-nocsc: stage I throughout, w_csc 0)",
            "training lowers its own loss (every original framework, last vs first epoch)"]


def test_training_checks_pass_on_working_histories(params):
    results = _trained(params, good_histories(params))
    assert [n for n, e in results.items() if e["asserted"]] == NAMES + TRAINING and _failed(results) == []
    assert results[TRAINING[0]]["values"]["runs"] == sum(r["framework"] == "ssvif" for r in params["runs"].values())
    assert results[TRAINING[3]]["values"]["runs"] == sum(r["framework"] == "original" for r in params["runs"].values())
    assert {layout.history_file(r) for r in params["runs"]} <= set(stage.inputs(params))  # the stage depends on them


@pytest.mark.parametrize("broken, name", [
    ("rising", TRAINING[0]), ("csc_rising", TRAINING[1]), ("nocsc_csc", TRAINING[2]), ("missing", TRAINING[0]),
    ("original_rising", TRAINING[3]), ("original_missing", TRAINING[3])])
def test_each_broken_history_fails_its_check(params, broken, name):
    histories = copy.deepcopy(good_histories(params))
    head, nocsc = _headline(params, "fmb"), "ssvif-swinfusion-fmb-nocsc"
    if broken == "rising":  # e.g. a learning rate of 0 or a detached output: the loss never falls
        histories["ssvif-swinfusion-fmb-l30"][-1]["loss_fus"] = "99"
    elif broken == "csc_rising":  # H and S not optimised (left out of the optimiser)
        histories[head][-1]["loss_csc"] = "9"
    elif broken == "nocsc_csc":  # csc: false ignored: the run switched to stage II
        histories[nocsc][-1].update(stage="2", loss_csc="1.0", w_csc="0.05")
    elif broken == "original_rising":  # e.g. a rate above lr_max: original SeAFusion's tanh output saturates
        histories["original-seafusion-fmb"][-1]["loss_fus"] = "99"
    elif broken == "original_missing":
        del histories["original-emma-msrs"]
    else:
        del histories["ssvif-emma-fmb"]
    results = _trained(params, histories)
    # a missing CSC run's history fails the L_csc check too: it cannot be checked either
    assert _failed(results) == ([name, TRAINING[1]] if broken == "missing" else [name])
    if broken == "missing":
        assert "ssvif-emma-fmb's history.csv is missing" in results[name]["why"]
    elif broken == "original_missing":
        assert "original-emma-msrs's history.csv is missing" in results[name]["why"]
    elif broken != "nocsc_csc":
        assert results[name]["values"]["highest last/first"] > 1
    if broken == "original_rising":
        assert "Highest: original-seafusion-fmb." in results[name]["why"] and "lr_max" in results[name]["why"]


def test_training_checks_on_a_further_seed(params):
    params["seeds"] = [params["seed"], 2]
    histories = good_histories(params, seeds=(None, 2))
    histories["ssvif-swinfusion-msrs-s2"][-1]["loss_fus"] = "99"
    histories["original-emma-fmb-s2"][-1]["loss_fus"] = "99"
    results = {e["name"]: e for e in sanity.evaluate_expectations(params, good_files(params).get, histories.get)}
    assert _failed(results) == [TRAINING[0][:-1] + ", seed 2)", TRAINING[3][:-1] + ", seed 2)"]
    assert "Highest: ssvif-swinfusion-msrs-s2." in results[TRAINING[0][:-1] + ", seed 2)"]["why"]
