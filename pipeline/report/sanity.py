"""Sanity report: expectations that hold by construction of the synthetic scenes.

At night the synthetic visible image is dark and people show only in infrared; bus/truck and
guardrail/car_stop share shape and temperature and differ only by visible colour
(pipeline.data.synthetic_scene). So on synthetic data the source-only baselines must order
themselves in known ways, and a fused image must not be worse than its weaker source; a
violation means a bug (e.g. swapped sources), not a finding. On official/local data the same
checks are informational. Pure: ``read(relative metric file) -> dict | None`` does the I/O.
"""
from __future__ import annotations

from typing import Callable

from pipeline.report.format import number
from pipeline.report.gradient import cell_number, stage_two_series
from pipeline.report.run_match import weighting_runs
from pipeline.seeds import extra_seeds, seeded
from pipeline.report.sources import DETECTION_DATASET, SCORED_DATASETS, Methods, metric_file

Read = Callable[[str], "dict | None"]
# A run's history.csv rows (reports/runs/<run>/history.csv, values as text), or None when it is missing.
History = Callable[[str], "list[dict] | None"]
CONDITIONS = ("day", "night", "fog")
# Keys of a value's file, e.g. ("by_condition", "night", "IoU", "Person").
Ref = tuple[str, tuple[str, ...]]
# Classes told apart only by visible colour (same shape and temperature in the synthetic scenes).
COLOUR_ONLY = {"fmb": ("Bus", "Truck"), "msrs": ("guardrail", "car_stop")}
FUSION_COMPARED = ("MI", "Qabf", "SSIM")


def _lookup(read: Read, rel: str, keys: tuple[str, ...]) -> tuple[float | None, str | None]:
    """(value, None) or (None, why it is missing)."""
    node = read(rel)
    if node is None:
        return None, f"{rel} is missing"
    for i, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            return None, f"{rel} has no {'.'.join(keys[: i + 1])}"
        node = node[key]
    if node is None:
        return None, f"{rel}: {'.'.join(keys)} is null"
    return float(node), None


def _check(read: Read, name: str, why: str, refs: dict[str, Ref | None], test, asserted: bool = True,
           derive: Callable[[dict], dict] | None = None) -> dict:
    """One expectation; a ref of None means the method is not configured in params.yaml."""
    values, problems = {}, []
    for label, ref in refs.items():
        value, problem = _lookup(read, *ref) if ref else (None, f"params.yaml has no {label} method")
        values[label] = value
        problems += [problem] if problem else []
    if problems:
        unconfigured = any(ref is None for ref in refs.values())
        # Nothing to check when params drop a method (a choice, not a bug): reported, never passed.
        passed = False if asserted and not unconfigured else None
        why = f"{'not evaluated' if passed is None else 'cannot check'}: {'; '.join(dict.fromkeys(problems))}."
        return {"name": name, "asserted": asserted, "passed": passed, "values": values, "why": why}
    values |= derive(values) if derive else {}
    return {"name": name, "asserted": asserted, "passed": bool(test(values)), "values": values, "why": why}


def _ref(method: str | None, dataset: str, *keys: str) -> Ref | None:
    """Where a segmentation (fmb, msrs) or detection (m3fd) value of ``method`` lives."""
    if method is None:
        return None
    rel = metric_file("detect", method, None) if dataset == DETECTION_DATASET else metric_file("segment", method, dataset)
    return rel, keys


def _main_metric(method: str | None, dataset: str, *prefix: str) -> Ref | None:
    """mIoU of a segmentation dataset, mAP50 on M3FD (under ``prefix`` keys, e.g. by_condition.night)."""
    return _ref(method, dataset, *prefix, "mAP50" if dataset == DETECTION_DATASET else "mIoU")


def _run_metric(method: str, dataset: str, metric: str) -> Ref:
    """A fusion metric (fusion file) or mIoU (segment file) of ``method`` on ``dataset``."""
    if metric in FUSION_COMPARED:
        return metric_file("fusion", method, dataset), (metric,)
    return _ref(method, dataset, metric)


def _rule(methods: Methods, rule: str) -> str | None:
    return rule if rule in methods.rules else None


def evaluate_expectations(params: dict, read: Read, history: History | None = None) -> list[dict]:
    """Asserted expectations (true by construction of the synthetic data, or of how every run trains), on
    every training seed, then informational comparisons. history: the training checks (None: left out)."""
    m = Methods.from_params(params)
    out = []
    for seed in [None, *extra_seeds(params)]:  # each configured training seed's own fine-tunes and runs
        out += _enforced(params, m, read, history, seed)
    vis, ir = _rule(m, "visible"), _rule(m, "infrared")
    return out + _informational(params, m, read, vis, ir)


def _enforced(params: dict, m: Methods, read: Read, history: History | None, seed: int | None) -> list[dict]:
    """The asserted expectations of one training seed (None: the first, unsuffixed names; else `, seed <s>`)."""
    named = lambda x: seeded(x, seed) if x else None  # noqa: E731  (None: not configured)
    vis, ir, mx = (named(_rule(m, r)) for r in ("visible", "infrared", "max"))
    out = []
    for dataset, cls in (("fmb", "Person"), ("msrs", "person"), ("m3fd", "People")):
        metric = "AP50" if dataset == DETECTION_DATASET else "IoU"
        refs = {src: _ref(x, dataset, "by_condition", "night", metric, cls) for src, x in (("infrared", ir),
                                                                                          ("visible", vis))}
        out.append(_check(read, f"night people: infrared beats visible ({metric}, {dataset})",
                          "At night the visible image is dark, so people can be found only in infrared.",
                          refs, lambda v: v["infrared"] > v["visible"]))
    for dataset, (a, b) in COLOUR_ONLY.items():
        refs = {f"{src} {c}": _ref(x, dataset, "IoU", c) for src, x in (("visible", vis), ("infrared", ir))
                for c in (a, b)}
        mean = lambda v, a=a, b=b: {f"{s} mean": (v[f"{s} {a}"] + v[f"{s} {b}"]) / 2 for s in ("visible", "infrared")}
        out.append(_check(read, f"colour-only classes: visible beats infrared ({dataset} {a.lower()}/{b.lower()})",
                          f"{a} and {b} share shape and temperature and differ only by visible colour.",
                          refs, lambda v: v["visible mean"] > v["infrared mean"], derive=mean))
    for dataset in (*SCORED_DATASETS, DETECTION_DATASET):
        metric = "mAP50" if dataset == DETECTION_DATASET else "mIoU"
        sources = {"visible": _main_metric(vis, dataset), "infrared": _main_metric(ir, dataset)}
        out.append(_check(read, f"max rule no worse than the weaker source ({metric}, {dataset})",
                          "The max rule keeps the brighter source everywhere, so it keeps what each source shows.",
                          {"max": _main_metric(mx, dataset), **sources}, lambda v: v["max"] >= _weaker(v)))
        if seed is None:
            out.append(_headline_check(read, m, dataset, vis, ir))
    if history is not None:
        out += training_checks(params["runs"], history, seed)
    if seed is not None:
        for e in out:
            e["name"] = f"{e['name'].removesuffix(')')}, seed {seed})"
    return out


def _rows(history: History, run: str) -> tuple[list[dict] | None, str | None]:
    rows = history(run)
    if not rows:
        return None, f"{run}'s history.csv is {'missing' if rows is None else 'empty'}"
    return rows, None


def _training_check(name: str, why: str, runs: list[str], history: History, ratio) -> dict:
    """One expectation over `runs`: ratio(rows) -> a last/first loss ratio (None: too few epochs to tell);
    it holds when every ratio is below 1. Values: the runs checked and the highest ratio (named in why)."""
    ratios, problems = {}, []
    for run in runs:
        rows, problem = _rows(history, run)
        if problem:
            problems.append(problem)
            continue
        r = ratio(rows)
        if r is not None:
            ratios[run] = r
    if problems or not ratios:
        why = f"cannot check: {'; '.join(problems) or 'no run trained long enough'}."
        return {"name": name, "asserted": True, "passed": False if problems else None,
                "values": {"runs": float(len(ratios))}, "why": why}
    worst = max(ratios, key=ratios.get)
    return {"name": name, "asserted": True, "passed": all(r < 1 for r in ratios.values()),
            "values": {"runs": float(len(ratios)), "highest last/first": ratios[worst]}, "why": f"{why} Highest: {worst}."}


def _last_over_first(values: list[float]) -> float | None:
    return values[-1] / values[0] if len(values) >= 2 and values[0] > 0 else None


def _fus_ratio(rows: list[dict]) -> float | None:
    """Last over first epoch-mean training loss (L_fus, or an original's own)."""
    return _last_over_first([v for v in (cell_number(r.get("loss_fus")) for r in rows) if v is not None])


def _csc_ratio(rows: list[dict]) -> float | None:
    """Last over first stage-II epoch's L_csc."""
    return _last_over_first([v for _, v in stage_two_series(rows, "loss_csc")])


def training_checks(runs: dict, history: History, seed: int | None = None) -> list[dict]:
    """What every run's training guarantees, read from its history.csv (a broken training step fails them):
    the epoch-mean training loss falls; L_csc falls in stage II; a run without CSC never trains with it."""
    names = {seeded(n, seed): run for n, run in runs.items()}
    ssvif = [n for n, r in names.items() if r["framework"] == "ssvif"]
    csc = [n for n in ssvif if names[n].get("csc", True)]
    originals = [n for n in names if n not in ssvif]
    out = [_training_check("training lowers L_fus (every SSVIF run, last vs first epoch)",
                           "Each SSVIF run descends Eq. 3 from random weights.",
                           ssvif, history, _fus_ratio),
           _training_check("stage II lowers L_csc (every CSC run, last vs first stage-II epoch)",
                           "H and S start from random weights in stage II and learn to agree (Eq. 2).",
                           csc, history, _csc_ratio)]
    for name in (n for n, r in names.items() if r["framework"] == "ssvif" and not r.get("csc", True)):
        rows, problem = _rows(history, name)
        bad = [] if problem else [r for r in rows if str(r.get("stage")) != "1" or cell_number(r.get("w_csc"))
                                  or cell_number(r.get("loss_csc")) is not None]
        out.append({"name": f"no L_csc without CSC ({name}: stage I throughout, w_csc 0)", "asserted": True,
                    "passed": problem is None and not bad,
                    "values": {"epochs": float(len(rows or [])), "epochs with L_csc": float(len(bad))},
                    "why": f"cannot check: {problem}." if problem else
                    "csc: false trains L_fus alone (the w/o CSC ablation): no stage II, no L_csc, w_csc 0."})
    if originals:
        out.append(_training_check("training lowers its own loss (every original framework, last vs first epoch)",
                                   "Each original descends its own loss from random weights (at most lr_max: "
                                   "above it original SeAFusion's tanh output saturates and its loss rises).",
                                   originals, history, _fus_ratio))
    return out


def _weaker(v: dict) -> float:
    return min(v["visible"], v["infrared"])


# Enforced only what holds on each of the training seeds 0, 1 and 2 (issue 21's policy). The headline
# check does not: with the committed quick profile it fails on FMB seeds 0 and 1 and MSRS seeds 0 and 2
# (README, "Seeds"; docs/measurements.md, "Sanity policy").
HEADLINE_WHY = ("SSVIF is trained to keep both sources, so it should beat at least the weaker one. "
                "Informational, not enforced: it does not hold on every training seed (FMB seed 1: 41.84 mIoU "
                "against visible 52.42; it fails on 4 of the 6 dataset-seeds of FMB and MSRS; README, Seeds).")


def _headline_check(read: Read, m: Methods, dataset: str, vis: str | None, ir: str | None,
                    seed: int | None = None) -> dict:
    """The headline run against both sources on ``dataset`` (every seed's): reported, never enforced
    (HEADLINE_WHY)."""
    metric = "mAP50" if dataset == DETECTION_DATASET else "mIoU"
    named = lambda x: seeded(x, seed) if x else None  # noqa: E731  (None: not configured)
    sources = {"visible": _main_metric(named(vis), dataset), "infrared": _main_metric(named(ir), dataset)}
    suffix = "" if seed is None else f", seed {seed}"
    return _check(read, f"headline SSVIF beats the weaker source ({metric}, {dataset}{suffix})", HEADLINE_WHY,
                  {"headline": _main_metric(named(m.headline(dataset)), dataset), **sources},
                  lambda v: v["headline"] > _weaker(v), asserted=False)


def _informational(params: dict, m: Methods, read: Read, vis: str | None, ir: str | None) -> list[dict]:
    """The further seeds' headline checks, SSVIF vs its original framework, and the headline weighting
    vs each other weighting (never enforced)."""
    out = [_headline_check(read, m, dataset, vis, ir, seed)
           for seed in extra_seeds(params) for dataset in (*SCORED_DATASETS, DETECTION_DATASET)]
    higher = lambda v: v["ssvif"] > v["original"]  # noqa: E731
    for name, run in params["runs"].items():
        original = m.original(run["model"], run["dataset"]) if run["framework"] == "ssvif" else None
        if original is None:
            continue
        d = run["dataset"]
        for metric in ("mIoU", *FUSION_COMPARED):
            out.append(_check(read, f"SSVIF vs original: {name} vs {original} ({metric}, {d})",
                              "SSVIF should improve on the framework it extends (Tables I, II).",
                              {"ssvif": _run_metric(name, d, metric), "original": _run_metric(original, d, metric)},
                              higher, asserted=False))
    head = m.fmb_headline()
    if head is None:
        return out
    for name in weighting_runs(params["runs"]):  # Table III (ii): the headline FMB run's settings but the weighting
        run = params["runs"][name]
        if name == head or run.get("weighting") == m.weighting:
            continue
        out.append(_check(read, f"weighting: {m.weighting} (headline) vs {run['weighting']} (mIoU, fmb)",
                          "In the paper GDWA, the default headline weighting, beats the other weightings (Table III).",
                          {m.weighting: _ref(head, "fmb", "mIoU"), run["weighting"]: _ref(name, "fmb", "mIoU")},
                          lambda v, a=m.weighting, b=run["weighting"]: v[a] > v[b], asserted=False))
    return out


def breakdown_methods(params: dict) -> dict[str, list[str]]:
    """Methods per dataset in the per-condition table: runs scored there, rules, externals."""
    m = Methods.from_params(params)
    return {d: m.scored(d) for d in (*SCORED_DATASETS, DETECTION_DATASET)}


def condition_breakdown(params: dict, read: Read) -> dict[str, dict[str, dict[str, float | None]]]:
    """{dataset: {method: {day|night|fog: mIoU (fmb, msrs) or mAP50 (m3fd), None if absent}}}."""
    return {d: {meth: {c: _lookup(read, *_main_metric(meth, d, "by_condition", c))[0] for c in CONDITIONS}
                for meth in methods}
            for d, methods in breakdown_methods(params).items()}


def required_histories(params: dict) -> list[str]:
    """The runs (seeded names) whose history.csv the training checks read."""
    seen: list[str] = []
    record = lambda run: seen.append(run)  # noqa: E731  (returns None: every history "missing", all still asked)
    for seed in [None, *extra_seeds(params)]:
        training_checks(params["runs"], record, seed)
    return list(dict.fromkeys(seen))


def required_files(params: dict) -> list[str]:
    """Every metric file (relative to the metrics folder) the report reads: recorded, so never out of step."""
    seen: set[str] = set()
    record = lambda rel: seen.add(rel)  # noqa: E731  (returns None: every file "missing", all still asked)
    evaluate_expectations(params, record)
    condition_breakdown(params, record)
    return sorted(seen)


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def sanity_json(expectations: list[dict]) -> dict:
    """reports/metrics/sanity.json: floats to 4 decimals, order kept.

    `dvc metrics show` does not descend into lists, so the counts are also a flat ``summary``.
    """
    asserted = [e for e in expectations if e["asserted"]]
    summary = {"asserted": len(asserted), "asserted_passed": sum(e["passed"] is True for e in asserted),
               "asserted_failed": sum(e["passed"] is False for e in asserted),
               "informational": len(expectations) - len(asserted)}
    return {"expectations": _rounded(expectations), "summary": summary}


def _values(values: dict) -> str:
    return ", ".join(f"{k} {number(v, 2)}" for k, v in values.items())


def describe(e: dict) -> str:
    """One line for a failure message: name, measured values, why."""
    return f"{e['name']}: {_values(e['values'])}; {e['why']}"


def _result(e: dict) -> str:
    if e["passed"] is None:
        return "SKIP" if e["asserted"] else "–"
    if e["asserted"]:
        return "PASS" if e["passed"] else "**FAIL**"
    return "yes" if e["passed"] else "no"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|",
            *["| " + " | ".join(r) + " |" for r in rows], ""]


def render_markdown(expectations: list[dict], breakdown: dict, data_source: str) -> str:
    """reports/sanity.md: enforcement note, expectations (PASS/FAIL), per-condition breakdown, comparisons."""
    asserted = [e for e in expectations if e["asserted"]]
    failed = [e for e in asserted if e["passed"] is False]
    if data_source == "synthetic":
        note = (f"Data: **synthetic**. These expectations hold by construction of the synthetic scenes and are "
                f"**enforced**: {len(failed)} of {len(asserted)} failed"
                + (" and the sanity stage stops the pipeline." if failed else "."))
    else:
        note = (f"Data: **{data_source}**. These expectations hold by construction of the synthetic scenes only; "
                f"on real data they are **informational** ({len(failed)} of {len(asserted)} do not hold).")
    lines = ["# Sanity report", "", note, "", "## Expectations", ""]
    lines += _table(["Expectation", "Measured", "Result", "Why"],
                    [[e["name"], _values(e["values"]), _result(e), e["why"]] for e in asserted])
    lines += ["## Per-condition breakdown", ""]
    for dataset, rows in breakdown.items():
        metric = "mAP50" if dataset == DETECTION_DATASET else "mIoU"
        lines += [f"### {dataset.upper()} ({metric}, %)", ""]
        lines += _table(["Method", *CONDITIONS], [[meth, *(number(v.get(c), 2) for c in CONDITIONS)]
                                                  for meth, v in rows.items()])
    lines += ["## Informational comparisons", "", "Never enforced; *holds* is whether the first value is higher.", ""]
    lines += _table(["Comparison", "Values", "Holds"],
                    [[e["name"], _values(e["values"]), _result(e)] for e in expectations if not e["asserted"]])
    return "\n".join(lines)
