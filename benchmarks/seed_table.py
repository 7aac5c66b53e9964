"""The quick targets of issue 21 on every training seed of a finished `dvc repro`: the sanity report's enforced
expectations, each learned run's fusion against the `max` rule, and the headline SSVIF against the sources.

    python benchmarks/seed_table.py [--root .]

Run it after a documented three-seed pipeline run (README, "Seeds"):
    set `seeds: [0, 1, 2]` in params.yaml, then `python -m stages.dag && dvc repro`.
Reads only what that run wrote (reports/metrics/**, params.yaml) and prints markdown tables.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

ROOT = Path(__file__).resolve().parents[1]
SSIM_QABF_SHARE, DE_FACTOR = 0.8, 1.2  # the targets: >= 80 % of the max rule's SSIM and Qabf; dE <= 1.2 x its


def _read(root: Path, rel: str) -> dict | None:
    path = root / "reports/metrics" / rel
    return json.loads(path.read_text()) if path.is_file() else None


def _seed_of(name: str) -> tuple[str, str]:
    base, sep, seed = name.rpartition(", seed ")
    return (base + ")", seed.rstrip(")")) if sep else (name, "0")


def sanity_table(root: Path, seeds: list[int]) -> list[str]:
    doc = _read(root, "sanity.json") or {"expectations": []}
    rows: dict[str, dict[str, str]] = {}
    for e in doc["expectations"]:
        if not e["asserted"]:
            continue
        name, seed = _seed_of(e["name"])
        rows.setdefault(name, {})[seed] = {True: "PASS", False: "**FAIL**", None: "skip"}[e["passed"]]
    lines = ["| enforced expectation | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|" + "---|" * len(seeds)]
    lines += [f"| {n} | " + " | ".join(v.get(str(s), "–") for s in seeds) + " |" for n, v in rows.items()]
    return lines


def _seeded(name: str, seed: int, first: int) -> str:
    return name if seed == first else f"{name}-s{seed}"


def fusion_table(root: Path, params: dict, seeds: list[int]) -> list[str]:
    lines = ["| run | ch | " + " | ".join(f"seed {s}: SSIM / Qabf / dE vs max" for s in seeds) + " |",
             "|---|---|" + "---|" * len(seeds)]
    met = {s: 0 for s in seeds}
    for name, run in params["runs"].items():
        cells = []
        for s in seeds:
            f = _read(root, f"fusion/{_seeded(name, s, seeds[0])}-{run['dataset']}.json")
            m = _read(root, f"fusion/max-{run['dataset']}.json")
            if f is None or m is None:
                cells.append("–")
                continue
            ratios = (f["SSIM"] / m["SSIM"], f["Qabf"] / m["Qabf"], f["dE"] / m["dE"])
            ok = ratios[0] >= SSIM_QABF_SHARE and ratios[1] >= SSIM_QABF_SHARE and (
                run["channels"] != 3 or run["framework"] != "ssvif" or ratios[2] <= DE_FACTOR)
            met[s] += ok
            cells.append(" / ".join(f"{r:.2f}" for r in ratios) + (" ✓" if ok else ""))
        lines.append(f"| {name} | {run['channels']} | " + " | ".join(cells) + " |")
    lines.append("| runs meeting every target | | " + " | ".join(f"{met[s]} of {len(params['runs'])}" for s in seeds) + " |")
    return lines


def downstream_table(root: Path, params: dict, seeds: list[int]) -> list[str]:
    heads = {r["dataset"]: n for n, r in params["runs"].items() if r.get("headline")}
    heads["m3fd"] = heads.get("fmb")
    lines = ["| headline SSVIF vs visible / infrared | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|" + "---|" * len(seeds)]
    for ds, key in (("fmb", "mIoU"), ("msrs", "mIoU"), ("m3fd", "mAP50")):
        cells = []
        for s in seeds:
            rel = (lambda m: f"detect/{_seeded(m, s, seeds[0])}.json") if ds == "m3fd" else \
                (lambda m: f"segment/{_seeded(m, s, seeds[0])}-{ds}.json")
            vals = [(_read(root, rel(m)) or {}).get(key) for m in (heads[ds], "visible", "infrared")]
            if None in vals:
                cells.append("–")
                continue
            cells.append(f"{vals[0]:.2f} vs {vals[1]:.2f} / {vals[2]:.2f}" + (" ✓" if vals[0] > min(vals[1:]) else ""))
        lines.append(f"| {ds} {key} | " + " | ".join(cells) + " |")
    return lines


@click.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=ROOT, show_default=True)
def main(root: Path) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    seeds = [int(s) for s in params.get("seeds", [params["seed"]])]
    print(f"Seeds {seeds} (params.yaml of {root})\n")
    print("\n".join(sanity_table(root, seeds)) + "\n")
    print("Fusion against the `max` rule on each run's test set (ratios; ✓: SSIM and Qabf >= 0.8x, and for a "
          "3-channel SSVIF run dE <= 1.2x)\n")
    print("\n".join(fusion_table(root, params, seeds)) + "\n")
    print("\n".join(downstream_table(root, params, seeds)))


if __name__ == "__main__":
    main()
