"""Wall time and peak memory of the downstream stages in the quick profile, and a paper-profile estimate.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/downstream.py [--workdir /tmp/bench] [--paper-probe]

Quick: generates the quick synthetic FMB, MSRS and M3FD (stages.fetch + stages.split with this
repo's params.yaml), uses the `visible` source-only baseline as the method (fused = visible
image), and runs `stages.segment` (fmb, msrs) and `stages.detect` each in a fresh subprocess
(wall time, peak RSS from resource.getrusage(RUSAGE_CHILDREN).ru_maxrss of that child only).
--paper-probe: times one training step of the paper-size models on this machine (SegFormer
MiT-B3 + head 256, batch 12 at 512x512; YOLO11n batch 16 at 640) and extrapolates to the
paper recipe per method (steps x epochs; validation not counted), which is what a CPU run
of the paper profile would cost (a GPU is 1-2 orders of magnitude faster).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Run a stage in a fresh process; return (wall s, peak RSS MiB) of that process."""
    env = {**os.environ, "DVC_ROOT": str(REPO), "PYTHONPATH": str(REPO)}
    script = ("import resource, runpy, sys; sys.argv = sys.argv[1:]; "
              "exec('try:\\n runpy.run_module(sys.argv[0], run_name=\"__main__\")\\n"
              "except SystemExit as e:\\n assert not e.code, e.code'); "
              "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    rss = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("MAXRSS")][-1]
    return wall, rss / 1024


def prepare(work: Path) -> None:
    from pipeline.data.io import read_visible, write_png
    from pipeline.data.raw_layout import pair_paths
    from pipeline.data.registry import DATASETS

    for d in ("fmb", "msrs", "m3fd"):
        if not (work / "splits" / f"{d}.json").exists():
            run(["stages.fetch", "--dataset", d, "--out", str(work / "raw" / d),
                 "--conditions", str(work / "conditions" / f"{d}.json")], REPO)
            run(["stages.split", "--dataset", d, "--raw", str(work / "raw" / d), "--out", str(work / "splits" / f"{d}.json")], REPO)
        # A scratch starting point: the benchmark times the fine-tune alone, not a stand-in's training.
        init = work / "weights" / d
        init.mkdir(parents=True, exist_ok=True)
        (init / "weights.json").write_text(json.dumps({"source": "scratch"}))
        split = json.loads((work / "splits" / f"{d}.json").read_text())
        for part in ("train", "val", "test"):
            for stem in split[part]:
                target = work / "fused" / "visible" / d / f"{stem}.png"
                if not target.exists():
                    write_png(target, read_visible(pair_paths(DATASETS[d], work / "raw" / d, stem, part)["vis"]))


def quick(work: Path) -> list[tuple[str, float, float]]:
    rows = []
    for d in ("fmb", "msrs"):
        out = work / "reports"
        args = ["stages.segment", "--method", "visible", "--dataset", d, "--fused", str(work / "fused/visible" / d),
                "--raw", str(work / "raw" / d), "--split", str(work / "splits" / f"{d}.json"),
                "--init", str(work / "weights" / d), "--conditions", str(work / "conditions" / f"{d}.json"),
                "--out", str(out / f"visible-{d}.json"), "--predictions", str(out / f"seg-visible-{d}"),
                "--work", str(work / "work/segment")]
        rows.append((f"segment visible-{d} (fresh)", *run(args, REPO)))
        rows.append((f"segment visible-{d} (re-run, finished work dir)", *run(args, REPO)))
    args = ["stages.detect", "--method", "visible", "--fused", str(work / "fused/visible/m3fd"),
            "--raw", str(work / "raw/m3fd"), "--split", str(work / "splits/m3fd.json"),
            "--init", str(work / "weights/m3fd"), "--conditions", str(work / "conditions/m3fd.json"),
            "--out", str(work / "reports/detect-visible.json"), "--predictions", str(work / "reports/det-visible"),
            "--work", str(work / "work/detect")]
    rows.append(("detect visible (fresh)", *run(args, REPO)))
    rows.append(("detect visible (re-run, finished work dir)", *run(args, REPO)))
    return rows


def _tensor_sum(output):
    """Sum of every tensor in a (nested) model output: a stand-in loss for timing a backward pass."""
    if isinstance(output, dict):
        return sum(_tensor_sum(v) for v in output.values())
    if isinstance(output, (list, tuple)):
        return sum(_tensor_sum(v) for v in output)
    return output.float().sum()


def paper_probe() -> None:
    import torch

    from pipeline.downstream.fused_segmenter import SEGMIF_B3, FusedImageSegmenter

    model = FusedImageSegmenter(15, **SEGMIF_B3)
    x, y = torch.rand(2, 3, 512, 512), torch.randint(0, 15, (2, 512, 512))
    t0 = time.perf_counter()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    step = (time.perf_counter() - t0) * 12 / 2  # batch 12 = 6 x batch 2
    for d, n_train in (("fmb", 1098), ("msrs", 975)):  # 9:1 cut of 1,220 / 1,083 official training images
        hours = step * -(-n_train // 12) * 80 / 3600
        print(f"segment paper {d}: {step:.1f} s/step (batch 12 @512, unfrozen) x {-(-n_train // 12)} steps x 80 epochs "
                     f"= {hours:.0f} h per method on this CPU")
    from pipeline.downstream.yolo_offline import configure_offline

    configure_offline(Path("/tmp/bench-yolo-config"))
    from ultralytics import YOLO

    net = YOLO("yolo11n.yaml").model.train()
    for p in net.parameters():
        p.requires_grad_(True)
    x = torch.rand(2, 3, 640, 640)
    t0 = time.perf_counter()
    _tensor_sum(net(x)).backward()
    step = (time.perf_counter() - t0) * 16 / 2
    hours = step * -(-3360 // 16) * 100 / 3600
    print(f"detect paper: {step:.1f} s/step (batch 16 @640) x {-(-3360 // 16)} steps x 100 epochs = {hours:.0f} h per method on this CPU")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", default="/tmp/ssvif-bench-downstream")
    parser.add_argument("--paper-probe", action="store_true")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    prepare(work)
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; cpu count {os.cpu_count()}")
    print(f"{'stage (quick profile)':55s} {'wall s':>8s} {'peak RSS MiB':>13s}")
    for name, wall, rss in quick(work):
        print(f"{name:55s} {wall:8.1f} {rss:13.0f}")
    for d in ("fmb", "msrs"):
        report = json.loads((work / "reports" / f"visible-{d}.json").read_text())
        print(f"  visible-{d}: mIoU {report['mIoU']} %, {report['epochs_trained']} epochs")
    print(f"  detect visible: mAP50 {json.loads((work / 'reports/detect-visible.json').read_text())['mAP50']} %")
    if args.paper_probe:
        paper_probe()


if __name__ == "__main__":
    main()
