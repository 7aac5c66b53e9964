"""Run Ultralytics fully offline: environment set before its import, settings that never sync.

Ultralytics reads YOLO_OFFLINE / YOLO_AUTOINSTALL / YOLO_CONFIG_DIR when it is imported, so
:func:`configure_offline` must run first; it refuses if Ultralytics is already imported with
YOLO_OFFLINE unset (later calls only move the settings). It also lifts NMS's wall-clock limit,
so a detection score never depends on how busy the machine is.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def configure_offline(config_dir: str | Path) -> Path:
    """Set the offline environment, import Ultralytics, pin its settings inside ``config_dir``."""
    config_dir = Path(config_dir).resolve()
    config_dir.mkdir(parents=True, exist_ok=True)
    if "ultralytics" in sys.modules and os.environ.get("YOLO_OFFLINE") != "true":
        raise RuntimeError("ultralytics was imported before configure_offline(): its online checks would be active.")
    os.environ.update(YOLO_OFFLINE="true", YOLO_AUTOINSTALL="false", YOLO_CONFIG_DIR=str(config_dir))
    import ultralytics.utils as yolo_utils
    from ultralytics.utils import SETTINGS

    # Weights, datasets and runs stay inside the work tree; no analytics sync, and no logger
    # integrations (its DVC/dvclive callback would write into the enclosing DVC project).
    SETTINGS.update(sync=False, weights_dir=str(config_dir / "weights"), datasets_dir=str(config_dir / "datasets"),
                    runs_dir=str(config_dir / "runs"), clearml=False, comet=False, dvc=False, mlflow=False,
                    raytune=False, tensorboard=False, wandb=False, vscode_msg=False, openvino_msg=False)
    # WEIGHTS_DIR was read from the settings file at import (a fresh file says "weights", cwd-relative).
    yolo_utils.WEIGHTS_DIR = config_dir / "weights"
    _place_fonts(Path(yolo_utils.USER_CONFIG_DIR))
    _lift_nms_time_limit()
    return config_dir


def _lift_nms_time_limit() -> None:
    """Make Ultralytics' NMS finish every image of a batch, however long the machine takes.

    ``non_max_suppression`` stops after ``2.0 + max_time_img x batch`` seconds of wall clock and
    leaves the batch's remaining images without detections, so a loaded machine scored lower
    (detect@infrared-s1: mAP50 30.64 under load, 39.57 alone). Its validator and predictor look the
    function up on the module at each call, so replacing the module attribute covers both.
    """
    import functools
    import inspect

    from ultralytics.utils import nms

    original = nms.non_max_suppression
    if getattr(original, "without_time_limit", False):  # already lifted (configure_offline runs per stage)
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def non_max_suppression(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.arguments["max_time_img"] = float("inf")  # time_limit = 2.0 + inf x batch: never reached
        return original(*bound.args, **bound.kwargs)

    non_max_suppression.without_time_limit = True
    nms.non_max_suppression = non_max_suppression


def _place_fonts(user_config_dir: Path) -> None:
    """Put a local TTF where Ultralytics looks for Arial, so its dataset check never downloads one.

    check_det_dataset() calls check_font("Arial.ttf"), which requests the file online even with
    YOLO_OFFLINE=true; it only labels plots (plots=False here), so matplotlib's DejaVu Sans stands in.
    """
    import shutil

    from matplotlib import font_manager

    source = Path(font_manager.findfont("DejaVu Sans", fallback_to_default=True))
    user_config_dir.mkdir(parents=True, exist_ok=True)
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (user_config_dir / name).exists():
            shutil.copyfile(source, user_config_dir / name)


def amp_check_weights() -> Path:
    """Weights Ultralytics' CUDA AMP check loads; AMP is enabled only when they exist locally."""
    from ultralytics.utils import WEIGHTS_DIR  # pinned by configure_offline

    return Path(WEIGHTS_DIR) / "yolo26n.pt"
