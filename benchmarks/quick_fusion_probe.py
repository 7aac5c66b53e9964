"""Does a run's quick training learn to fuse? Train one run of params.yaml (the project's own trainer) with
overridden settings, fuse its dataset's test images, and score them against the `max` rule's.

    python benchmarks/quick_fusion_probe.py --run ssvif-swinfusion-fmb [--seed 0]
        [--set quick.train.max_steps_per_epoch=32 --set quick.models.swinfusion.embed_dim=24 ...]
        [--test N] [--json FILE] [--save DIR]

Prints one JSON line: training seconds (one thread), the run's mean SSIM, Qabf and dE (CIEDE2000) over the
first N test images, the `max` rule's on the same images, and the ratios the quick targets name
(SSIM and Qabf >= 0.8 x max, 3-channel dE <= 1.2 x max). Needs `dvc repro` to have fetched and split the
data (data/raw, data/splits). Original EMMA runs train with the ideal sensors unless --sensing names A_i, A_v.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCORES = ("SSIM", "Qabf", "dE")


def _override(params: dict, assignment: str) -> None:
    key, _, value = assignment.partition("=")
    node = params
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    if leaf not in node:
        raise click.BadParameter(f"{key}: no such params key")
    node[leaf] = yaml.safe_load(value)


def _scores(fuse, pairs, save: Path | None = None) -> dict:
    from pipeline.metrics.fusion import fusion_metrics

    rows = []
    for i, (ir, vis) in enumerate(pairs):
        fused = fuse(ir, vis)
        if save is not None:  # to look at: [infrared | visible | fused], one PNG per test image
            from PIL import Image

            save.mkdir(parents=True, exist_ok=True)
            row = np.concatenate([np.repeat(ir[..., None], 3, axis=2), vis, fused], axis=1)  # uint8, as read
            Image.fromarray(row).save(save / f"{i:03d}.png")
        rows.append(fusion_metrics(fused, np.repeat(ir[..., None], 3, axis=2), vis, SCORES))
    return {k: float(np.nanmean([r[k] for r in rows])) for k in SCORES}


@click.command()
@click.option("--run", "run_name", required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "sets", multiple=True, help="params override KEY=YAML (repeatable)")
@click.option("--test", "n_test", type=int, default=20, show_default=True, help="test images scored")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
@click.option("--sensing", "sensing_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="an original EMMA run: its learned A_i, A_v (data/sensing/<dataset>); default: the ideal sensors")
@click.option("--save", "save_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="also write [infrared | visible | fused] of each scored test image here")
def main(run_name, seed, sets, n_test, json_out, sensing_dir, save_dir) -> None:
    from pipeline import layout
    from pipeline.data.io import read_infrared, read_visible
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import get_dataset
    from pipeline.fuse.images import model_fuser
    from pipeline.rules.registry import rule_fuser
    from pipeline.train.run import train_run
    from stages.train import settings

    torch.set_num_threads(1)
    params = yaml.safe_load((ROOT / layout.PARAMS_FILE).read_text())
    for assignment in sets:
        _override(params, assignment)
    profile = params["profile"]
    if sensing_dir is None and params["runs"][run_name]["framework"] == "original" and \
            params["runs"][run_name]["model"] == "emma":
        params[profile]["sensing"]["variant"] = "ideal"
    from stages.train import _sensing

    s, sensing = _sensing(settings(params, run_name, seed), sensing_dir)
    dataset = s.run["dataset"]
    spec, split = get_dataset(dataset), json.loads((ROOT / layout.split_file(dataset)).read_text())
    raw = ROOT / layout.raw_dir(dataset)
    start = time.perf_counter()
    result = train_run(s, spec, raw, split, None, log=lambda line: None, sensing=sensing)
    seconds = time.perf_counter() - start
    from pipeline.models.registry import create_fusion_model

    ckpt = result["checkpoint"]
    model = create_fusion_model(ckpt["name"], ckpt["channels"], **ckpt["widths"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    pairs = []
    for stem in split["test"][:n_test]:
        paths = pair_paths(spec, raw, stem, "test")
        pairs.append((read_infrared(paths["ir"]), read_visible(paths["vis"])))
    run_scores, max_scores = _scores(model_fuser(model, ckpt["channels"]), pairs, save_dir), _scores(rule_fuser("max"), pairs)
    hist = result["history"]
    row = {"run": run_name, "seed": seed, "sets": list(sets), "train_s": round(seconds, 1),
           "epochs": len(hist),
           "stage_two_first_epoch": result["config"]["stage_two_first_epoch"], "best_epoch": result["config"]["best_epoch"],
           **{k: round(v, 4) for k, v in run_scores.items()}, **{f"max_{k}": round(v, 4) for k, v in max_scores.items()},
           "ssim_ratio": round(run_scores["SSIM"] / max_scores["SSIM"], 3),
           "qabf_ratio": round(run_scores["Qabf"] / max_scores["Qabf"], 3),
           "de_ratio": round(run_scores["dE"] / max_scores["dE"], 3),
           "loss_fus": [round(r["loss_fus"], 3) for r in hist], "stage": [r["stage"] for r in hist],
           "loss_csc": [round(r["loss_csc"], 3) if "loss_csc" in r else None for r in hist]}
    print(json.dumps(row), flush=True)
    if json_out:
        json_out.write_text(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
