"""EMMA's released pseudo-sensing networks A_i, A_v (`<profile>.sensing.source` official or local).

EMMA's README (github.com/Zhaozixiang1228/MMIF-EMMA, README.md at 043dfd8, "Testing / 1. Pre-trained
models"): "Pre-trained models are available in './model/EMMA.pth', './model/Ai.pth' and
'./model/Av.pth'", the U-Fuser and the pseudo-sensing module A_i, A_v; its train_Fusion.py loads
model/Ai.pth and model/Av.pth into `UNet5()` (nets/Unet5.py, input_channel=1) and keeps them frozen.
So `official` fetches them like EMMA.pth (pipeline/originals/official.py: raw.githubusercontent.com at
the branch, a Git LFS pointer refused, HTTP Range resume, sha256 recorded at the first download and
checked afterwards, atomic placement); a Google Drive folder holding Ai.pth and Av.pth (a URL or an
id) can be given instead, and the files are then found there by name with the Drive machinery of
pipeline/downstream/weights_official.py. One pair serves every dataset, as upstream trains every
fusion model with the same A_i, A_v (trained on MSRS fusion results).

The released state dicts load into the project's UNet5 at the released widths (pipeline/models/unet5.py
keeps upstream's attribute names); :func:`released_state` names every missing, unexpected or
wrongly shaped key.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Callable

import torch

from pipeline.models.unet5 import WIDTHS, UNet5
from pipeline.originals.sensing import FILES, INFO, LOCAL_KEY, SOURCE_KEY
from pipeline.originals.sources import Release

NETS = {"ai": "ir", "av": "vis"}  # `<profile>.sensing.local.<net>` -> the source it senses (FILES' key)
RELEASES = {net: Release("Zhaozixiang1228/MMIF-EMMA", "main", f"model/{FILES[target]}", "11c4fc3",
                         f"EMMA's pseudo-sensing network {FILES[target].removesuffix('.pth')}, UNet5(input_channel=1)")
            for net, target in NETS.items()}
RELEASED_WIDTHS = WIDTHS  # nets/Unet5.py: 64, 128, 256, 512, 1024


class SensingReleaseError(ValueError):
    """The released A_i / A_v cannot be read or do not fit UNet5; the message names the key and the way out."""


def cached_name(net: str) -> str:
    """File name in `<downloads>/originals/`: beside the originals' checkpoints, unambiguous."""
    return f"emma-{RELEASES[net].filename}"


def manual(net: str, drive_folder: str | None = None) -> str:
    """What to do by hand when the download fails."""
    r = RELEASES[net]
    where = (f"the Google Drive folder {drive_folder}" if drive_folder else
             f"{r.url} (or clone https://github.com/{r.repo}: the file is {r.path})")
    return (f"Manual alternative: download {r.filename} from {where} yourself, then set `{SOURCE_KEY}: local` and "
            f"`{LOCAL_KEY.replace('<net>', net)}: /path/to/{r.filename}` (both Ai.pth and Av.pth).")


def fetch_released(downloads_dir: str | Path, base_url: str | None = None, drive_folder: str | None = None,
                   log: Callable[[str], None] = print) -> dict[str, tuple[Path, str]]:
    """{net: (path, sha256)} of the released Ai.pth and Av.pth in `<downloads_dir>/originals/`, downloaded if needed.

    ``base_url``: a mirror with the repository's layout (tests: a local server); ``drive_folder``: a Google
    Drive folder (URL or id) holding both files, found by name.
    """
    from pipeline.originals.official import fetch_release

    files = {}
    for net, r in RELEASES.items():
        fetch, where = None, None
        if drive_folder and not base_url:
            from pipeline.downstream.weights_official import _drive_fetch  # SegMiF's Drive folder machinery

            fetch, where = _drive_fetch(drive_folder, r.filename, None, log), f"{drive_folder} ({r.filename})"
        files[net] = fetch_release(r, cached_name(net), downloads_dir, manual(net, drive_folder), base_url,
                                   fetch=fetch, where=where, log=log)
    return files


def released_state(path: str | Path, net: str, widths=None) -> dict[str, torch.Tensor]:
    """A released A_i / A_v file -> a state dict for `UNet5(1, widths)` (default: the released widths),
    checked key by key."""
    from pipeline.originals.convert import ConversionError, load_original

    try:
        state = load_original(path)  # unwrapped as the originals' checkpoints ('module.' dropped)
    except (ConversionError, RuntimeError, OSError, pickle.UnpicklingError, EOFError) as error:  # not a torch file
        raise SensingReleaseError(f"{path}: cannot read a state dict ({error}).\n{manual(net)}") from error
    widths = tuple(widths or RELEASED_WIDTHS)
    expected = UNet5(1, tuple(widths)).state_dict()
    problems = [f"unexpected key {k!r} (UNet5 has no such weight)" for k in state if k not in expected]
    problems += [f"missing key {k!r}" for k in expected if k not in state]
    problems += [f"wrong shape for {k!r}: {tuple(v.shape)}, UNet5 at widths {list(widths)} has "
                 f"{tuple(expected[k].shape)}" for k, v in state.items()
                 if k in expected and tuple(v.shape) != tuple(expected[k].shape)]
    if problems:
        raise SensingReleaseError(f"{path} is not EMMA's released {RELEASES[net].filename} ({len(problems)} "
                                  "problems):\n  " + "\n  ".join(problems) + f"\n{manual(net)}")
    return {k: state[k].to(expected[k].dtype) for k in expected}


def write_released(folder: Path, files: dict[str, Path], info: dict, widths=None) -> None:
    """Ai.pth, Av.pth (checked, in the project's UNet5 layout) and sensing.json into `folder` (an atomic_dir):
    the folder `stages.train --sensing` reads, for every dataset."""
    from pipeline.atomic import atomic_torch_save, atomic_write_json

    widths = tuple(widths or RELEASED_WIDTHS)
    for net, target in NETS.items():
        atomic_torch_save(Path(folder) / FILES[target], released_state(files[net], net, widths))
    atomic_write_json(Path(folder) / INFO, {"variant": "learned", "settings": {"widths": list(widths)}, **info})
