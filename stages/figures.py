"""Stage `figures`: the paper's qualitative figures and the training curves as deterministic PNGs.

python -m stages.figures --data data --reports reports --out reports/figures/paper
"""
from __future__ import annotations

import json
from pathlib import Path

import click

PARAMS = ["weighting", "runs", "methods"]
DATASETS = ("fmb", "msrs")


def _shown(params: dict, dataset: str) -> list[str]:
    """Methods in the qualitative figures: originals, externals, then the headline run (the paper's Ours)."""
    from stages.tables import _methods

    m = _methods(params)
    names = [m.original(model, dataset) for model in ("swinfusion", "emma", "seafusion")] + list(m.externals)
    return [n for n in names + [m.headline(dataset)] if n]


def _curve_runs(params: dict) -> list[str]:
    """Headline runs and the FMB weighting runs (one w_csc curve each)."""
    from pipeline.report.run_match import weighting_runs

    runs, weighting = params["runs"], set(weighting_runs(params["runs"]))
    return [r for r in runs if runs[r].get("headline") or r in weighting]


def _fused(params: dict, data: str, method: str, dataset: str) -> str:
    base = "external" if method in (params["methods"].get("external") or ()) else "fused"
    return f"{data}/{base}/{method}/{dataset}"


def inputs(params: dict, data: str = "data", reports: str = "reports") -> list[str]:
    """Every file or folder the stage reads (the DAG generator's deps), derived from params."""
    files = {f"{reports}/runs/{r}/history.csv" for r in _curve_runs(params)}
    for d in DATASETS:
        files |= {f"{data}/raw/{d}", f"{data}/splits/{d}.json"}
        for m in _shown(params, d):
            files |= {f"{reports}/figures/segment/{m}-{d}", _fused(params, data, m, d)}
    files |= {f"{reports}/figures/detect/{m}" for m in _shown(params, "m3fd")}
    return sorted(files)


def _first_png(folder: Path) -> Path:
    pngs = sorted(folder.glob("*.png"))
    if not pngs:
        raise click.ClickException(f"{folder} holds no PNG: rerun the stage that writes it")
    return pngs[0]


@click.command()
@click.option("--data", type=click.Path(path_type=Path), required=True, help="data/ (raw, splits, fused, external)")
@click.option("--reports", type=click.Path(path_type=Path), required=True, help="reports/ (runs, figures)")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="folder of the figures")
def main(data, reports, out):
    from stages._params import load_params, run_weighting

    params = load_params()
    from pipeline.atomic import atomic_dir
    from pipeline.data.io import read_infrared, read_label, read_visible
    from pipeline.data.layout import pair_paths
    from pipeline.data.registry import DATASETS as SPECS
    from pipeline.report import figures as F
    from pipeline.report.gradient import read_history, stage_two_series
    from pipeline.report.published import published_alpha_cf

    pngs: dict[str, bytes] = {}
    seg_rows, seg_labels, fus_rows, fus_labels = [], [], [], []
    for d in DATASETS:
        spec, methods = SPECS[d], _shown(params, d)
        preds = [_first_png(reports / "figures" / "segment" / f"{m}-{d}") for m in methods]
        stem = preds[-1].stem  # the headline run's first shown test image
        paths = pair_paths(spec, data / "raw" / d, stem, "test")
        seg_rows.append([read_visible(paths["vis"]), F.colorize(read_label(paths["label"]), spec.palette)]
                        + [F.read_rgb(p) for p in preds])
        seg_labels.append(f"{d.upper()} {stem}")
        test = json.loads((data / "splits" / f"{d}.json").read_text())["test"]
        paths = pair_paths(spec, data / "raw" / d, test[0], "test")
        fus_rows.append([read_infrared(paths["ir"]), read_visible(paths["vis"])]
                        + [F.read_rgb(Path(_fused(params, str(data), m, d)) / f"{test[0]}.png") for m in methods])
        fus_labels.append(f"{d.upper()} {test[0]}")
    names = [m.removesuffix(f"-{d}") for m in methods]  # same method order on both datasets
    pngs["fig3_segmentation.png"] = F.image_grid(seg_rows, seg_labels, ["visible", "label"] + names, "Segmentation (Fig. 3)")
    pngs["fig4_fusion.png"] = F.image_grid(fus_rows, fus_labels, ["infrared", "visible"] + names, "Fusion (Fig. 4)")
    det = _shown(params, "m3fd")
    pngs["fig5_detection.png"] = F.image_grid(
        [[F.read_rgb(_first_png(reports / "figures" / "detect" / m)) for m in det]], ["M3FD"], det, "Detection (Figs. 5/6)")

    histories = {r: read_history((reports / "runs" / r / "history.csv").read_text()) for r in _curve_runs(params)}
    headline = [r for r in histories if params["runs"][r].get("headline")]
    losses = {f"{r}: {c}": F.history_series(histories[r], c) for r in headline
              for c in (histories[r][0] if histories[r] else {}) if c.startswith("loss")}
    switches = {f"stage II ({r})": F.stage_switch(histories[r]) for r in headline}
    pngs["training_curves.png"] = F.curves(losses, "Training losses", "loss",
                                           {k: v for k, v in switches.items() if v is not None}, log=True)
    pngs["w_csc.png"] = F.curves({run_weighting(params, r): F.history_series(h, "w_csc") for r, h in histories.items()
                                  if params["runs"][r]["dataset"] == "fmb"}, "Weight of L_csc per weighting", "w_csc")
    fmb = next((r for r in headline if params["runs"][r]["dataset"] == "fmb"), None)
    alpha = [] if fmb is None else stage_two_series(histories[fmb], "alpha_cf")
    paper = published_alpha_cf()
    pngs["alpha_cf.png"] = F.curves({f"{fmb} (stage II)": alpha, f"paper mean {paper:.2e}": [(x, paper) for x, _ in alpha]},
                                    "Projection coefficient of the CSC gradient (Sec. IV-F)", "alpha_cf")
    with atomic_dir(out) as tmp:
        for name, blob in pngs.items():
            (tmp / name).write_bytes(blob)
    click.echo(f"figures: {len(pngs)} PNGs in {out}")


if __name__ == "__main__":
    main()
