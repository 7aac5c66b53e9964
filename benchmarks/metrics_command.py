"""Seconds per image of the real `ssvif metrics` command, end to end (process start-up included).

    python benchmarks/metrics_command.py [--images 24] [--repeat 3] [--keep DIR]

Writes ``--images`` 480x640 triples (PNG: 1-channel infrared, RGB visible, RGB fused) to a
temp folder: crops of the M3FD samples in ../shared (random textures without them), fused
by a fixed blend. Runs ``python -m pipeline.cli metrics`` of THIS checkout as a subprocess
(best of ``--repeat``), ``metrics --help`` for the start-up alone and the modules it imports
to score (numpy, OpenCV and the project's metrics; no torch). Wall times depend on the machine's load (printed);
the CPU seconds (user + system) of the command depend on it less.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
M3FD = ROOT.parent / "shared" / "samples" / "m3fd" / "M3FD_Detection"
H, W = 480, 640
# what `ssvif metrics` imports once it scores (its --help imports none of it)
IMPORTS = "import pipeline.metrics.command, pipeline.metrics.scoring"


def _sources(n: int, rng: np.random.Generator):
    """n (infrared gray, visible RGB) uint8 pairs of H x W."""
    stems = sorted(p.stem for p in (M3FD / "Vis").glob("*.png")) if M3FD.is_dir() else []
    for i in range(n):
        if stems:
            vis = np.asarray(Image.open(M3FD / "Vis" / f"{stems[i % len(stems)]}.png").convert("RGB"))
            ir = np.asarray(Image.open(M3FD / "Ir" / f"{stems[i % len(stems)]}.png").convert("L"))
            y, x = rng.integers(0, vis.shape[0] - H + 1), rng.integers(0, vis.shape[1] - W + 1)
            yield ir[y : y + H, x : x + W], vis[y : y + H, x : x + W]
        else:  # smooth texture + noise: no flat regions the metrics would skip
            low = np.kron(rng.random((H // 8, W // 8, 4)), np.ones((8, 8, 1)))
            img = np.clip((0.8 * low + 0.2 * rng.random((H, W, 4))) * 255, 0, 255).astype(np.uint8)
            yield img[..., 0], img[..., 1:]


def write_triples(folder: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for sub in ("ir", "vis", "fused"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i, (ir, vis) in enumerate(_sources(n, rng)):
        # a fixed blend as the "fused" image: 0.6 visible + 0.4 infrared, every channel
        fused = np.round(0.6 * vis + 0.4 * ir[..., None]).astype(np.uint8)
        for sub, img in (("ir", ir), ("vis", vis), ("fused", fused)):
            Image.fromarray(img).save(folder / sub / f"{i:05d}.png")


def _run(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of ``python -m pipeline.cli ARGS`` (or ``python -c CODE``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's pipeline, not an installed one
    cmd = [sys.executable, *(args if args[0] == "-c" else ["-m", "pipeline.cli", *args])]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime


def _best(args: list[str], repeat: int) -> tuple[float, float]:
    runs = [_run(args) for _ in range(repeat)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--repeat", type=int, default=3, help="runs of each command; the best is reported")
    p.add_argument("--keep", type=Path, help="write the images here (reused if present) instead of a temp folder")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        if not (folder / "fused").is_dir():
            write_triples(folder, args.images)
        n = len(list((folder / "fused").glob("*.png")))
        cmd = ["metrics", "--ir", str(folder / "ir"), "--vis", str(folder / "vis"),
               "--fused", str(folder / "fused"), "--out", str(Path(tmp) / "m.json")]
        load = os.getloadavg()[0]
        startup, _ = _best(["metrics", "--help"], args.repeat)
        imports, _ = _best(["-c", IMPORTS], args.repeat)
        total, cpu = _best(cmd, args.repeat)
    print(f"best of {args.repeat}; {os.cpu_count()} CPUs, 1-min load {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'images':>6s} {'total wall s':>12s} {'s/image':>8s} {'CPU s/image':>11s} {'start-up s':>10s} {'imports s':>9s}")
    print(f"{n:6d} {total:12.2f} {total / n:8.3f} {cpu / n:11.3f} {startup:10.2f} {imports:9.2f}")


if __name__ == "__main__":
    main()
