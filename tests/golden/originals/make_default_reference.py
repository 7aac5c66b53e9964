"""Reference output of the default-constructed SwinFusion (quick and paper widths, 1 and 3 channels),
saved before the `fusion_residual` option existed: tests/originals/test_default_unchanged.py
checks that the default still computes these exact bytes.

    PYTHONPATH=. python tests/golden/originals/make_default_reference.py   (from the repository root)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = Path(__file__).with_name("swinfusion_default_before.npz")
# The quick widths the reference was saved with (params.yaml's quick widths have grown since, issue 21).
QUICK_AT_REFERENCE = {"embed_dim": 12, "num_heads": 1, "window_size": 4, "mlp_ratio": 2.0, "depth_extract": 1,
                      "depth_fusion": 1, "depth_recon": 1}


def default_outputs() -> dict[str, np.ndarray]:
    """Seeded default SwinFusion outputs on a 13x19 pair (not a window multiple), per profile and channels."""
    from pipeline.models.registry import create_fusion_model

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    out = {}
    for profile in ("quick", "paper"):
        widths = QUICK_AT_REFERENCE if profile == "quick" else params[profile]["models"]["swinfusion"]
        for ch in (1, 3):
            torch.manual_seed(0)
            model = create_fusion_model("swinfusion", ch, **widths).eval()
            for prm in model.parameters():  # non-trivial weights
                prm.data.add_(0.05 * torch.randn_like(prm))
            g = torch.Generator().manual_seed(1)
            ir, vis = torch.rand(1, ch, 13, 19, generator=g), torch.rand(1, ch, 13, 19, generator=g)
            with torch.no_grad():
                out[f"{profile}_{ch}"] = model(ir, vis).numpy()
    return out


if __name__ == "__main__":
    np.savez_compressed(REFERENCE, **default_outputs())
