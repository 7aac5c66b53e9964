"""Released original checkpoint -> state dict (and model file) of the project's own model.

    convert("swinfusion", "10000_E.pth")  -> state dict for create_fusion_model("swinfusion", 1, **RELEASED_WIDTHS["swinfusion"])
    write_model_file("swinfusion", "10000_E.pth", "swinfusion-original.pt")  -> `ssvif fuse --checkpoint` reads it
"""
from __future__ import annotations

from pathlib import Path

import torch

from pipeline.originals import keymaps
from pipeline.originals.sources import RELEASED_WIDTHS, RELEASES, describe

ARCHS = tuple(RELEASES)
CHANNELS = 1  # every released original fuses the luminance only
WRAPPERS = ("params", "state_dict", "model")  # keys a training framework may nest the weights under


class ConversionError(ValueError):
    """The checkpoint does not fit the released architecture; the message names every bad key."""


def build_model(arch: str):
    """The project's model at the released configuration, eval mode."""
    from pipeline.models.registry import create_fusion_model

    return create_fusion_model(arch, CHANNELS, **RELEASED_WIDTHS[arch]).eval()


def load_original(path: str | Path) -> dict[str, torch.Tensor]:
    """The checkpoint's state dict, unwrapped as the test scripts do (SwinFusion's checks 'params')."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    for key in WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path}: not a state dict of tensors")
    # DataParallel saves 'module.'-prefixed keys
    return {k.removeprefix("module."): v for k, v in state.items()}


def convert_state(arch: str, original: dict[str, torch.Tensor], source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Original state dict -> the project's, checked key by key against the released configuration."""
    if arch not in RELEASES:
        raise ConversionError(f"unknown original {arch!r}; valid: {', '.join(ARCHS)}")
    expected = build_model(arch).state_dict()
    derived = keymaps.DERIVED.get(arch)
    converted, problems = {}, []
    for key, value in original.items():
        if derived is not None and derived.search(key):
            continue
        target = keymaps.to_project(arch, key)
        if target not in expected:
            problems.append(f"unexpected key {key!r} (the released {arch} has no such weight)")
        elif tuple(value.shape) != tuple(expected[target].shape):
            problems.append(f"wrong shape for {key!r}: {tuple(value.shape)}, "
                            f"the released configuration has {tuple(expected[target].shape)}")
        else:
            converted[target] = value.to(expected[target].dtype)
    problems += [f"missing key {keymaps.to_original(arch, k)!r}" for k in expected if k not in converted]
    if problems:
        raise ConversionError(
            f"{source} is not {arch}'s released checkpoint ({len(problems)} problems):\n  "
            + "\n  ".join(problems)
            + f"\nFix: pass the official file ({describe(arch)}), or `ssvif convert-original` "
              f"with the architecture it was trained as.")
    return converted


def convert(arch: str, checkpoint_path: str | Path) -> dict[str, torch.Tensor]:
    """Released checkpoint file -> state dict for the project's ``arch`` at RELEASED_WIDTHS."""
    return convert_state(arch, load_original(checkpoint_path), source=str(checkpoint_path))


def write_model_file(arch: str, checkpoint_path: str | Path, out: str | Path) -> Path:
    """Write the converted weights as a model file that `ssvif fuse --checkpoint` and
    pipeline.models.model_file.load_fusion_checkpoint read (name, channels, widths, state_dict)."""
    state = convert(arch, checkpoint_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"name": arch, "channels": CHANNELS, "widths": dict(RELEASED_WIDTHS[arch]),
                "state_dict": state, "source": describe(arch)}, out)
    return out
