"""The paper's figures composed from the pipeline's outputs: which methods, images and runs each shows.

Qualitative figures (Figs. 3-6) show, per dataset, the original frameworks, the external methods
and the headline run (the paper's "Ours"); the curves show the headline runs and Table III's
weighting runs. Every file read lies under the ``data`` and ``reports`` folders the figures
stage is given, at the place pipeline.layout names.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline import layout
from pipeline.report.run_match import FMB_HEADLINE, run_settings, weighting_runs
from pipeline.report.sources import DETECTION_DATASET, SCORED_DATASETS, Methods
from pipeline.report.spec import MODELS


def shown_methods(methods: Methods, dataset: str) -> list[str]:
    """Methods in the qualitative figures: originals (the paper's order), externals, then the headline run."""
    names = [methods.original(model, dataset) for model in MODELS.values()] + list(methods.externals)
    return [n for n in names + [methods.headline(dataset)] if n]


def curve_runs(runs: dict) -> list[str]:
    """Headline runs and the FMB weighting runs (one w_csc curve each), params order."""
    weighting = set(weighting_runs(runs))
    return [r for r in runs if runs[r].get("headline") or r in weighting]


def inputs(methods: Methods, data: str = layout.DATA, reports: str = layout.REPORTS) -> list[str]:
    """Every file or folder the figures read, derived from the methods."""
    runs = layout.run_reports_dir(reports)
    files = {layout.history_file(r, runs) for r in curve_runs(methods.runs)}
    for d in SCORED_DATASETS:
        files |= {layout.raw_dir(d, data), layout.split_file(d, data)}
        for m in shown_methods(methods, d):
            files |= {layout.predictions_dir("segment", layout.scored_key(m, d), reports), methods.images(m, d, data)}
    files |= {layout.predictions_dir("detect", m, reports) for m in shown_methods(methods, DETECTION_DATASET)}
    return sorted(files)


def _first_png(folder: Path) -> Path:
    pngs = sorted(folder.glob("*.png"))
    if not pngs:
        raise FileNotFoundError(f"{folder} holds no PNG: rerun the stage that writes it")
    return pngs[0]


def _text(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rerun the stage that writes it (dvc repro)")
    return path.read_text()


def paper_figures(methods: Methods, data: Path, reports: Path) -> dict[str, bytes]:
    """{file name (pipeline.layout.FIGURE_FILES): PNG bytes} of every figure."""
    from pipeline.data.io import read_infrared, read_label, read_visible
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS as SPECS
    from pipeline.report import figures as F
    from pipeline.report.gradient import read_history, stage_two_series
    from pipeline.report.published import published_alpha_cf

    files = layout.FIGURE_FILES
    pngs: dict[str, bytes] = {}
    seg_rows, seg_labels, fus_rows, fus_labels = [], [], [], []
    for d in SCORED_DATASETS:
        spec, shown = SPECS[d], shown_methods(methods, d)
        raw = Path(layout.raw_dir(d, str(data)))
        preds = [_first_png(Path(layout.predictions_dir("segment", layout.scored_key(m, d), str(reports))))
                 for m in shown]
        stem = preds[-1].stem  # the headline run's first shown test image
        paths = pair_paths(spec, raw, stem, "test")
        seg_rows.append([read_visible(paths["vis"]), F.colorize(read_label(paths["label"]), spec.palette)]
                        + [F.read_rgb(p) for p in preds])
        seg_labels.append(f"{d.upper()} {stem}")
        test = json.loads(_text(Path(layout.split_file(d, str(data)))))["test"]
        paths = pair_paths(spec, raw, test[0], "test")
        fus_rows.append([read_infrared(paths["ir"]), read_visible(paths["vis"])]
                        + [F.read_rgb(layout.stem_image(methods.images(m, d, str(data)), test[0])) for m in shown])
        fus_labels.append(f"{d.upper()} {test[0]}")
    names = [m.removesuffix(f"-{d}") for m in shown]  # same method order on both datasets
    pngs[files["segmentation"]] = F.image_grid(seg_rows, seg_labels, ["visible", "label"] + names,
                                               "Segmentation (Fig. 3)")
    pngs[files["fusion"]] = F.image_grid(fus_rows, fus_labels, ["infrared", "visible"] + names, "Fusion (Fig. 4)")
    det = shown_methods(methods, DETECTION_DATASET)
    pngs[files["detection"]] = F.image_grid(
        [[F.read_rgb(_first_png(Path(layout.predictions_dir("detect", m, str(reports))))) for m in det]],
        ["M3FD"], det, "Detection (Figs. 5/6)")

    runs_dir = layout.run_reports_dir(str(reports))
    histories = {r: read_history(_text(Path(layout.history_file(r, runs_dir)))) for r in curve_runs(methods.runs)}
    headline = [r for r in histories if methods.runs[r].get("headline")]
    losses = {f"{r}: {c}": F.history_series(histories[r], c) for r in headline
              for c in (histories[r][0] if histories[r] else {}) if c.startswith("loss")}
    switches = {f"stage II ({r})": F.stage_switch(histories[r]) for r in headline}
    pngs[files["training_curves"]] = F.curves(losses, "Training losses", "loss",
                                              {k: v for k, v in switches.items() if v is not None}, log=True)
    weighting = {r: run_settings(methods.runs[r], methods.weighting).get("weighting") for r in histories}
    pngs[files["w_csc"]] = F.curves({weighting[r]: F.history_series(h, "w_csc") for r, h in histories.items()
                                     if methods.runs[r]["dataset"] == FMB_HEADLINE.dataset},
                                    "Weight of L_csc per weighting", "w_csc")
    fmb = methods.fmb_headline()
    alpha = [] if fmb is None else stage_two_series(histories[fmb], "alpha_cf")
    paper = published_alpha_cf()
    pngs[files["alpha_cf"]] = F.curves(
        {f"{fmb} (stage II)": alpha, f"paper mean {paper:.2e}": [(x, paper) for x, _ in alpha]},
        "Projection coefficient of the CSC gradient (Sec. IV-F)", "alpha_cf")
    return pngs
