"""YOLO11n retrained on a method's fused M3FD images (paper Appendix B-C), through Ultralytics.

Call :func:`pipeline.downstream.yolo_offline.configure_offline` before anything here:
Ultralytics is imported lazily inside the functions. The YOLO dataset (image symlinks,
YOLO txt labels, data.yaml with an absolute ``path:`` and no ``download:``) is built inside
the work directory; training resumes from ``train/weights/last.pt`` after an interruption.

Several GPUs: :func:`train` takes a device list (``"0,1,2,3"``, see :func:`train_device`), with
which Ultralytics runs its own DDP (it starts ``torch.distributed.run`` itself; ``batch`` stays the
global batch, split over the GPUs). Validation and the drawn predictions run on one GPU.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.atomic import atomic_write_text
from pipeline.downstream.voc_to_yolo import M3FD_CLASSES, convert_annotation


@dataclass(frozen=True)
class DetectConfig:
    epochs: int
    imgsz: int
    batch: int
    init: str  # "yolo11n.yaml" (scratch) or a local .pt path
    workers: int
    seed: int = 0
    extra: dict = field(default_factory=dict)  # further Ultralytics train arguments (params `extra`)


def train_device(device: str, gpus: int) -> str:
    """The device Ultralytics trains on: ``device`` itself on the CPU or with one GPU, else "0,1,...,gpus-1"."""
    return ",".join(str(i) for i in range(gpus)) if device != "cpu" and gpus > 1 else device


def build_yolo_dataset(root: Path, items: dict[str, Sequence[tuple[str, Path, Path]]],
                       class_names: Sequence[str] = M3FD_CLASSES) -> Path:
    """Write ``root/{images,labels}/<split>/<stem>`` and ``root/data.yaml``; return the YAML path.

    ``items``: split -> [(stem, fused image, VOC annotation)]. Images are symlinked (copied where
    symlinks are unavailable); every image's size must equal its annotation's ``<size>``.
    """
    root = Path(root).resolve()
    for split, rows in items.items():
        images, labels = root / "images" / split, root / "labels" / split
        shutil.rmtree(images, ignore_errors=True)
        shutil.rmtree(labels, ignore_errors=True)
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        for stem, image, annotation in rows:
            width, height, text = convert_annotation(annotation, class_names)
            with Image.open(image) as im:
                if im.size != (width, height):
                    raise ValueError(f"{image} is {im.size[0]}x{im.size[1]} but {annotation} says {width}x{height}: "
                                     "fused images must keep the source size.")
            target = images / f"{stem}{Path(image).suffix}"
            try:
                os.symlink(Path(image).resolve(), target)
            except OSError:
                shutil.copyfile(image, target)
            (labels / f"{stem}.txt").write_text(text)
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(class_names))
    # Further splits (e.g. test_night) by absolute path: Ultralytics resolves only train/val/test itself.
    extra = "".join(f"{split}: {root / 'images' / split}\n" for split in items if split not in ("train", "val", "test"))
    yaml = f"path: {root}\ntrain: images/train\nval: images/val\ntest: images/test\n{extra}names:\n{names}"
    return atomic_write_text(root / "data.yaml", yaml)


def _finished(last: Path) -> bool:
    """Ultralytics marks a completed run's checkpoint with epoch -1 (optimizer stripped)."""
    import torch

    return torch.load(last, map_location="cpu", weights_only=False).get("epoch", -1) == -1


def train(data_yaml: Path, work: Path, cfg: DetectConfig, device: str, amp: bool,
          log: Callable[[str], None] = print) -> Path:
    """Train (or resume, or reuse a finished run) and return the best weights.

    ``device``: "cpu", "0", or a list such as "0,1" (Ultralytics' DDP over those GPUs)."""
    import torch
    import ultralytics.utils.torch_utils as yolo_torch_utils
    from ultralytics import YOLO

    # select_device() resets torch to min(8, cores - 1) threads: keep the count the stage pinned.
    yolo_torch_utils.NUM_THREADS = torch.get_num_threads()
    run = Path(work).resolve() / "train"
    last, best = run / "weights" / "last.pt", run / "weights" / "best.pt"
    if last.exists() and _finished(last) and best.exists():
        log(f"detect: reusing the finished training in {run}")
        return best
    if last.exists():
        log(f"detect: resuming from {last}")
        YOLO(str(last)).train(resume=True, device=device, workers=cfg.workers)
        return best
    init = cfg.init
    if init.endswith(".pt") and not Path(init).is_file():
        raise FileNotFoundError(f"detect init {init} does not exist: give a local weights path in params "
                                f"`<profile>.detect.init`, or `yolo11n.yaml` to train from scratch (no download).")
    shutil.rmtree(run, ignore_errors=True)  # a run without last.pt never finished an epoch: restart it
    YOLO(init).train(data=str(data_yaml), epochs=cfg.epochs, imgsz=cfg.imgsz, batch=cfg.batch, workers=cfg.workers,
                     seed=cfg.seed, deterministic=True, device=device, amp=amp, plots=False, project=str(run.parent),
                     name=run.name, exist_ok=True, verbose=False, **cfg.extra)
    return best


def evaluate(weights: Path, data_yaml: Path, work: Path, cfg: DetectConfig, device: str,
             class_names: Sequence[str] = M3FD_CLASSES, split: str = "test") -> dict:
    """AP@0.5 per class and mAP@0.5 (%) on ``split``; classes without boxes there are null."""
    from ultralytics import YOLO

    metrics = YOLO(str(weights)).val(data=str(data_yaml), split=split, imgsz=cfg.imgsz, batch=cfg.batch,
                                     workers=cfg.workers, device=device, plots=False, project=str(Path(work).resolve()),
                                     name=split, exist_ok=True, verbose=False)
    ap50 = {name: None for name in class_names}
    for i, cls in enumerate(metrics.box.ap_class_index):
        ap50[class_names[int(cls)]] = 100.0 * float(metrics.box.ap50[i])
    present = [v for v in ap50.values() if v is not None]
    return {"mAP50": float(np.mean(present)) if present else None,
            "mAP50_95": 100.0 * float(metrics.box.map),
            "AP50": ap50, "absent_classes": [k for k, v in ap50.items() if v is None]}


def draw_predictions(weights: Path, images: Sequence[Path], cfg: DetectConfig, device: str,
                     class_names: Sequence[str] = M3FD_CLASSES, conf: float = 0.25) -> dict[str, bytes]:
    """Boxes drawn with PIL (byte-stable, unlike Ultralytics' plotting) -> {stem: PNG bytes}."""
    import io

    from ultralytics import YOLO

    model, font = YOLO(str(weights)), ImageFont.load_default()
    colours = [(255, 56, 56), (56, 56, 255), (255, 157, 151), (255, 112, 31), (255, 178, 29), (72, 249, 10)]
    out = {}
    for path in images:
        result = model.predict(str(path), imgsz=cfg.imgsz, conf=conf, device=device, verbose=False)[0]
        with Image.open(path) as im:
            canvas = im.convert("RGB")
        draw = ImageDraw.Draw(canvas)
        boxes = result.boxes
        for xyxy, cls, score in zip(boxes.xyxy.tolist(), boxes.cls.tolist(), boxes.conf.tolist()):
            colour = colours[int(cls) % len(colours)]
            x0, y0, x1, y1 = (round(v) for v in xyxy)
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=2)
            draw.text((x0 + 2, max(y0 - 11, 0)), f"{class_names[int(cls)]} {score:.2f}", fill=colour, font=font)
        buffer = io.BytesIO()
        canvas.save(buffer, format="PNG")
        out[Path(path).stem] = buffer.getvalue()
    return out
