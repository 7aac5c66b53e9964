"""Local pretrained weights (``<profile>.weights.source: local``): validated, then placed atomically.

A segmenter is accepted as a SegMiF ``.pth`` (converted), a transformers ``save_pretrained`` folder
(config.json; e.g. ``nvidia/mit-b3`` downloaded by hand) or a state dict with this project's key names.
It must fill every encoder tensor of ``FusedImageSegmenter(num_classes, **encoder)`` through
:func:`load_local_checkpoint`; decoder tensors it lacks or whose shape differs (the classifier when the
class counts differ) are reinitialised with seed 0 and reported. Nothing ever falls back to scratch.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch

from pipeline.atomic import atomic_dir
from pipeline.data.download import file_digest
from pipeline.downstream.weights_official import WeightsError, atomic_copy, convert, manual_detector, manual_segmenter

ENCODER_FIELDS = ("hidden_sizes", "depths", "num_attention_heads", "sr_ratios")


def _missing(path, key: str, manual: str) -> WeightsError:
    where = f"`{key}` is empty" if not str(path) else f"`{key}` = {path} does not exist"
    return WeightsError(f"`<profile>.weights.source: local` but {where}. Either download the official weights "
                        f"(`<profile>.weights.source: official`), or put the file there.\n{manual}")


def _folder_state(folder: Path, expected: dict) -> dict:
    """Tensors stored in a transformers folder, under the installed transformers' key names."""
    from transformers import SegformerForSemanticSegmentation

    config = json.loads((folder / "config.json").read_text())
    differ = [f"{k}: {config.get(k)} (expected {expected[k]})" for k in ENCODER_FIELDS if config.get(k) != expected[k]]
    if differ:
        raise WeightsError(f"{folder}/config.json is a different encoder: {'; '.join(differ)}. Give a MiT checkpoint "
                           "of the size set in `<profile>.segment.encoder`, or change that setting to match it.")
    try:
        model, info = SegformerForSemanticSegmentation.from_pretrained(folder, local_files_only=True,
                                                                       output_loading_info=True)
    except (OSError, ValueError) as error:  # no or unreadable weights file in the folder
        raise WeightsError(f"{folder} does not load as a transformers SegFormer folder: {error}") from error
    return {k: v for k, v in model.state_dict().items() if k not in set(info["missing_keys"])}


def _is_project_state(path: Path) -> bool:
    """True for a state dict with this project's key names, False for anything else (SegMiF's .pth)."""
    if path.suffix == ".safetensors":
        return True
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickles of objects, truncated files
        raise WeightsError(f"{path} is not a readable tensor checkpoint ({error}).\n{manual_segmenter()}") from error
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return isinstance(state, dict) and any(str(k).startswith(("segformer.", "decode_head.")) for k in state)


def _validated_model(path: Path, num_classes: int, encoder: dict):
    """FusedImageSegmenter loaded from the state-dict file ``path``; WeightsError if an encoder tensor is not."""
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter, load_local_checkpoint

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = FusedImageSegmenter(num_classes, **encoder)
    state = model.segformer.state_dict()
    init = {k: v.clone() for k, v in state.items()}
    with torch.no_grad():  # NaN marks what the checkpoint does not fill
        for value in state.values():
            if value.is_floating_point():
                value.fill_(float("nan"))
        try:
            report = load_local_checkpoint(model, path)
        except (ValueError, RuntimeError, OSError) as error:
            raise WeightsError(f"{path}: {error}") from error
        unfilled = sorted(k for k, v in state.items() if v.is_floating_point() and torch.isnan(v).any())
        encoder_gaps = [k for k in unfilled if k.startswith("segformer.")]
        if encoder_gaps:
            raise WeightsError(
                f"{path} does not fit the encoder `<profile>.segment.encoder` = {encoder}: {len(encoder_gaps)} encoder "
                f"tensors not loaded ({', '.join(encoder_gaps[:8])}{' ...' if len(encoder_gaps) > 8 else ''}); "
                f"checkpoint tensors skipped (wrong name or shape): {report['skipped'][:8]}. Fix: give a checkpoint of "
                "that MiT size, or set `<profile>.segment.encoder` to the checkpoint's size.")
        for key in unfilled:
            state[key].copy_(init[key])
    return model, {"loaded": report["loaded"], "skipped": report["skipped"], "reinitialised": unfilled}


def prepare_local_segmenter(path, out_dir: Path, num_classes: int, encoder: dict, num_heads=(1, 2, 5, 8),
                            sr_ratios=(8, 4, 2, 1)) -> dict:
    """Validate a local segmenter checkpoint and write it as the transformers folder ``out_dir``."""
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter, load_local_checkpoint

    manual = manual_segmenter()
    if list(num_heads) != list(encoder["num_attention_heads"]):
        raise ValueError(f"num_heads {list(num_heads)} differ from encoder['num_attention_heads'] "
                         f"{list(encoder['num_attention_heads'])}")
    if not str(path) or not Path(path).expanduser().exists():
        raise _missing(path, "<profile>.weights.segmenter.local", manual)
    path, out_dir = Path(path).expanduser().resolve(), Path(out_dir)
    expected = {"hidden_sizes": list(encoder["hidden_sizes"]), "depths": list(encoder["depths"]),
                "num_attention_heads": list(num_heads), "sr_ratios": list(sr_ratios)}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.validate-", dir=out_dir.parent) as work:
        work, kind, conversion = Path(work), "state dict", None
        source = path
        if path.is_file() and not _is_project_state(path):
            kind, conversion, source = "SegMiF checkpoint", convert(path, work / "converted", num_heads, sr_ratios,
                                                                   num_classes, manual), work / "converted"
        if source.is_dir():
            if not (source / "config.json").is_file():
                raise WeightsError(f"{source} is a folder without config.json: give a transformers save_pretrained "
                                   f"folder, a state dict or SegMiF's .pth.\n{manual}")
            kind = kind if conversion else "transformers folder"
            from safetensors.torch import save_file

            save_file(_folder_state(source, expected), str(work / "state.safetensors"))
            source = work / "state.safetensors"
        model, report = _validated_model(source, num_classes, encoder)
        with atomic_dir(out_dir) as tmp:
            model.segformer.save_pretrained(tmp)
            check = load_local_checkpoint(FusedImageSegmenter(num_classes, **encoder), tmp)
            if check["skipped"]:  # cannot happen unless transformers renames keys on the way
                raise WeightsError(f"{out_dir}: the written folder does not reload: {check['skipped'][:8]}")
    digest = file_digest(path) if path.is_file() else None
    return {"source": "local", "path": str(path), "kind": kind, "sha256": digest, "conversion": conversion, **report}


def prepare_local_detector(path, out: Path, config_dir: Path | None = None) -> dict:
    """Check that ``path`` is an Ultralytics detection checkpoint and copy it to ``out`` atomically.

    Ultralytics must run offline: pass ``config_dir`` (configure_offline is called) or call
    :func:`pipeline.downstream.yolo_offline.configure_offline` first.
    """
    from pipeline.downstream.yolo_offline import configure_offline

    if not str(path) or not Path(path).expanduser().is_file():
        raise _missing(path, "<profile>.weights.detector.local", manual_detector())
    path = Path(path).expanduser().resolve()
    if config_dir is not None:
        configure_offline(config_dir)
    elif os.environ.get("YOLO_OFFLINE") != "true":
        raise RuntimeError("call pipeline.downstream.yolo_offline.configure_offline() before prepare_local_detector")
    from ultralytics import YOLO

    try:
        task = YOLO(str(path)).task
    except Exception as error:  # Ultralytics raises many types for unreadable checkpoints
        raise WeightsError(f"{path} does not load as an Ultralytics checkpoint ({error}).\n{manual_detector()}") from error
    if task != "detect":
        raise WeightsError(f"{path} is a YOLO '{task}' model, not a detection model.\n{manual_detector()}")
    atomic_copy(path, out)
    return {"source": "local", "path": str(path), "sha256": file_digest(out), "file": str(out), "task": task}
