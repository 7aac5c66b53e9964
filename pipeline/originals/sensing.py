"""EMMA's pseudo-sensing networks A_i and A_v (MMIF-EMMA train_AiAv.py), trained on a fusion result.

A_i maps a fused image to the infrared image, A_v to the visible luminance: UNet5 (1 channel), MSE,
Adam (weight decay 0), StepLR(step_size, gamma) per epoch, on patches cut on a grid (crop, stride)
and kept unless the fused patch or the target patch is low-contrast (dataprocessing/MSRS_AiAv.py).
Upstream trains them on other methods' fusion results (DIDFuse, AUIF); here on whatever fusion
result the caller passes. Deterministic on the CPU: initialisation and batch order from the seed.

The folder written by :func:`save_sensing` holds Ai.pth and Av.pth (plain UNet5 state dicts, the
released layout) and sensing.json (settings and provenance).

Where A_i, A_v come from is `<profile>.sensing.source` (:data:`SOURCES`): trained here per dataset
(synthetic, retrain: this module) or EMMA's released pair, one for every dataset (official, local:
pipeline/originals/sensing_release.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pipeline.models.unet5 import STRIDE, WIDTHS, UNet5

FILES = {"ir": "Ai.pth", "vis": "Av.pth"}  # target -> file (A_i senses infrared, A_v visible)
INFO = "sensing.json"
VARIANTS = ("learned", "ideal")

SOURCE_KEY = "<profile>.sensing.source"
LOCAL_KEY = "<profile>.sensing.local.<net>"  # <net>: ai | av
SOURCES: dict[str, str] = {
    "official": "EMMA's released Ai.pth and Av.pth, downloaded (sha256 recorded at the first download), "
                "one pair for every dataset: what EMMA's train_Fusion.py loads",
    "local": f"your copies of the released Ai.pth and Av.pth, given as `{LOCAL_KEY}`",
    "synthetic": "no download: train_AiAv.py's recipe on each dataset's max-rule fusion result at the profile's "
                 "(small) sizes, a stand-in",
    "retrain": "the same training as synthetic, meant at train_AiAv.py's sizes and recorded as the project's "
               "own A_i, A_v (`source: retrain` in sensing.json and the EMMA runs' config.json)",
}
RELEASED = ("official", "local")  # the sources that train nothing
NOT_SETTINGS = ("source", "local")  # `<profile>.sensing` keys that are no training setting
UPSTREAM = "Zhaozixiang1228/MMIF-EMMA@11c4fc3829621ab2eccd23f6e5dc41ec5e8654a0 train_AiAv.py"


@dataclass(frozen=True)
class SensingConfig:
    """params `<profile>.sensing`; the defaults are train_AiAv.py's."""

    variant: str = "learned"
    epochs: int = 40
    crop: int = 128
    stride: int = 200
    batch: int = 64
    lr: float = 1e-4
    step_size: int = 10
    gamma: float = 0.5
    widths: tuple[int, ...] = field(default=WIDTHS)

    @classmethod
    def from_params(cls, block: dict) -> "SensingConfig":
        block = {k: v for k, v in block.items() if k not in NOT_SETTINGS}
        unknown = set(block) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"sensing: unknown settings {sorted(unknown)}; valid: "
                             f"{', '.join([*cls.__dataclass_fields__, *NOT_SETTINGS])}")
        cfg = cls(**{k: tuple(v) if k == "widths" else v for k, v in block.items()})
        if cfg.variant not in VARIANTS:
            raise ValueError(f"sensing.variant={cfg.variant!r}; valid values: {', '.join(VARIANTS)}")
        if cfg.crop % STRIDE:
            raise ValueError(f"sensing.crop={cfg.crop}: UNet5 needs a multiple of {STRIDE}")
        return cfg


def validate_source(value: object) -> str:
    """``value`` if it is a valid sensing source; otherwise an error naming the params key and choices."""
    if value not in SOURCES:
        raise ValueError(f"params.yaml: {SOURCE_KEY}={value!r} is not valid; valid values: {', '.join(SOURCES)}.")
    return str(value)


def sensing_source(block: dict) -> str:
    """The source of a `<profile>.sensing` block (absent: synthetic, the behaviour before the key)."""
    source = validate_source(block.get("source", "synthetic"))
    if source in RELEASED and block.get("variant", "learned") != "learned":
        raise ValueError(f"params.yaml: {SOURCE_KEY}={source!r} with sensing.variant={block.get('variant')!r}: "
                         "the ideal sensors use no networks; set variant: learned, or source: synthetic.")
    return source


def released(block: dict) -> bool:
    """True when A_i, A_v are EMMA's released pair (official, local): no sensing@<dataset> training."""
    return sensing_source(block) in RELEASED


def run_record(block: dict, dataset: str, info: dict) -> dict:
    """What an original EMMA run on `dataset` records of the sensing folder whose sensing.json is `info`
    (without the files' digests); ValueError when the folder is not what `<profile>.sensing` asks for."""
    source = sensing_source(block)
    if source in RELEASED:
        if info.get("source") != source:
            raise ValueError(f"the folder holds {info.get('source') or 'networks trained per dataset'!r}, but "
                             f"{SOURCE_KEY} is {source!r}: run stages.sensing_release again")
        # variant first: RunSettings.learned_sensing reads it from this record
        return {"variant": "learned", "source": source, "widths": info["settings"]["widths"],
                "release": info.get("release")}
    wanted = settings_record(SensingConfig.from_params(block))
    if info.get("dataset") != dataset or info.get("settings") != wanted or info.get("source") in RELEASED:
        raise ValueError(f"trained for {info.get('dataset')!r} with {info.get('settings')}, but the run needs "
                         f"{dataset!r} with {wanted}: run stages.sensing again")
    return {**wanted, "source": source} if source == "retrain" else wanted  # synthetic: the record of before


def is_low_contrast(patch: torch.Tensor, fraction: float = 0.1) -> bool:
    """skimage's is_low_contrast as upstream calls it: (p90 - p10) / p90 < 0.1 (a black patch counts)."""
    p10, p90 = np.percentile(patch.numpy(), [10, 90])
    return bool(p90 <= 0 or (p90 - p10) / p90 < fraction)


def grid_patches(image: torch.Tensor, crop: int, stride: int) -> list[torch.Tensor]:
    """(1, H, W) -> the (1, crop, crop) patches at multiples of stride, row by row (MSRS_AiAv.py)."""
    h, w = image.shape[-2:]
    rows, cols = (h - crop) // stride + 1, (w - crop) // stride + 1
    return [image[:, r * stride:r * stride + crop, c * stride:c * stride + crop]
            for r in range(max(rows, 0)) for c in range(max(cols, 0))]


def sensing_patches(pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], target: str, crop: int,
                    stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), each (N, 1, crop, crop): fused patches and the `target` source's ("ir" | "vis")."""
    index = {"ir": 1, "vis": 2}[target]
    inputs, targets = [], []
    for pair in pairs:
        for f, t in zip(grid_patches(pair[0], crop, stride), grid_patches(pair[index], crop, stride)):
            if not (is_low_contrast(f) or is_low_contrast(t)):
                inputs.append(f)
                targets.append(t)
    if not inputs:
        raise ValueError(f"no {crop}x{crop} patch (stride {stride}) of the fusion result is contrasted enough to "
                         f"train A_{target[0]}: are the images smaller than the crop, or blank?")
    return torch.stack(inputs), torch.stack(targets)


def new_network(widths, seed: int) -> UNet5:
    """UNet5 initialised from `seed` without touching the caller's global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return UNet5(1, tuple(widths))


def train_network(inputs: torch.Tensor, targets: torch.Tensor, cfg: SensingConfig, seed: int,
                  log=None) -> tuple[UNet5, list[float]]:
    """train_AiAv.py's loop: shuffled batches (last one kept, unless one 16x16 patch), MSE, Adam, StepLR per epoch; epoch mean losses."""
    net = new_network(cfg.widths, seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    net.train()
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(inputs), generator=generator)
        total, seen = 0.0, 0
        for start in range(0, len(order), cfg.batch):
            batch = order[start:start + cfg.batch]
            if len(batch) == 1 and cfg.crop == STRIDE:  # BatchNorm cannot train on one 1x1 bottleneck value
                continue
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(net(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            total, seen = total + loss.item() * len(batch), seen + len(batch)
        scheduler.step()
        losses.append(total / seen if seen else float("nan"))
        if log:
            log(f"epoch {epoch + 1}/{cfg.epochs}: mse {losses[-1]:.6f}")
    return net.eval(), losses


def train_sensing(pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], cfg: SensingConfig, seed: int,
                  log=None) -> tuple[UNet5, UNet5, dict]:
    """A_i (fused -> infrared), A_v (fused -> visible Y) from (fused Y, infrared, visible Y) tensors (1, H, W)
    in [0, 1]; returns them in eval mode and a summary (patch counts, epoch losses)."""
    nets, summary = {}, {}
    for k, target in enumerate(FILES):  # A_i from seed, A_v from seed + 1: two independent inits
        inputs, targets = sensing_patches(pairs, target, cfg.crop, cfg.stride)
        name = FILES[target].removesuffix(".pth")
        nets[target], losses = train_network(inputs, targets, cfg, seed * 2 + k,
                                             log=(lambda line, n=name: log(f"{n} {line}")) if log else None)
        summary[name] = {"patches": len(inputs), "mse_per_epoch": losses}
    return nets["ir"], nets["vis"], summary


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of Ai.pth and Av.pth (what a run trained with them records)."""
    return {name: hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest() for name in FILES.values()}


def save_sensing(folder: Path, a_i: UNet5 | None, a_v: UNet5 | None, info: dict) -> None:
    """Ai.pth, Av.pth (learned) and sensing.json into `folder` (the caller's atomic_dir)."""
    from pipeline.atomic import atomic_torch_save, atomic_write_json

    folder = Path(folder)
    if a_i is not None:
        atomic_torch_save(folder / FILES["ir"], a_i.state_dict())
        atomic_torch_save(folder / FILES["vis"], a_v.state_dict())
    atomic_write_json(folder / INFO, info)


def load_info(folder: Path) -> dict:
    path = Path(folder) / INFO
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m stages.sensing` for this dataset first")
    return json.loads(path.read_text())


def load_sensing(folder: Path, device=None) -> tuple[UNet5, UNet5, dict]:
    """Frozen A_i, A_v (eval mode, no gradients to their weights) and sensing.json of a learned folder."""
    info = load_info(folder)
    if info.get("variant") != "learned":
        raise ValueError(f"{folder}: sensing variant {info.get('variant')!r} has no networks to load")
    nets = []
    for name in FILES.values():
        net = UNet5(1, tuple(info["settings"]["widths"]))
        net.load_state_dict(torch.load(Path(folder) / name, map_location="cpu", weights_only=True))
        nets.append(net.to(device or "cpu").eval().requires_grad_(False))
    return nets[0], nets[1], info


def settings_record(cfg: SensingConfig) -> dict:
    return {**asdict(cfg), "widths": list(cfg.widths)}


def load_pairs(spec, raw: Path, stems: list[str], fused: Path, part: str = "train") -> list[tuple]:
    """(fused Y, infrared, visible Y), each (1, H, W) float in [0, 1], of `stems` of split `part`; the fused
    image of a stem is `<fused>/<stem>.png` (an 8-bit RGB fusion result), Y is BT.601 as the 1-channel runs see it."""
    from kornia.color import rgb_to_ycbcr

    from pipeline.data.io import read_infrared, read_visible
    from pipeline.data.raw_layout import pair_paths

    def y(rgb: np.ndarray) -> torch.Tensor:
        return rgb_to_ycbcr(torch.from_numpy(np.array(rgb, copy=True)).float().div(255).permute(2, 0, 1)[None])[0, :1]

    pairs = []
    for stem in stems:
        paths = pair_paths(spec, raw, stem, part)
        ir = torch.from_numpy(np.array(read_infrared(paths["ir"]), copy=True)).float().div(255)[None]
        f, v = y(read_visible(Path(fused) / f"{stem}.png")), y(read_visible(paths["vis"]))  # fused: RGB as well
        if f.shape != ir.shape or v.shape != ir.shape:
            raise ValueError(f"{stem}: fused {tuple(f.shape[-2:])}, infrared {tuple(ir.shape[-2:])} and visible "
                             f"{tuple(v.shape[-2:])} differ in size")
        pairs.append((f, ir, v))
    return pairs
