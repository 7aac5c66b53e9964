"""Generation time of the synthetic datasets of a profile (target: quick under 20 s on 2 cores).

python benchmarks/data_generation.py [--profile quick] [--out benchmarks/out/data_generation]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from pipeline.data.registry import DATASETS
from pipeline.data.synthetic import generate_dataset
from pipeline.data.validate import validate_dataset

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    sizes = params[args.profile]["synthetic"]
    rows, total = [], 0.0
    work = Path(tempfile.mkdtemp(prefix="ssvif-datagen-"))
    try:
        for name, spec in DATASETS.items():
            size = sizes[name]
            start = time.perf_counter()
            generate_dataset(spec, work / name, args.seed, size)
            generated = time.perf_counter() - start
            validate_dataset(spec, work / name)
            validated = time.perf_counter() - start - generated
            pairs = sum(int(size[k]) for k in ("train", "test", "count") if k in size)
            megabytes = sum(p.stat().st_size for p in (work / name).rglob("*") if p.is_file()) / 1e6
            rows.append((name, pairs, f"{size['width']}x{size['height']}", generated, validated, megabytes))
            total += generated + validated
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| dataset | pairs | size (WxH) | generate (s) | validate (s) | ms/pair | MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, pairs, wh, gen, val, mb in rows:
        print(f"| {name} | {pairs} | {wh} | {gen:.2f} | {val:.2f} | {1000 * gen / pairs:.0f} | {mb:.1f} |")
    print(f"| total | {sum(r[1] for r in rows)} | | {sum(r[3] for r in rows):.2f} | {sum(r[4] for r in rows):.2f} | | "
          f"{sum(r[5] for r in rows):.1f} |")
    print(f"profile={args.profile} seed={args.seed} total (generate + validate): {total:.2f} s")


if __name__ == "__main__":
    main()
