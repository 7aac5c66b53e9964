"""A run's model.pt read back: the fusion model it holds, in eval mode (what the fuse stages need).

Apart from pipeline.train.run, so that fusing depends on the model code only, not on the trainer's.
"""
from __future__ import annotations

from pathlib import Path

import torch


def load_fusion_checkpoint(path: str | Path, device=None):
    """Rebuild the fusion model of a model.pt (name, channels, widths, state_dict); eval mode."""
    from pipeline.models.registry import create_fusion_model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found: train a run first (python -m stages.train)")
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    missing = [k for k in ("name", "channels", "widths", "state_dict") if k not in ckpt]
    if missing:
        raise ValueError(f"{path} is not an ssvif model.pt: missing {', '.join(missing)}")
    model = create_fusion_model(ckpt["name"], int(ckpt["channels"]), **ckpt["widths"])
    model.load_state_dict(ckpt["state_dict"])
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return model.to(device).eval(), int(ckpt["channels"])
