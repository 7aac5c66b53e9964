"""The SSVIF trainer: stage I (L_fus) then stage II (L_fus + w_csc L_csc), Eq. 2, Sec. III-C.

One loop serves the SSVIF runs and the original frameworks (a different loss, no CSC).
Resumable: a checkpoint of everything (networks, optimiser, weighting, history, selection
state) is written atomically to ``work_dir/last.pt`` after every epoch; a re-run continues
after the last completed epoch. Each epoch reseeds torch from (seed, epoch), so a resumed
run is bit-identical to an uninterrupted one on CPU.
"""
from __future__ import annotations

import copy
import io
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from pipeline.atomic import atomic_write_bytes
from pipeline.losses.csc import csc_loss
from pipeline.train.inputs import model_inputs
from pipeline.weighting.base import Weighting

# loss_fn(model, fused, ir_in, vis_in) -> scalar L_fus
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """Numbers of one training run (params `<profile>.train` / `.original` and `runs.<run>`).

    stage_one_max_epochs: stage II starts at the latest after this many epochs (0: only the
    paper's rule). selection: "val" keeps the fusion model with the lowest validation L_fus
    among the epochs of the final stage (early stopping after `patience` epochs without
    improvement, 0 = never); "last" keeps the last epoch (original frameworks).
    """

    epochs: int
    batch: int
    lr: float
    seed: int = 0
    channels: int = 3
    max_steps_per_epoch: int = 0
    patience: int = 0
    csc: bool = True
    two_stage: bool = True
    stage_one_max_epochs: int = 0
    selection: str = "val"
    gradient_stats: bool = True


def stage_two_starts(fusion_means: list[float]) -> bool:
    """Sec. III-C: stage I ends when the epoch-mean L_fus first rises, L^j > L^{j-1}."""
    return len(fusion_means) >= 2 and fusion_means[-1] > fusion_means[-2]


def _flat_stats(g_fus: list[torch.Tensor], g_csc: list[torch.Tensor]) -> dict[str, float]:
    """Gradient norms, projection coefficient alpha_cf (Eq. 8) and cos phi_cf (Eq. 9)."""
    sums = torch.stack([
        torch.stack([(a.double() ** 2).sum() for a in g_fus]).sum(),
        torch.stack([(b.double() ** 2).sum() for b in g_csc]).sum(),
        torch.stack([(a.double() * b.double()).sum() for a, b in zip(g_fus, g_csc)]).sum(),
    ])
    ff, cc, fc = sums.tolist()  # one device sync per step
    nf, nc = math.sqrt(ff), math.sqrt(cc)
    return {
        "grad_norm_fus": nf,
        "grad_norm_csc": nc,
        "alpha_cf": fc / ff if ff > 0 else float("nan"),
        "cos_phi_cf": fc / (nf * nc) if nf > 0 and nc > 0 else float("nan"),
    }


class SSVIFTrainer:
    """Trains fusion model F (and, in stage II, head H and segmentation model S).

    fusion_model: has features/decode (pipeline.models contract). head, segmenter: None
    when the run has no CSC. loss_fn: L_fus. weighting: w_csc of stage II.
    """

    def __init__(
        self,
        config: TrainConfig,
        fusion_model: nn.Module,
        loss_fn: LossFn,
        head: nn.Module | None = None,
        segmenter: nn.Module | None = None,
        weighting: Weighting | None = None,
        device: str | torch.device | None = None,
        log: Callable[[str], None] | None = None,
    ):
        if config.csc and (head is None or segmenter is None or weighting is None):
            raise ValueError("a CSC run needs a segmentation head, a segmentation model and a weighting")
        self.config = config
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.fusion = fusion_model.to(self.device)
        self.head = head.to(self.device) if head is not None else None
        self.segmenter = segmenter.to(self.device) if segmenter is not None else None
        self.weighting = weighting.to(self.device) if weighting is not None else None
        self.loss_fn = loss_fn
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        params = list(self.fusion.parameters())
        for extra in (self.head, self.segmenter, self.weighting):
            if extra is not None:
                params += list(extra.parameters())
        self.optimizer = torch.optim.Adam(params, lr=config.lr)
        self.history: list[dict] = []
        self.stage_two = config.csc and not config.two_stage
        self.best_val = math.inf
        self.best_state: dict | None = None
        self.best_epoch = 0
        self.since_best = 0
        self.stopped = False

    # ---------------------------------------------------------------- checkpoint
    def _modules(self) -> dict[str, nn.Module]:
        mods = {"fusion": self.fusion, "head": self.head, "segmenter": self.segmenter, "weighting": self.weighting}
        return {k: v for k, v in mods.items() if v is not None}

    def state(self) -> dict:
        return {
            "config": asdict(self.config),
            "modules": {k: m.state_dict() for k, m in self._modules().items()},
            "optimizer": self.optimizer.state_dict(),
            "history": self.history,
            "stage_two": self.stage_two,
            "best_val": self.best_val,
            "best_state": self.best_state,
            "best_epoch": self.best_epoch,
            "since_best": self.since_best,
            "stopped": self.stopped,
        }

    def save(self, path: Path) -> None:
        buf = io.BytesIO()
        torch.save(self.state(), buf)
        atomic_write_bytes(path, buf.getvalue())

    def load(self, path: Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        if state["config"] != asdict(self.config):
            raise ValueError(f"{path} was written by a different configuration: delete it to start over")
        for k, m in self._modules().items():
            m.load_state_dict(state["modules"][k])
        self.optimizer.load_state_dict(state["optimizer"])
        for key in ("history", "stage_two", "best_val", "best_state", "best_epoch", "since_best", "stopped"):
            setattr(self, key, state[key])

    # ---------------------------------------------------------------- steps
    def _forward(self, batch: dict):
        ir, vis = batch["ir"].to(self.device), batch["vis"].to(self.device)
        ir_in, vis_in = model_inputs(ir, vis, self.config.channels)
        features = self.fusion.features(ir_in, vis_in)
        fused = self.fusion.decode(features)
        return features, fused, ir_in, vis_in

    def _step_stage_one(self, batch: dict) -> dict:
        _, fused, ir_in, vis_in = self._forward(batch)
        loss = self.loss_fn(self.fusion, fused, ir_in, vis_in)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss_fus": loss.item(), "loss_total": loss.item()}

    def _step_stage_two(self, batch: dict) -> dict:
        features, fused, ir_in, vis_in = self._forward(batch)
        l_fus = self.loss_fn(self.fusion, fused, ir_in, vis_in)
        size = fused.shape[-2:]
        l_csc = csc_loss(self.head(features, size), self.segmenter(fused))
        self.optimizer.zero_grad(set_to_none=True)
        row: dict = {}
        if self.config.gradient_stats or self.weighting.needs_task_gradients:
            # Two backward passes instead of one: g_fus over F alone (autograd.grad, graph
            # retained), then L_csc's backward fills F, H and S; the weighted sum of the two is
            # exactly the gradient of c_fus L_fus + c_csc L_csc, so nothing is recomputed.
            shared = [p for p in self.fusion.parameters() if p.requires_grad]
            g_fus = torch.autograd.grad(l_fus, shared, retain_graph=True, allow_unused=True)
            g_fus = [torch.zeros_like(p) if g is None else g for p, g in zip(shared, g_fus)]
            l_csc.backward()
            g_csc = [torch.zeros_like(p) if p.grad is None else p.grad for p in shared]
            row.update(_flat_stats(g_fus, g_csc))
            c_fus, c_csc = self.weighting.coefficients(l_fus.item(), l_csc.item(), row["grad_norm_fus"], row["grad_norm_csc"])
            for p, gf, gc in zip(shared, g_fus, g_csc):
                p.grad = c_fus * gf + c_csc * gc
            for module in (self.head, self.segmenter):
                for p in module.parameters():
                    if p.grad is not None:
                        p.grad.mul_(c_csc)
        else:
            c_fus, c_csc = self.weighting.coefficients(l_fus.item(), l_csc.item())
            (c_fus * l_fus + c_csc * l_csc).backward()
        extra = self.weighting.parameter_loss(l_fus, l_csc)
        if extra is not None:
            extra.backward()
        self.optimizer.step()
        row.update(loss_fus=l_fus.item(), loss_csc=l_csc.item(), loss_total=c_fus * l_fus.item() + c_csc * l_csc.item(),
                   w_csc=c_csc / c_fus)
        return row

    @torch.no_grad()
    def validate(self, batches: Iterable[dict]) -> float:
        """Mean L_fus over the validation batches (whole images), networks in eval mode."""
        self.fusion.eval()
        total, count = 0.0, 0
        for batch in batches:
            _, fused, ir_in, vis_in = self._forward(batch)
            total += float(self.loss_fn(self.fusion, fused, ir_in, vis_in)) * fused.shape[0]
            count += fused.shape[0]
        self.fusion.train()
        return total / count if count else float("nan")

    # ---------------------------------------------------------------- epochs
    def _stage_two_means(self) -> tuple[list[float], list[float]]:
        rows = [r for r in self.history if r["stage"] == 2]
        return [r["loss_fus"] for r in rows], [r["loss_csc"] for r in rows]

    def train_epoch(self, epoch: int, batches: Iterable[dict]) -> dict:
        stage = 2 if self.stage_two else 1
        torch.manual_seed(self.config.seed * 100_003 + epoch)  # per-epoch seed: resume == uninterrupted
        for module in self._modules().values():
            module.train()
        if stage == 2:
            self.weighting.begin_epoch(*self._stage_two_means())
        steps: list[dict] = []
        for batch in batches:
            steps.append(self._step_stage_two(batch) if stage == 2 else self._step_stage_one(batch))
            if self.config.max_steps_per_epoch and len(steps) >= self.config.max_steps_per_epoch:
                break
        if not steps:
            raise ValueError("the training set gave no batch: is it empty or smaller than the batch size?")
        keys = {k for s in steps for k in s}
        row = {k: float(sum(s[k] for s in steps if k in s) / sum(1 for s in steps if k in s)) for k in keys}
        row.update(epoch=epoch + 1, stage=stage)
        return row

    def _select(self, row: dict) -> None:
        """Model selection on the validation L_fus within the final stage, with patience."""
        if self.config.selection == "last":
            self.best_state, self.best_epoch = copy.deepcopy(self.fusion.state_dict()), row["epoch"]
            return
        if row["loss_val"] < self.best_val:
            self.best_val, self.best_epoch, self.since_best = row["loss_val"], row["epoch"], 0
            self.best_state = copy.deepcopy(self.fusion.state_dict())
        else:
            self.since_best += 1
        final_stage = self.stage_two or not (self.config.csc and self.config.two_stage)
        if final_stage and self.config.patience and self.since_best >= self.config.patience:
            self.stopped = True

    def fit(
        self,
        train_batches: Callable[[int], Iterable[dict]],
        val_batches: Callable[[], Iterable[dict]],
        work_dir: Path | None = None,
        on_epoch_end: Callable[[int], None] | None = None,
    ) -> dict:
        """Train until `epochs`, early stopping, resuming from ``work_dir/last.pt`` if present.

        train_batches(epoch) gives that epoch's batches (seeded by the epoch); val_batches()
        the validation batches. Returns {"state_dict": selected F weights, "history": rows,
        "best_epoch": int}.
        """
        checkpoint = Path(work_dir) / "last.pt" if work_dir is not None else None
        if checkpoint is not None and checkpoint.exists():
            self.load(checkpoint)
            self.log(f"resumed from {checkpoint} after epoch {len(self.history)}")
        for epoch in range(len(self.history), self.config.epochs):
            if self.stopped:
                break
            start = time.perf_counter()
            row = self.train_epoch(epoch, train_batches(epoch))
            row["loss_val"] = self.validate(val_batches())
            self.history.append(row)
            self._select(row)
            if row["stage"] == 1 and self.config.csc and self.config.two_stage:
                fus = [r["loss_fus"] for r in self.history]
                limit = self.config.stage_one_max_epochs
                if stage_two_starts(fus) or (limit and len(fus) >= limit):
                    self.stage_two = True  # the next epoch is stage II
                    if self.config.selection == "val":  # select among stage-II epochs only
                        self.best_val, self.best_state, self.since_best = math.inf, None, 0
            self.log(_progress_line(row, self.config.epochs, time.perf_counter() - start))
            if checkpoint is not None:
                self.save(checkpoint)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1)
        if self.best_state is None:  # e.g. zero epochs left: keep the current weights
            self.best_state, self.best_epoch = copy.deepcopy(self.fusion.state_dict()), len(self.history)
        return {"state_dict": self.best_state, "history": self.history, "best_epoch": self.best_epoch}


def _progress_line(row: dict, epochs: int, seconds: float) -> str:
    parts = [f"epoch {row['epoch']}/{epochs}", f"stage {'I' * row['stage']}", f"L_fus {row['loss_fus']:.4f}"]
    if "loss_csc" in row:
        parts += [f"L_csc {row['loss_csc']:.4f}", f"w_csc {row['w_csc']:.4g}"]
    if "alpha_cf" in row:
        parts += [f"alpha_cf {row['alpha_cf']:.3g}"]
    parts += [f"val {row['loss_val']:.4f}", f"{seconds:.1f}s"]
    return "  ".join(parts)
