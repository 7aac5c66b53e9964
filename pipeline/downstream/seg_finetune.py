"""Fine-tuning of the segmentation model on a method's fused images (paper Appendix B-B).

Recipe: cross-entropy (ignore 255), AdamW; the encoder is frozen for the first
``freeze_epochs`` epochs at ``lr`` (constant), then everything trains from ``lr_unfrozen``
with cosine annealing to 0 over the remaining epochs; the model with the best validation
mIoU is kept; early stopping (``patience`` epochs without improvement) counts only after
unfreezing, so the recipe's unfrozen phase always runs. Resumes from ``<work>/last.pt``.

Under torchrun (several processes, :mod:`pipeline.distributed`) each step's global batch of
``batch`` crops is the one a single process would draw (same order, same crops); every rank
trains on its interleaved share through DistributedDataParallel, the loss is normalised by the
global count of labelled pixels, and the decode head's BatchNorm sees the global batch, so the
averaged gradient is the single-process gradient up to float rounding. Dropout and drop-path
masks are drawn per rank. Validation is sharded over the ranks and the confusion matrices are
summed (exact integers); only rank 0 writes checkpoints. With one process none of this runs.

``bf16``: the training forward under ``torch.autocast(dtype=bfloat16)`` on CUDA; a no-op on the
CPU. Validation and test predictions stay in fp32.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from pipeline import distributed as dist
from pipeline.downstream.seg_data import IGNORE_INDEX, SegmentationSamples, random_crop
from pipeline.downstream.workdir import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class FinetuneConfig:
    epochs: int
    freeze_epochs: int
    batch: int
    lr: float
    lr_unfrozen: float
    patience: int
    crop: int
    seed: int = 0
    # Cross-entropy weighted by 1/sqrt(class pixel share) of the training labels (the paper's
    # fine-tune is plain cross-entropy; quick uses it so that rare thin classes are learnt at all).
    class_balanced: bool = False


def _optimizer(model, frozen: bool, cfg: FinetuneConfig):
    """AdamW over the head only (frozen encoder) or over everything with cosine annealing."""
    for p in model.encoder.parameters():
        p.requires_grad_(not frozen)
    params = [p for p in model.parameters() if p.requires_grad]
    if frozen:
        return torch.optim.AdamW(params, lr=cfg.lr), None
    opt = torch.optim.AdamW(params, lr=cfg.lr_unfrozen)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs - cfg.freeze_epochs, 1))


def confusion(model, samples: SegmentationSamples, num_classes: int, on_prediction: Callable | None = None,
              groups: Sequence[str | None] | None = None) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """Confusion matrix (num_classes, num_classes), rows = ground truth, over whole images.

    With ``groups`` (one name or None per sample, e.g. its day/night/fog condition) also returns
    {group: matrix} accumulated over that group's images alone."""
    from pipeline.metrics.segmentation import ConfusionMatrix

    cm = ConfusionMatrix(num_classes, ignore_index=IGNORE_INDEX)
    per_group: dict[str, ConfusionMatrix] = {}
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        for index in range(len(samples)):
            image, label = samples[index]
            pred = model(image[None].to(device)).argmax(1)[0].cpu()
            cm.update(pred.numpy(), label.numpy())
            group = groups[index] if groups is not None else None
            if group is not None:
                per_group.setdefault(group, ConfusionMatrix(num_classes, ignore_index=IGNORE_INDEX)).update(
                    pred.numpy(), label.numpy())
            if on_prediction is not None:
                on_prediction(index, pred.numpy().astype(np.uint8))
    if groups is None:
        return np.asarray(cm.matrix)
    return np.asarray(cm.matrix), {g: np.asarray(m.matrix) for g, m in per_group.items()}


def mean_iou(matrix: np.ndarray, class_names) -> float:
    from pipeline.metrics.segmentation import iou_report

    value = iou_report(matrix, list(class_names))["mIoU"]
    return float("nan") if value is None else float(value)


def class_weights(train: SegmentationSamples, num_classes: int) -> torch.Tensor:
    """1/sqrt(pixel share) per class over the training labels, normalised to mean 1 (absent classes: 0)."""
    counts = np.zeros(num_classes, np.float64)
    for index in range(len(train)):
        label = train[index][1].numpy()
        counts += np.bincount(label[label != IGNORE_INDEX].ravel(), minlength=num_classes)[:num_classes]
    share = counts / max(counts.sum(), 1.0)
    weights = np.where(share > 0, 1.0 / np.sqrt(np.maximum(share, 1e-12)), 0.0)
    return torch.tensor(weights / weights[share > 0].mean(), dtype=torch.float32)


def _autocast(device: torch.device, bf16: bool):
    """bf16 autocast on CUDA when asked; otherwise (and always on the CPU) no context at all."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _train_epoch(model, train: SegmentationSamples, cfg: FinetuneConfig, epoch: int, optimizer,
                 weight: torch.Tensor | None = None, bf16: bool = False) -> float:
    device = next(model.parameters()).device
    # Order, crops, flips and dropout depend only on (seed, epoch): a resumed run repeats them exactly.
    generator = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    torch.manual_seed(cfg.seed * 100_003 + epoch)
    model.train()
    order = torch.randperm(len(train), generator=generator).tolist()
    losses = []
    for start in range(0, len(order), cfg.batch):
        crops = [random_crop(*train[i], cfg.crop, generator) for i in order[start:start + cfg.batch]]
        images = torch.stack([c[0] for c in crops]).to(device)
        labels = torch.stack([c[1] for c in crops]).to(device)
        with _autocast(images.device, bf16):
            logits = model(images)
        loss = F.cross_entropy(logits, labels, weight=weight, ignore_index=IGNORE_INDEX)
        if not torch.isfinite(loss):  # an all-ignore crop gives NaN: nothing to learn from it
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else float("nan")


def _size_only(samples: SegmentationSamples, index: int, sizes: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-cost stand-ins of sample ``index``'s image and label (its size from the PNG header, no decoding)."""
    if index not in sizes:
        with Image.open(samples.pairs[index][0]) as im:
            sizes[index] = (im.height, im.width)
    h, w = sizes[index]
    return torch.zeros(1, 1, 1).expand(3, h, w), torch.zeros(1, 1, dtype=torch.long).expand(h, w)


def _train_epoch_ddp(net, train: SegmentationSamples, cfg: FinetuneConfig, epoch: int, optimizer,
                     weight: torch.Tensor | None, bf16: bool, sizes: dict) -> float:
    """One epoch under DDP (``net`` wraps the model): the single-process global batches, sharded."""
    rank, world = dist.rank(), dist.world_size()
    device = next(net.parameters()).device
    generator = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    torch.manual_seed(cfg.seed * 100_003 + epoch + 1_000_003 * rank)  # dropout: one stream per rank
    net.train()
    order = torch.randperm(len(train), generator=generator).tolist()
    losses = []
    for start in range(0, len(order), cfg.batch):
        batch = order[start:start + cfg.batch]
        if len(batch) < world:  # some rank would get no image: this short last batch is dropped on all
            break
        crops = []
        for j, i in enumerate(batch):  # every rank makes every draw, in order: the crops of one process
            if j % world == rank:
                crops.append(random_crop(*train[i], cfg.crop, generator))
            else:
                random_crop(*_size_only(train, i, sizes), cfg.crop, generator)
        images = torch.stack([c[0] for c in crops]).to(device)
        labels = torch.stack([c[1] for c in crops]).to(device)
        with _autocast(device, bf16):
            logits = net(images)
        total = F.cross_entropy(logits, labels, weight=weight, ignore_index=IGNORE_INDEX, reduction="sum")
        valid = labels != IGNORE_INDEX
        count = weight[labels[valid]].sum() if weight is not None else valid.sum()
        # Global (loss sum, labelled-pixel weight): the mean of one process over the whole batch.
        stats = dist.all_reduce_sum(torch.stack([total.detach().float(), count.float()]))
        mean = stats[0] / stats[1]
        optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(mean):  # all crops of the batch unlabelled: no step (on every rank)
            (total * 0.0).backward()  # keeps DDP's gradient reduction in step across the ranks
            continue
        # DDP averages over the ranks: scaling by world/global count gives the global mean's gradient.
        (total * (world / stats[1])).backward()
        optimizer.step()
        losses.append(float(mean))
    return float(np.mean(losses)) if losses else float("nan")


def _val_confusion(model, samples: SegmentationSamples, num_classes: int) -> np.ndarray:
    """Validation confusion matrix; under DDP each rank scores every world-th image and the sums add."""
    if not dist.initialized():
        return confusion(model, samples, num_classes)
    part = torch.utils.data.Subset(samples, range(dist.rank(), len(samples), dist.world_size()))
    device = next(model.parameters()).device
    return dist.all_reduce_sum(torch.from_numpy(confusion(model, part, num_classes)).to(device)).cpu().numpy()


def finetune(model, train: SegmentationSamples, val: SegmentationSamples, class_names, cfg: FinetuneConfig,
             work: Path, log: Callable[[str], None] = print, bf16: bool = False) -> tuple[dict, list[dict]]:
    """Train ``model`` (a FusedImageSegmenter) and return (best state dict, per-epoch history).

    ``work`` holds ``last.pt`` (resume point, written after every epoch) and ``best.pt``.
    A finished run is recognised and not retrained. Inside a process group (torchrun) every rank
    calls this; rank 0 alone writes, all return the same result.
    """
    if len(train) == 0 or len(val) == 0:
        raise ValueError(f"segmentation fine-tuning needs training and validation images (got {len(train)} and {len(val)}).")
    last, best_path = work / "last.pt", work / "best.pt"
    state = load_checkpoint(last)
    if state is not None and state["config"] != asdict(cfg):
        raise RuntimeError(f"{last} was written with another configuration; delete {work} to restart.")
    start, history, best, bad = 0, [], -1.0, 0
    distributed, writer, sizes = dist.initialized(), dist.is_writer(), {}
    if distributed:
        dist.sync_batchnorm(model)  # before any optimiser: on the CPU it replaces the BatchNorm modules
    frozen = cfg.freeze_epochs > 0
    optimizer, scheduler = _optimizer(model, frozen, cfg)
    if state is not None:
        start, history, best, bad = state["epoch"] + 1, state["history"], state["best"], state["bad_epochs"]
        model.load_state_dict(state["model"])
        frozen = state["frozen"]
        optimizer, scheduler = _optimizer(model, frozen, cfg)
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        log(f"segment: resuming after epoch {start} from {last}")
    stopped = state is not None and state.get("stopped", False)
    weight = class_weights(train, len(class_names)).to(next(model.parameters()).device) if cfg.class_balanced else None
    for epoch in range(start, cfg.epochs):
        if stopped:
            break
        if frozen and epoch >= cfg.freeze_epochs:  # unfreeze the encoder: new optimiser at lr_unfrozen
            frozen = False
            optimizer, scheduler = _optimizer(model, frozen, cfg)
        t0 = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        if distributed:  # wrapped anew each epoch: DDP fixes its parameters when built (unfreezing adds some)
            loss = _train_epoch_ddp(dist.wrap(model), train, cfg, epoch, optimizer, weight, bf16, sizes)
        else:
            loss = _train_epoch(model, train, cfg, epoch, optimizer, weight, bf16)
        if scheduler is not None:
            scheduler.step()
        miou = mean_iou(_val_confusion(model, val, len(class_names)), class_names)
        improved = miou > best
        if improved:
            best, bad = miou, 0
            if writer:
                save_checkpoint(best_path, {"model": model.state_dict(), "epoch": epoch})
        elif not frozen:
            bad += 1
        history.append({"epoch": epoch + 1, "frozen": frozen, "lr": float(f"{lr:.4g}"),
                        "loss": round(loss, 4), "val_mIoU": round(miou, 4)})
        stopped = not frozen and bad >= cfg.patience
        log(f"segment: epoch {epoch + 1}/{cfg.epochs} {'frozen' if frozen else 'unfrozen'} lr {lr:.2e} "
            f"loss {loss:.4f} val mIoU {miou:.2f}{' *' if improved else ''} ({time.perf_counter() - t0:.1f} s)"
            + (" early stop" if stopped else ""))
        if writer:
            save_checkpoint(last, {"config": asdict(cfg), "epoch": epoch, "history": history, "best": best,
                                   "bad_epochs": bad, "frozen": frozen, "stopped": stopped,
                                   "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                   "scheduler": None if scheduler is None else scheduler.state_dict()})
    dist.barrier()  # rank 0 has written best.pt
    best_state = load_checkpoint(best_path)
    if best_state is None:
        raise RuntimeError(f"no best model in {work}: training produced no validation score.")
    return best_state["model"], history
