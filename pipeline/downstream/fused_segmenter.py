"""The segmentation model provided by SegMiF: MiT encoder + SegFormer all-MLP head (docs/models.md).

Built from a ``SegformerConfig`` through transformers; never downloaded. ImageNet
mean/std normalisation happens inside :class:`FusedImageSegmenter`, so callers pass
fused RGB images in [0, 1].
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# MiT-B3 encoder with SegMiF's head at embedding 256 (paper profile, docs/models.md).
SEGMIF_B3 = dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 18, 3],
                 num_attention_heads=[1, 2, 5, 8], decoder_hidden_size=256)


def segformer_config(num_classes: int, hidden_sizes, depths, num_attention_heads, decoder_hidden_size: int):
    """SegformerConfig of a MiT encoder (sr ratios 8,4,2,1; MLP ratio 4; drop-path 0.1)."""
    from transformers import SegformerConfig

    return SegformerConfig(
        num_labels=int(num_classes), hidden_sizes=list(hidden_sizes), depths=list(depths),
        num_attention_heads=list(num_attention_heads), sr_ratios=[8, 4, 2, 1], mlp_ratios=[4, 4, 4, 4],
        decoder_hidden_size=int(decoder_hidden_size), drop_path_rate=0.1, classifier_dropout_prob=0.1,
        semantic_loss_ignore_index=255,
    )


class FusedImageSegmenter(nn.Module):
    """SegFormer on fused RGB images: (B,3,H,W) in [0,1] -> logits (B,n,H,W) at full resolution."""

    def __init__(self, num_classes: int, hidden_sizes, depths, num_attention_heads, decoder_hidden_size: int):
        super().__init__()
        from transformers import SegformerForSemanticSegmentation

        self.segformer = SegformerForSemanticSegmentation(
            segformer_config(num_classes, hidden_sizes, depths, num_attention_heads, decoder_hidden_size))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def encoder(self) -> nn.Module:
        return self.segformer.segformer

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        logits = self.segformer(pixel_values=(image - self.mean) / self.std).logits
        # SegFormer predicts at 1/4 resolution: upsample (bilinear) to the image size.
        return F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)


def load_local_checkpoint(model: FusedImageSegmenter, path: str | Path) -> dict:
    """Initialise ``model`` from a local checkpoint; never a hub download.

    Accepts a ``save_pretrained`` directory, or a ``torch.save``d / ``.safetensors`` state dict
    (optionally under ``state_dict``/``model``) with the key names of the installed transformers'
    SegformerForSemanticSegmentation (``segformer.stages.*``, ``decode_head.*``) or of this wrapper.
    mmsegmentation checkpoints (SegMiF's release: ``backbone.*``) must be converted first.
    Tensors whose shape differs (e.g. SegMiF's 9-class classifier on 15 classes) are skipped.
    Returns ``{"loaded": n, "skipped": [keys]}``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"segment init_checkpoint {path} does not exist: put the local checkpoint there, or set "
            f"`<profile>.segment.init_checkpoint: ''` in params.yaml to train from scratch.")
    if path.is_dir():  # save_pretrained layout: transformers converts older key names itself
        from transformers import SegformerForSemanticSegmentation

        loaded, info = SegformerForSemanticSegmentation.from_pretrained(
            path, config=model.segformer.config, local_files_only=True, ignore_mismatched_sizes=True,
            output_loading_info=True)
        # transformers re-initialises missing and mismatched tensors at random: report them as skipped
        # (the model keeps its own seeded initialisation there) instead of loading that random draw.
        fresh = set(info["missing_keys"]) | {entry[0] if isinstance(entry, tuple) else entry
                                             for entry in info["mismatched_keys"]}
        state = {k: v for k, v in loaded.state_dict().items() if k not in fresh}
        skipped_up_front = sorted(fresh)
    elif path.suffix == ".safetensors":
        skipped_up_front = []
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        skipped_up_front = []
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    target = model.segformer.state_dict()
    prefix = "segformer."
    usable, skipped = {}, list(skipped_up_front)
    for key, value in state.items():
        key = key[len(prefix):] if key.startswith(prefix + "segformer.") or key.startswith(prefix + "decode_head.") else key
        if key in target and target[key].shape == value.shape:
            usable[key] = value
        else:
            skipped.append(key)
    if not usable:
        raise ValueError(f"{path}: no tensor matches the SegFormer configured in params.yaml "
                         f"(`<profile>.segment.encoder`); is it a SegFormer checkpoint of that size?")
    model.segformer.load_state_dict(usable, strict=False)
    return {"loaded": len(usable), "skipped": sorted(skipped)}
