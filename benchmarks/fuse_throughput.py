"""Seconds per image of the fuse loop: the old one-image-at-a-time loop against `fuse_files`.

    python benchmarks/fuse_throughput.py [--run ssvif-swinfusion-fmb] [--dataset fmb] [--images 40]
        [--rule max] [--threads 1] [--repeat 2] [--batch]

Needs data/raw/<dataset>, data/splits/<dataset>.json and (for a run) data/runs/<run>/model.pt.
Variants, each writing into a temp folder, back to back, best of ``--repeat``:
  sequential   the loop before fuse_files: read, fuse, encode and write one image after another
  fuse_files   1 worker (a worker thread, the main thread waiting)
  fuse_files   N workers (N = available cores // threads, what the stages use)
Every variant's PNG bytes are compared with the first's. ``--batch`` also fuses batches of 2
and 4 same-size images and prints their CPU time and the largest pixel difference from
one-at-a-time fusing (why the stages do not batch). Wall times depend on the machine's load
(printed before and after); CPU seconds less so.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", default="ssvif-swinfusion-fmb", help="a run with data/runs/<run>/model.pt")
    p.add_argument("--rule", default=None, help="benchmark a rule (max, mean, visible, infrared) instead of a run")
    p.add_argument("--dataset", default="fmb")
    p.add_argument("--images", type=int, default=40, help="first N stems of the split (train, val, test)")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads, as <profile>.threads")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--batch", action="store_true", help="also measure batched fusing (a run only)")
    return p.parse_args()


def main() -> None:
    args = _args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path.insert(0, str(ROOT))
    import torch

    torch.set_num_threads(args.threads)
    from pipeline.data.io import read_infrared, read_visible, write_png
    from pipeline.data.registry import get_dataset
    from pipeline.rules.registry import rule_fuser
    from pipeline.fuse.images import fuse_files, image_workers, model_fuser, split_pairs

    split = json.loads((ROOT / "data" / "splits" / f"{args.dataset}.json").read_text())
    pairs = split_pairs(get_dataset(args.dataset), ROOT / "data" / "raw" / args.dataset, split)[: args.images]
    if args.rule:
        fuse, label, model = rule_fuser(args.rule), f"rule {args.rule}", None
    else:
        from pipeline.models.model_file import load_fusion_checkpoint

        model, channels = load_fusion_checkpoint(ROOT / "data" / "runs" / args.run / "model.pt", "cpu")
        fuse, label = model_fuser(model, channels), f"run {args.run}"
    n_workers = image_workers(args.threads)

    def sequential(out: Path) -> None:
        for stem, ir, vis in pairs:
            write_png(out / f"{stem}.png", fuse(read_infrared(ir), read_visible(vis)))

    variants = {"sequential (before)": sequential,
                "fuse_files 1 worker": lambda out: fuse_files(fuse, pairs, out, workers=1),
                f"fuse_files {n_workers} workers": lambda out: fuse_files(fuse, pairs, out, workers=n_workers)}
    load0 = os.getloadavg()[0]
    results, reference = {}, None
    for _ in range(args.repeat):
        for name, run in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                wall0, cpu0 = time.perf_counter(), time.process_time()
                run(out)
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                files = {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))}
            reference = reference or files
            best = results.get(name, (float("inf"), float("inf"), True))
            results[name] = (min(best[0], wall), min(best[1], cpu), best[2] and files == reference)
    n = len(pairs)
    print(f"{label} on {args.dataset}: {n} images, threads {args.threads}, {os.cpu_count()} CPUs, "
          f"best of {args.repeat}, 1-min load {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'variant':<24s} {'wall s/img':>10s} {'CPU s/img':>9s} {'speed-up':>8s} {'same bytes':>10s}")
    base = results["sequential (before)"][0]
    for name, (wall, cpu, same) in results.items():
        print(f"{name:<24s} {wall / n:10.3f} {cpu / n:9.3f} {base / wall:8.2f} {str(same):>10s}")
    if args.batch and model is not None:
        _batched(model, channels, pairs, read_infrared, read_visible)


def _batched(model, channels, pairs, read_infrared, read_visible) -> None:
    import torch

    from pipeline.fuse.images import to_tensors
    from pipeline.models.inputs import model_inputs, to_rgb

    tensors = [to_tensors(read_infrared(ir), read_visible(vis)) for _, ir, vis in pairs[:8]]

    def u8(fused, vis):
        return (to_rgb(fused, vis).permute(0, 2, 3, 1) * 255).round().clamp(0, 255).to(torch.uint8)

    with torch.inference_mode():
        cpu0 = time.process_time()
        one = torch.cat([u8(model(*model_inputs(a, b, channels)), b) for a, b in tensors])
        single = (time.process_time() - cpu0) / len(tensors)
        print(f"{'batch':>5s} {'CPU s/img':>9s} {'max |diff|':>10s}")
        print(f"{1:5d} {single:9.3f} {0:10d}")
        ir, vis = torch.cat([a for a, _ in tensors]), torch.cat([b for _, b in tensors])
        for size in (2, 4):
            cpu0 = time.process_time()
            out = torch.cat([u8(model(*model_inputs(ir[i:i + size], vis[i:i + size], channels)), vis[i:i + size])
                             for i in range(0, len(tensors), size)])
            cpu = (time.process_time() - cpu0) / len(tensors)
            print(f"{size:5d} {cpu:9.3f} {(one.int() - out.int()).abs().max().item():10d}")


if __name__ == "__main__":
    main()
