"""Paper-scale cost of every compute stage: step time, peak memory, and the GPU-hours of the paper profile.

python benchmarks/paper_scale.py [--device cpu|cuda] [--steps N] [--out FILE] [--cpu-divisor K]

For each stage's unit of work at the paper profile's settings (params.yaml `paper.*`):
- train, SSVIF headline: SwinFusion + SegFormer-B3, batch 10, crop 160, GDWA; stage I (L_fus
  only) and stage II (L_fus + w_csc L_csc, two gradient norms over F every step), with the
  profile's `paper.train.checkpointing` (and, for comparison, without checkpointing);
- train, original frameworks: SwinFusion, EMMA, SeAFusion at `paper.original` (1 channel);
- segment: the fine-tune step of MiT-B3 + all-MLP head at 256 (`paper.segment`), AdamW over
  every parameter (the unfrozen phase: the frozen one costs less), cross-entropy;
- detect: YOLO11n (scratch yaml, 6 M3FD classes), batch `paper.detect.batch` at imgsz
  `paper.detect.imgsz`: forward, Ultralytics' own v8 detection loss, backward, AdamW step; not
  Ultralytics' trainer (no data loading, augmentation, EMA, AMP);
- fuse: the headline SwinFusion on one 768x1024 pair, forward only (PNG writing not included).

Memory, every device: the project's live-tensor tracker (pipeline.models.complexity) over the
second of two steps (gradients and optimizer state exist by then), run under FakeTensorMode at
the full paper size: no memory is allocated and no arithmetic done, and the count is exactly
that of a real CPU run (tests/models/test_memory_tracker.py). Detect is the exception: its
loss's target assignment is data-dependent, so it is tracked on a real CPU step at the timing
batch and scaled linearly to the paper batch (labelled). On CUDA the allocator's peak
(torch.cuda.max_memory_allocated) of real paper-size steps is reported beside it.

Time: on CUDA, real steps at paper size (median of --steps after one warm-up). On CPU a
paper-size step does not fit this kind of machine, so each step is timed at its linear size
divided by --cpu-divisor (batch 1 or 2) and scaled by the pixel count (labelled "CPU, scaled").
GPU-hours: (steps per epoch x epochs x runs) x seconds per step; with a CUDA device the measured
times, otherwise the H200 per-step times of docs/gpu.md (labelled), times the
checkpointing overhead measured here on CPU (recomputation) where checkpointing is on. No early
stopping is assumed. An SSVIF run's stage I (--stage-one-epochs, at the stage-I step) is trained once per
shared stage-I unit (pipeline/train/stage_one.py: every member continues from it) and its remaining epochs
at the stage-II step; the paper ends stage I at the first rise of the epoch-mean L_fus, which no setting
fixes in advance, so the stage-I length is an assumption (printed). --stage-one-epochs 0: every epoch at the
stage-II step and nothing shared (the accounting before the shared stage I).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YOLO_OFFLINE", "true")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

import torch  # noqa: E402
import yaml  # noqa: E402

from pipeline.dag.files import committed_stages  # noqa: E402

MB = 2**20
# Per-step seconds on one NVIDIA H200, fp32 (docs/gpu.md, commit e2de16c, no checkpointing).
GPU_MD_H200 = {"train_ssvif_stage2": 0.553, "train_ssvif_stage1": None, "original_swinfusion": None,
               "original_emma": None, "original_seafusion": None, "segment": 0.139, "detect": 0.06,
               "fuse": 0.29, "fuse_png": 0.15, "ssvif_emma_stage2": 0.323, "ssvif_seafusion_stage2": 0.154}
M3FD_PIXELS = 768 * 1024


# ----------------------------------------------------------------------------- units of work
class Unit:
    """One unit of work: step() and the tensors it uses (modules, optimizer, inputs)."""

    def __init__(self, step, modules, optimizer, inputs):
        self.step, self.modules, self.optimizer, self.inputs = step, modules, optimizer, inputs


def _inputs(shapes: dict, device, seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.rand(*shape, generator=g).to(device) for k, shape in shapes.items()}


def train_unit(params, model, framework, stage, crop, batch, checkpointing, device="cpu") -> Unit:
    """A step of the project's trainer (its strategy's step in stage I or II)."""
    from pipeline.train.run import RunSettings, build_trainer

    p = params["paper"]
    if framework == "original":
        run = {"framework": "original", "model": model, "dataset": "fmb", "channels": 1}
        train = {**p["original"], "crop": crop, "batch": batch, "checkpointing": checkpointing}
        s = RunSettings(name="bench", run=run, widths=p["models"][model], train=train, lr_scale=p["lr_scale"],
                        lr_max=p.get("lr_max"))
    else:
        run = {"framework": "ssvif", "model": model, "dataset": "fmb", "channels": 3, "n_classes": 15, "lambda_color": 20,
               "csc": True, "two_stage": stage == 1}
        train = {**p["train"], "crop": crop, "batch": batch, "checkpointing": checkpointing, "compile": False}
        s = RunSettings(name="bench", run=run, widths=p["models"][model], train=train, segformer=p["segformer"],
                        loss=params["loss"], weightings=params["weightings"], weighting="gdwa",
                        ssvif_lr=params["ssvif_lr"], lr_scale=p["lr_scale"], lr_max=p.get("lr_max"))
    torch.manual_seed(0)
    trainer = build_trainer(s, device=device, log=lambda _: None)
    trainer.strategy.begin_epoch(stage, [])
    inputs = _inputs({"ir": (batch, 1, crop, crop), "vis": (batch, 3, crop, crop)}, device)

    def step():
        trainer.strategy.step(inputs, stage, trainer.optimizer, trainer.config)
    return Unit(step, list(trainer.strategy.modules().values()), trainer.optimizer, inputs)


def segment_unit(params, crop, batch, device="cpu") -> Unit:
    """Fine-tune step of the downstream segmenter, every parameter trained (AdamW, cross-entropy)."""
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter

    seg = params["paper"]["segment"]
    torch.manual_seed(0)
    model = FusedImageSegmenter(15, **seg["encoder"]).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=float(seg["lr_unfrozen"]))
    inputs = _inputs({"img": (batch, 3, crop, crop)}, device)
    inputs["label"] = torch.randint(0, 15, (batch, crop, crop), generator=torch.Generator().manual_seed(1)).to(device)

    def step():
        loss = torch.nn.functional.cross_entropy(model(inputs["img"]), inputs["label"], ignore_index=255)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return Unit(step, [model], opt, inputs)


def detect_unit(params, imgsz, batch, device="cpu") -> Unit:
    """YOLO11n (scratch yaml, 6 classes): forward, Ultralytics' v8 detection loss, backward, AdamW step."""
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel("yolo11n.yaml", nc=6, verbose=False).to(device)
    model.args = get_cfg()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    per = 4  # boxes per image
    g = torch.Generator().manual_seed(0)
    inputs = {"img": torch.rand(batch, 3, imgsz, imgsz, generator=g),
              "batch_idx": torch.arange(batch).repeat_interleave(per).float(),
              "cls": torch.randint(0, 6, (batch * per, 1), generator=g).float(),
              "bboxes": torch.rand(batch * per, 4, generator=g) * 0.3 + 0.2}
    inputs = {k: v.to(device) for k, v in inputs.items()}

    def step():
        loss, _ = model.loss(inputs)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    return Unit(step, [model], opt, inputs)


def fuse_unit(params, height, width, device="cpu") -> Unit:
    """The headline SwinFusion on one pair, forward only (eval, no_grad)."""
    from pipeline.models.registry import create_fusion_model

    torch.manual_seed(0)
    model = create_fusion_model("swinfusion", 3, **params["paper"]["models"]["swinfusion"]).to(device).eval()
    inputs = _inputs({"ir": (1, 3, height, width), "vis": (1, 3, height, width)}, device)

    def step():
        with torch.no_grad():
            model(inputs["ir"], inputs["vis"])
    return Unit(step, [model], None, inputs)


# ----------------------------------------------------------------------------- measuring
def _held(unit: Unit) -> list:
    return [t for m in unit.modules for t in [*m.parameters(), *m.buffers()]] + list(unit.inputs.values())


def fake_peak_mb(unit: Unit) -> float:
    """Tracker peak (MB) of the second of two steps, every tensor fake: nothing allocated, nothing computed."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from pipeline.models.complexity import fake_modules, step_peak_bytes

    mode = FakeTensorMode()
    memo = fake_modules(mode, unit.modules)
    if unit.optimizer is not None:
        for group in unit.optimizer.param_groups:
            group["params"] = [memo[id(p)] for p in group["params"]]
    for key, value in list(unit.inputs.items()):
        unit.inputs[key] = mode.from_tensor(value)  # the step closures read this dict
    return step_peak_bytes(unit.step, _held(unit), 2, mode) / MB


def real_peak_mb(unit: Unit) -> float:
    """Tracker peak (MB) of the second of two real steps."""
    from pipeline.models.complexity import step_peak_bytes

    return step_peak_bytes(unit.step, _held(unit), 2) / MB


def cuda_peak_mb(unit: Unit) -> float:
    """torch.cuda.max_memory_allocated over the second of two real steps (MB)."""
    unit.step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    unit.step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() / MB


def time_steps(unit: Unit, steps: int, device: str) -> float:
    """Median seconds per step, after one warm-up step."""
    times = []
    for i in range(steps + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        unit.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------------------------- the units at paper settings
def units(params, divisor: int):
    """name -> (label, make(device, small) -> Unit, pixel ratio full/small, checkpointed, tracker on fake?)."""
    p = params["paper"]
    tr, og, seg, det = p["train"], p["original"], p["segment"], p["detect"]
    ckpt = bool(tr.get("checkpointing", False))
    out = {}

    def trainer_entry(label, model, framework, stage, crop, batch, checkpointing):
        small_crop = max(32, crop // divisor)
        ratio = (batch * crop * crop) / (1 * small_crop * small_crop)

        def make(device, small):
            c, b = (small_crop, 1) if small else (crop, batch)
            return train_unit(params, model, framework, stage, c, b, checkpointing, device)
        return (label, make, ratio, checkpointing, True)

    b, c = int(tr["batch"]), int(tr["crop"])
    out["train_ssvif_stage1"] = trainer_entry(f"train SSVIF SwinFusion stage I, b{b} c{c}", "swinfusion", "ssvif", 1, c, b, ckpt)
    out["train_ssvif_stage2"] = trainer_entry(f"train SSVIF SwinFusion+SegFormer-B3 stage II GDWA, b{b} c{c}",
                                              "swinfusion", "ssvif", 2, c, b, ckpt)
    out["train_ssvif_stage2_no_ckpt"] = trainer_entry("  same, checkpointing off", "swinfusion", "ssvif", 2, c, b, False)
    out["ssvif_emma_stage2"] = trainer_entry(f"train SSVIF EMMA stage II GDWA, b{b} c{c}", "emma", "ssvif", 2, c, b, ckpt)
    out["ssvif_seafusion_stage2"] = trainer_entry(f"train SSVIF SeAFusion stage II GDWA, b{b} c{c}", "seafusion", "ssvif", 2,
                                                  c, b, ckpt)
    ob, oc = int(og["batch"]), int(og["crop"])
    for model in ("swinfusion", "emma", "seafusion"):
        out[f"original_{model}"] = trainer_entry(f"train original {model}, 1 ch, b{ob} c{oc}", model, "original", 1, oc, ob,
                                                 bool(og.get("checkpointing", False)))
    sb, sc = int(seg["batch"]), int(seg["crop"])
    s_small = sc // divisor

    def make_segment(device, small):
        return segment_unit(params, s_small, 1, device) if small else segment_unit(params, sc, sb, device)
    out["segment"] = (f"segment MiT-B3+head256 fine-tune (unfrozen), b{sb} c{sc}", make_segment,
                      sb * sc * sc / (s_small * s_small), False, True)
    db, dz = int(det["batch"]), int(det.get("imgsz", 640))

    def make_detect(device, small):
        return detect_unit(params, dz, 2 if small else db, device)
    out["detect"] = (f"detect YOLO11n fwd+loss+bwd+AdamW, b{db} {dz}", make_detect, db / 2, False, False)
    h, w = int(p["synthetic"]["m3fd"]["height"]), int(p["synthetic"]["m3fd"]["width"])

    def make_fuse(device, small):
        return fuse_unit(params, h // divisor, w // divisor, device) if small else fuse_unit(params, h, w, device)
    out["fuse"] = (f"fuse one {h}x{w} pair, SwinFusion forward", make_fuse, divisor * divisor, False, True)
    return out


def measure(params, device: str, steps: int, divisor: int, only=None) -> dict:
    """Per unit: tracker peak at paper size (fake), allocator peak (CUDA), seconds per step and their source."""
    results = {}
    for name, (label, make, ratio, ckpt, fake_ok) in units(params, divisor).items():
        if only and name not in only:
            continue
        row = {"label": label, "checkpointing": ckpt}
        t0 = time.perf_counter()
        if fake_ok:
            row["tracker_peak_mb"] = round(fake_peak_mb(make("cpu", False)), 1)
            row["tracker_source"] = "tracker, paper size, FakeTensorMode (nothing allocated)"
        else:  # detect: data-dependent target assignment; real CPU steps at batch 1 and 2, linear in the batch
            p1 = real_peak_mb(detect_unit(params, int(params["paper"]["detect"].get("imgsz", 640)), 1))
            p2 = real_peak_mb(detect_unit(params, int(params["paper"]["detect"].get("imgsz", 640)), 2))
            batch = int(params["paper"]["detect"]["batch"])
            row["tracker_peak_mb"] = round(p1 + (p2 - p1) * (batch - 1), 1)
            row["tracker_source"] = f"tracker, real CPU steps at batch 1 and 2 ({p1:.0f}, {p2:.0f} MB), linear to batch {batch}"
        if device == "cuda":
            unit = make("cuda", False)
            row["cuda_peak_mb"] = round(cuda_peak_mb(unit), 1)
            row["s_per_step"] = round(time_steps(unit, steps, "cuda"), 4)
            row["time_source"] = f"measured here ({torch.cuda.get_device_name()}), paper size"
            del unit
            torch.cuda.empty_cache()
        else:
            row["cuda_peak_mb"] = None
            small = time_steps(make("cpu", True), steps, "cpu")
            row["cpu_s_small"] = round(small, 4)
            row["s_per_step_cpu_scaled"] = round(small * ratio, 3)
            row["time_source"] = f"measured here on CPU at 1/{divisor} linear size (or the batch noted), x{ratio:g} by pixels"
        row["benchmark_s"] = round(time.perf_counter() - t0, 1)
        results[name] = row
        print(f"  {name}: {json.dumps(row)}", file=sys.stderr, flush=True)
    return results


# ----------------------------------------------------------------------------- GPU-hours of the paper profile
def gpu_seconds(results: dict, device: str) -> dict:
    """unit -> (GPU seconds per step, source). CUDA: measured. CPU: gpu.md's H200 figures, the
    checkpointing overhead and the ratios between units taken from this machine's CPU timings."""
    if device == "cuda":
        return {k: (r["s_per_step"], "measured here") for k, r in results.items()}
    cpu = {k: r["s_per_step_cpu_scaled"] for k, r in results.items()}
    overhead = cpu["train_ssvif_stage2"] / cpu["train_ssvif_stage2_no_ckpt"]
    base = GPU_MD_H200["train_ssvif_stage2"]
    out = {}
    for k, r in results.items():
        known = GPU_MD_H200.get(k)
        if k == "train_ssvif_stage2_no_ckpt":
            out[k] = (base, "gpu.md (H200)")
        elif known is not None:
            factor = overhead if r["checkpointing"] else 1.0
            out[k] = (known * factor, "gpu.md (H200)" + (f" x {overhead:.2f} checkpointing (CPU ratio)" if r["checkpointing"] else ""))
        else:  # no GPU figure: gpu.md's stage-II step x this unit's CPU time relative to it
            out[k] = (base * cpu[k] / cpu["train_ssvif_stage2_no_ckpt"], "estimate: gpu.md stage-II step x CPU ratio")
    return out


def _n_images(params, dataset: str) -> tuple[int, int, int]:
    """(train, val, test) image counts of a dataset at the paper profile (its synthetic counts mirror the real sets)."""
    syn = params["paper"]["synthetic"][dataset]
    if dataset == "m3fd":
        fr = params["split"]["m3fd_fractions"]
        n = int(syn["count"])
        return round(n * fr[0]), round(n * fr[1]), n - round(n * fr[0]) - round(n * fr[1])
    val = round(int(syn["train"]) * float(params["split"]["val_fraction"]))
    return int(syn["train"]) - val, val, int(syn["test"])


def _pixels(params, dataset: str) -> int:
    syn = params["paper"]["synthetic"][dataset]
    return int(syn["height"]) * int(syn["width"])


def gpu_hours(params, dag: dict, results: dict, device: str, stage_one_epochs: int = 10) -> dict:
    """Sequential GPU-hours of the paper profile per stage: steps x epochs x runs x seconds per step; an SSVIF
    run's first `stage_one_epochs` at the stage-I step, once per shared stage-I unit."""
    from pipeline.train.stage_one import unit_name

    per_step = gpu_seconds(results, device)
    p = params["paper"]
    fuse_s, fuse_src = per_step["fuse"]
    png_s = 0.0 if device == "cuda" else GPU_MD_H200["fuse_png"]
    m3fd_px = _pixels(params, "m3fd")
    rows = []
    train_s = val_s = 0.0
    detail = []
    shared: set[str] = set()  # stage-I units already costed
    stage1 = per_step.get("train_ssvif_stage1", per_step["train_ssvif_stage2"])[0]
    for name, run in params["runs"].items():
        ds = run["dataset"]
        n_train, n_val, _ = _n_images(params, ds)
        if run["framework"] == "original":
            unit, cfg = f"original_{run['model']}", p["original"]
        else:
            unit = {"swinfusion": "train_ssvif_stage2", "emma": "ssvif_emma_stage2",
                    "seafusion": "ssvif_seafusion_stage2"}[run["model"]] if run.get("csc", True) else "train_ssvif_stage1"
            cfg = p["train"]
        per_epoch, epochs = math.ceil(n_train / int(cfg["batch"])), int(cfg["epochs"])
        steps = per_epoch * epochs
        s = steps * per_step[unit][0]
        key = unit_name(name, run) if run["framework"] == "ssvif" and stage_one_epochs else None
        shared_before = key in shared
        if key is not None:  # its stage I at the stage-I step, paid by the first member of its unit only
            # (the SwinFusion stage-I step stands for EMMA's and SeAFusion's: their stage-II steps bound them above)
            first = min(stage_one_epochs, epochs)
            s = (epochs - first) * per_epoch * per_step[unit][0] + (0 if shared_before else first * per_epoch * stage1)
            steps = (epochs - first) * per_epoch + (0 if shared_before else first * per_epoch)
            shared.add(key)
        validated = epochs  # whole-image validation after every epoch; a shared stage I's epochs validated once
        if key is not None and shared_before:
            validated -= min(stage_one_epochs, epochs)
        v = validated * n_val * fuse_s * _pixels(params, ds) / m3fd_px
        train_s, val_s = train_s + s, val_s + v
        detail.append({"run": name, "unit": unit, "steps": steps, "train_h": round(s / 3600, 2), "val_h": round(v / 3600, 2)})
    rows.append({"stage": "train (steps)", "runs": len(detail), "steps": sum(d["steps"] for d in detail),
                 "hours": train_s / 3600, "source": "per unit, see the unit table"})
    rows.append({"stage": "train (validation passes, whole images)", "runs": len(detail), "steps": None,
                 "hours": val_s / 3600, "source": f"fuse s/image ({fuse_src}) x pixels"})
    seg = dag["segment"]["foreach"]
    seg_steps = sum(math.ceil(_n_images(params, e["dataset"])[0] / int(p["segment"]["batch"])) * int(p["segment"]["epochs"])
                    for e in seg.values())
    rows.append({"stage": "segment (fine-tunes, unfrozen step throughout)", "runs": len(seg), "steps": seg_steps,
                 "hours": seg_steps * per_step["segment"][0] / 3600, "source": per_step["segment"][1]})
    det = dag["detect"]["foreach"]
    det_steps = len(det) * math.ceil(_n_images(params, "m3fd")[0] / int(p["detect"]["batch"])) * int(p["detect"]["epochs"])
    rows.append({"stage": "detect (YOLO11n runs)", "runs": len(det), "steps": det_steps,
                 "hours": det_steps * per_step["detect"][0] / 3600, "source": per_step["detect"][1]})
    fuse = dag["fuse"]["foreach"]
    images = fuse_total = 0.0
    for e in fuse.values():
        ds = e["dataset"]
        n = int(p["synthetic"]["m3fd"]["count"]) if ds == "m3fd" else _n_images(params, ds)[2]
        images += n
        fuse_total += n * (fuse_s + png_s) * _pixels(params, ds) / m3fd_px
    rows.append({"stage": "fuse (forward + PNG)", "runs": len(fuse), "steps": int(images), "hours": fuse_total / 3600,
                 "source": f"{fuse_src}" + (" + 0.15 s PNG (gpu.md)" if png_s else "") + ", x pixels"})
    total = sum(r["hours"] for r in rows)
    for r in rows:
        r["hours"] = round(r["hours"], 2)
    return {"stages": rows, "total_hours": round(total, 1), "runs": detail,
            "gpu_s_per_step": {k: {"s": round(v[0], 4), "source": v[1]} for k, v in per_step.items()},
            "assumptions": "sequential on one GPU; no early stopping; "
                           + (f"SSVIF stage I = the first {stage_one_epochs} epochs at the stage-I step, trained once per "
                              f"shared stage-I unit ({len(shared)} units), the rest at the stage-II step; "
                              if stage_one_epochs else "every SSVIF epoch at the stage-II step, nothing shared; ")
                           + "segmentation at the unfrozen step for all epochs; M3FD fused whole (4200 images); "
                             "tables/metrics not included"}


def print_tables(results: dict, hours: dict, device: str) -> None:
    print(f"\nPer-step figures at paper settings (device: {device}; memory MB = 2^20 B)\n")
    print("| unit | tracker peak MB | CUDA allocator peak MB | s/step | time source |")
    print("| --- | --- | --- | --- | --- |")
    for r in results.values():
        s = r.get("s_per_step", r.get("s_per_step_cpu_scaled"))
        cuda = "n/a (not measured)" if r["cuda_peak_mb"] is None else f"{r['cuda_peak_mb']:.1f}"
        print(f"| {r['label']} | {r['tracker_peak_mb']:.1f} | {cuda} | {s:.3f} | {r['time_source']} |")
    print("\nGPU-hours of the whole paper profile, one GPU, sequential\n")
    print("| stage | runs | steps / images | GPU-hours | seconds from |")
    print("| --- | --- | --- | --- | --- |")
    for r in hours["stages"]:
        print(f"| {r['stage']} | {r['runs']} | {r['steps'] if r['steps'] is not None else ''} | {r['hours']:.2f} | {r['source']} |")
    print(f"| **total** | | | **{hours['total_hours']:.1f}** | |")
    print("\nGPU s/step used: " + ", ".join(f"{k} {v['s']:.3f} ({v['source']})" for k, v in hours["gpu_s_per_step"].items()))


def recompute(source: Path, out: Path, stage_one_epochs: int) -> None:
    """GPU-hours from an earlier run's measured units, with today's params.yaml and DAG (the accounting only)."""
    doc = json.loads(source.read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    device = "cpu" if doc["device"] == "cpu" else "cuda"
    doc["gpu_hours"] = gpu_hours(params, committed_stages(ROOT), doc["units"], device, stage_one_epochs)
    doc["recomputed_from"] = str(source)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print_tables(doc["units"], doc["gpu_hours"], doc["device"])
    print(f"\nunits measured on {doc['device']} ({source}); GPU-hours recomputed; wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=1, help="timed steps per unit (after one warm-up)")
    parser.add_argument("--out", default="paper_scale.json", help="JSON output")
    parser.add_argument("--cpu-divisor", type=int, default=4, help="CPU timing at 1/K of the linear size (batch 1)")
    parser.add_argument("--threads", type=int, default=1, help="CPU intra-op threads")
    parser.add_argument("--only", nargs="*", help="measure only these units (names as in the JSON)")
    parser.add_argument("--stage-one-epochs", type=int, default=10,
                        help="SSVIF epochs assumed in stage I (the paper's rule decides it during training); 0: none shared")
    parser.add_argument("--from", dest="from_json", type=Path, default=None,
                        help="no measuring: the units of an earlier --out JSON (e.g. a CUDA run's), GPU-hours recomputed")
    args = parser.parse_args()
    if args.from_json is not None:
        recompute(args.from_json, Path(args.out), args.stage_one_epochs)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    torch.set_num_threads(args.threads)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    dag = committed_stages(ROOT)  # dvc.yaml and dag/*/dvc.yaml
    results = measure(params, args.device, args.steps, args.cpu_divisor, args.only)
    doc = {"device": args.device if args.device == "cpu" else torch.cuda.get_device_name(), "torch": torch.__version__,
           "threads": args.threads, "steps": args.steps, "units": results,
           "headline_stage2_peak_mb": results.get("train_ssvif_stage2", {}).get("tracker_peak_mb"),
           "headline_stage2_peak_mb_no_checkpointing": results.get("train_ssvif_stage2_no_ckpt", {}).get("tracker_peak_mb"),
           "memory_measure": "tracker: peak bytes of live tensor storages over the second of two steps (pipeline.models."
                             "complexity.step_peak_bytes), MB = 2^20 B; no allocator rounding or kernel workspaces"}
    if not args.only:
        doc["gpu_hours"] = gpu_hours(params, dag, results, args.device, args.stage_one_epochs)
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    if "gpu_hours" in doc:
        print_tables(results, doc["gpu_hours"], doc["device"])
    print(f"\nheadline_stage2_peak_mb = {doc['headline_stage2_peak_mb']}; wrote {args.out}")


if __name__ == "__main__":
    main()
