"""Where each original's released weights come from, and the configuration its test script builds.

The one table of the three released checkpoints: the downloader (official.py), the converter
(convert.py) and `ssvif convert-original --help` all read it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """``path`` inside GitHub repository ``repo`` at ``branch``; ``commit``: the upstream code read."""

    repo: str
    branch: str
    path: str
    commit: str
    note: str = ""

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repo}/{self.branch}/{self.path}"

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


# Paths from each repository's test script (SwinFusion test_swinfusion.py: --model_path default +
# "10000" + "_E.pth"; SeAFusion test.py; EMMA test.py); branches as their READMEs link them (EMMA's unverified).
RELEASES: dict[str, Release] = {
    "swinfusion": Release("Linfeng-Tang/SwinFusion", "master",
                          "Model/Infrared_Visible_Fusion/Infrared_Visible_Fusion/models/10000_E.pth", "7fb403d",
                          "1-channel (Y) infrared-visible model, 10k iterations"),
    "seafusion": Release("Linfeng-Tang/SeAFusion", "main", "model/Fusion/fusionmodel_final.pth", "5fd9c52",
                         "FusionNet(output=1), trained on MSRS with its semantic loss"),
    "emma": Release("Zhaozixiang1228/MMIF-EMMA", "main", "model/EMMA.pth", "11c4fc3",
                    "the U-Fuser F(.,.), 1-channel"),
}

# The original framework that reads pseudo-sensing networks A_i, A_v (stages.sensing): EMMA's.
SENSED = "emma"

# The project's widths for each released network (params paper.models.<arch>, checked by the tests).
# SwinFusion's test script builds network_swinfusion1.py, whose fusion groups have no residuals.
RELEASED_WIDTHS = {
    "swinfusion": {"embed_dim": 60, "num_heads": 6, "window_size": 8, "mlp_ratio": 2.0,
                   "depth_extract": 4, "depth_fusion": 2, "depth_recon": 4, "fusion_residual": False},
    "seafusion": {"width": 16},
    "emma": {"widths": [8, 16, 32, 32], "num_heads": 8},
}


# Where the Original rows' fusion model comes from (params.yaml; docs/protocol.md).
SOURCE_KEY = "<profile>.originals.source"
LOCAL_KEY = "<profile>.originals.local.<arch>"
SOURCES: dict[str, str] = {
    "official": "the authors' released checkpoint, downloaded (what the paper evaluates, Sec. IV-B)",
    "local": f"a released checkpoint you downloaded yourself, given as `{LOCAL_KEY}`",
    "synthetic": "no download: a stand-in of the same architecture, trained with its own framework on each dataset",
    "retrain": "the project's `original-<model>-<dataset>` runs, trained with pipeline/losses/original.py",
}

def validate_source(value: object) -> str:
    """``value`` if it is a valid original source; otherwise an error naming the params key and choices."""
    if value not in SOURCES:
        raise ValueError(f"params.yaml: {SOURCE_KEY}={value!r} is not valid; valid values: {', '.join(SOURCES)}.")
    return str(value)


def describe(arch: str) -> str:
    """'repo: path' of the released file."""
    return f"github.com/{RELEASES[arch].repo}: {RELEASES[arch].path}"
