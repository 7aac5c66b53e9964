"""Where a reproduced value comes from: which method a table row means, which metric file holds it.

Everything is derived from the params' runs/rules/externals (passed in as a :class:`Methods`)
so that the tables stage and the DAG generator (``stages.tables.inputs``) agree on the files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import layout
from pipeline.data.registry import DATASETS
from pipeline.report.run_match import FMB_HEADLINE, find_run
from pipeline.report.spec import FUSION_METRICS, TABLES, TableSpec

EFFICIENCY_KEYS = ("params_M", "macs_G", "mem_MB", "cuda_mem_MB")
# The registry's datasets by task: fusion and segmentation are scored on the segmentation datasets
# (the headline dataset first, as the paper reports them), detection on the detection dataset.
SCORED_DATASETS = tuple(sorted((n for n, s in DATASETS.items() if s.task == "segmentation"),
                               key=lambda n: n != FMB_HEADLINE.dataset))
DETECTION_DATASET = next(n for n, s in DATASETS.items() if s.task == "detection")


@dataclass(frozen=True)
class Methods:
    """The methods a report covers: params ``runs`` (name -> run dict), rules, externals, weighting."""

    runs: dict[str, dict]
    rules: tuple[str, ...] = ()
    externals: tuple[str, ...] = ()
    weighting: str = "gdwa"

    @classmethod
    def from_params(cls, params: dict) -> "Methods":
        """The methods of a params.yaml: ``runs``, ``methods.rules``, ``methods.external``, ``weighting``."""
        methods = params["methods"]
        return cls(runs=params["runs"], rules=tuple(methods["rules"]),
                   externals=tuple(methods.get("external") or ()), weighting=params.get("weighting", "gdwa"))

    def scored(self, dataset: str) -> list[str]:
        """Methods scored on ``dataset``: the runs trained on it (on the detection dataset: the runs
        that fuse it), then the rules, then the external methods."""
        if dataset == DETECTION_DATASET:
            runs = [n for n, r in self.runs.items() if r.get("fuse_m3fd")]
        else:
            runs = [n for n, r in self.runs.items() if r["dataset"] == dataset]
        return runs + list(self.rules) + list(self.externals)

    def images(self, method: str, dataset: str, data: str = layout.DATA) -> str:
        """Folder of ``method``'s fused images of ``dataset`` (external methods under data/external)."""
        return layout.fused_dir(method, dataset, self.externals, data)

    def headline(self, dataset: str) -> str | None:
        """The headline run of ``dataset``; on M3FD the headline run that fuses M3FD."""
        return self._one(lambda r: r.get("headline"), dataset, "headline: true")

    def fmb_headline(self) -> str | None:
        """The headline FMB run (Table III's "Ours"): the gradient analysis (Sec. IV-F), the alpha_cf
        figure and the weighting comparison read it."""
        return self.headline(FMB_HEADLINE.dataset)

    def original(self, model: str, dataset: str) -> str | None:
        return self._one(lambda r: r["framework"] == "original" and r["model"] == model, dataset, f"original {model}")

    def _one(self, keep, dataset: str, what: str) -> str | None:
        if dataset == DETECTION_DATASET:
            names = [n for n, r in self.runs.items() if keep(r) and r.get("fuse_m3fd")]
        else:
            names = [n for n, r in self.runs.items() if keep(r) and r["dataset"] == dataset]
        if len(names) > 1:
            raise ValueError(f"params.yaml runs: several {what} runs for {dataset}: {', '.join(names)}; keep one")
        return names[0] if names else None

    def resolve(self, source: tuple | None, dataset: str | None, row: str = "") -> str | None:
        """Method name a row ``source`` (see pipeline.report.spec) stands for, or None if not reproduced.

        ``row`` (the row's name) is only for the error when two runs have a ``("run", settings)`` row's settings.
        """
        if source is None:
            return None
        kind = source[0]
        if kind == "headline":
            return self.headline(dataset)
        if kind == "original":
            return self.original(source[1], dataset)
        if kind == "run":
            return find_run(self.runs, source[1], self.weighting, row)
        if kind == "external":
            return source[1] if source[1] in self.externals else None
        if kind == "efficiency":
            return f"{source[1]}/{source[2]}"
        raise ValueError(f"unknown row source {source!r}")

    def extra_methods(self, spec: TableSpec) -> list[tuple[str, str | None]]:
        """(method, mark group) rows appended to ``spec``: rules (never ranked), then unmatched externals."""
        if not spec.extra_rows:
            return []
        used = {r.source[1] for r in spec.rows if r.source and r.source[0] == "external"}
        return [(r, None) for r in self.rules] + [(e, spec.extra_mark_group) for e in self.externals if e not in used]


def split_key(key: str) -> tuple[str | None, str]:
    """``"fmb/IoU/car"`` -> ("fmb", "IoU/car"); a bare key (Table IV, text) -> (None, key)."""
    head, _, rest = key.partition("/")
    return (head, rest) if rest else (None, key)


def metric_kind(metric: str) -> str | None:
    """Which producer writes ``metric``: fusion | segment | detect | efficiency | None (text column)."""
    if metric in FUSION_METRICS:
        return "fusion"
    if metric == "mIoU" or metric.startswith("IoU/"):
        return "segment"
    if metric == "mAP50" or metric.startswith("AP50/"):
        return "detect"
    if metric in EFFICIENCY_KEYS:
        return "efficiency"
    return None


def metric_file(kind: str, method: str, dataset: str | None) -> str:
    """The metric file of ``method``'s ``kind`` score on ``dataset``, relative to the metrics folder (pipeline.layout)."""
    if kind == "efficiency":
        return layout.EFFICIENCY_FILE
    return layout.metric_file(kind, method if kind == "detect" else layout.scored_key(method, dataset))


# The rule whose segment and detect files record the downstream starting points (its scores exist whatever the runs).
START_RECORDER = "visible"


def start_files(methods: Methods) -> dict[str, str]:
    """{starting point: metric file whose ``init`` names it}, relative to the metrics folder; empty without the rule."""
    if START_RECORDER not in methods.rules:
        return {}
    files = {f"segmenter ({d})": metric_file("segment", START_RECORDER, d) for d in SCORED_DATASETS}
    return {**files, f"detector ({DETECTION_DATASET})": metric_file("detect", START_RECORDER, None)}


def row_label(spec: TableSpec, row: str) -> str:
    return f"Table {spec.number} row {row!r}"


def not_run(source: tuple | None, methods: Methods, row: str = "") -> bool:
    """A ``("run", settings)`` row that no params run fills (it prints "not run")."""
    return bool(source) and source[0] == "run" and methods.resolve(source, None, row) is None


def reproducible(col) -> bool:
    """A column whose cells can hold a reproduced value of a run (not text, not efficiency)."""
    return metric_kind(split_key(col.key)[1]) not in (None, "efficiency")


def table_cells(spec: TableSpec, methods: Methods):
    """Yield (row index, row name, column, method, metric file or None) for every reproducible cell."""
    rows = [(r.source, r.name) for r in spec.rows] + [((("extra", m)), m) for m, _ in methods.extra_methods(spec)]
    for i, (source, name) in enumerate(rows):
        for col in spec.columns:
            dataset, metric = split_key(col.key)
            kind = metric_kind(metric)
            if kind is None:
                continue
            method = source[1] if source and source[0] == "extra" else methods.resolve(source, dataset, row_label(spec, name))
            if method is None:
                continue
            if kind == "efficiency" and not (source and source[0] == "efficiency"):
                continue
            yield i, name, col, method, metric_file(kind, method, dataset)


def required_files(methods: Methods, tables=TABLES) -> list[str]:
    """Every metric file the tables read, relative to the metrics folder, sorted."""
    return sorted({f for spec in tables for *_, f in table_cells(spec, methods)})


class MetricStore:
    """Reads metric files under ``root`` once each; a missing file is an error naming it."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._cache: dict[str, Any] = {}

    def load(self, rel: str) -> Any:
        if rel not in self._cache:
            path = self.root / rel
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is missing: the tables stage reads it; run the stage that writes it "
                    f"(dvc repro) or remove the method from params.yaml")
            self._cache[rel] = json.loads(path.read_text())
        return self._cache[rel]

    def value(self, rel: str, method: str, metric: str) -> float | None:
        """The number for ``metric`` in file ``rel`` (None where the file holds null)."""
        data = self.load(rel)
        try:
            if metric_kind(metric) == "efficiency":
                model, framework = method.split("/")
                return data[model][framework][metric]
            if metric.startswith(("IoU/", "AP50/")):
                group, cls = metric.split("/", 1)
                return data[group][cls]
            return data[metric]
        except KeyError as err:
            raise KeyError(f"{self.root / rel}: no value for {metric!r} (missing key {err}); "
                           f"the producer's output format changed?") from None
