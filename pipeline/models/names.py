"""Names of the fusion models (params `runs.<run>.model`) and training frameworks, without torch.

Each fusion model is one plugin module of this package (pipeline.plugins): its file name is its
params name (`PLUGIN` in swinfusion.py, seafusion.py, emma.py). Adding a model is adding one file.

``FRAMEWORKS`` (params `runs.<run>.framework`): ``ssvif`` trains a model with the SSVIF
losses and weighting; ``original`` trains it as its own paper did (pipeline.losses.original).
"""
from __future__ import annotations

from pipeline.plugins import declared

PACKAGE = "pipeline.models"
FUSION_MODEL_NAMES: tuple[str, ...] = tuple(declared(PACKAGE))
FRAMEWORKS: tuple[str, ...] = ("ssvif", "original")
