"""Names of the fusion models (params `runs.<run>.model`) and training frameworks, without torch.

`pipeline.models.registry.FUSION_MODELS` is keyed by exactly ``FUSION_MODEL_NAMES``, in this
order (it refuses to import otherwise); params validation (`stages._params`) reads them here
so that every stage can check params.yaml without importing torch.

``FRAMEWORKS`` (params `runs.<run>.framework`): ``ssvif`` trains a model with the SSVIF
losses and weighting; ``original`` trains it as its own paper did (pipeline.losses.original).
"""
from __future__ import annotations

FUSION_MODEL_NAMES: tuple[str, ...] = ("swinfusion", "seafusion", "emma")
FRAMEWORKS: tuple[str, ...] = ("ssvif", "original")
