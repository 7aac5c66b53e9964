"""Dataset specifications of MSRS, FMB and M3FD (facts from docs/datasets.md).

``DATASETS`` maps the params name (``msrs``, ``fmb``, ``m3fd``) to a :class:`DatasetSpec`:
class names in index order, palettes, the official folder layout and file naming, the
official split rule, and where the official archives come from with their checksums.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Archive:
    """One downloadable archive of a dataset.

    ``marker`` names the folders that identify the extracted content; the shallowest
    directory of the archive holding all of them is placed at ``target`` (relative to the
    dataset root, "" = the root itself), so a wrapper folder in the archive does not matter.
    """

    filename: str
    url: str = ""
    gdrive_id: str = ""
    md5: str = ""
    sha256: str = ""
    target: str = ""
    marker: tuple[str, ...] = ()
    official: bool = True
    note: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    task: str  # "segmentation" (index-map labels) or "detection" (VOC boxes)
    # Modality -> folder name inside a split folder (MSRS/FMB) or inside `root_subdir` (M3FD).
    folders: dict[str, str]
    official_splits: tuple[str, ...]  # folders of the official split; () when there is none
    root_subdir: str = ""  # M3FD keeps everything under M3FD_Detection/
    official_counts: dict[str, int] = field(default_factory=dict)
    official_size: tuple[int, int] = (0, 0)  # (width, height) of most images
    stem_pattern: str = ""  # regular expression every official stem matches
    renderings: dict[str, str] = field(default_factory=dict)  # split -> colour-rendering folder (never trained on)
    sources: tuple[Archive, ...] = ()
    manual: str = ""  # how to get the data by hand when no scripted source works

    @property
    def num_classes(self) -> int:
        return len(self.classes)


MSRS_COMMIT = "5fa66e33c5ba875eec4de4f5a5bf609bdcc566c5"

MSRS = DatasetSpec(
    name="msrs",
    classes=("unlabelled", "car", "person", "bike", "curve", "car_stop", "guardrail", "color_cone", "bump"),
    palette=((0, 0, 0), (64, 0, 128), (64, 64, 0), (0, 128, 192), (0, 0, 192), (128, 128, 0),
             (64, 64, 128), (192, 128, 128), (192, 64, 0)),
    task="segmentation",
    folders={"ir": "ir", "vis": "vi", "label": "Segmentation_labels"},
    official_splits=("train", "test"),
    official_counts={"train": 1083, "test": 361},
    official_size=(640, 480),
    stem_pattern=r"\d{5}[DN]",
    renderings={"test": "Segmentation_visualize"},
    sources=(
        # GitHub archive bytes are not stable: no archive checksum, the extracted files are
        # checked against the sha256 manifest written on the first download instead.
        Archive(filename=f"MSRS-{MSRS_COMMIT}.zip",
                url=f"https://github.com/Linfeng-Tang/MSRS/archive/{MSRS_COMMIT}.zip",
                marker=("train", "test"), target=""),
    ),
    manual="Clone https://github.com/Linfeng-Tang/MSRS (or use the author's Baidu link in its README), "
           "then set data.source=local and data.local.msrs=<folder holding train/ and test/>.",
)

FMB = DatasetSpec(
    name="fmb",
    classes=("background", "Road", "Sidewalk", "Building", "Lamp", "Sign", "Vegetation", "Sky", "Person",
             "Car", "Truck", "Bus", "Motorcycle", "Bicycle", "Pole"),
    palette=((0, 0, 0), (228, 228, 179), (133, 57, 181), (177, 162, 67), (50, 178, 200), (199, 45, 132),
             (84, 172, 66), (79, 73, 179), (166, 99, 76), (253, 121, 66), (91, 165, 137), (152, 97, 155),
             (140, 153, 105), (158, 215, 222), (90, 113, 135)),
    task="segmentation",
    folders={"ir": "Infrared", "vis": "Visible", "label": "Label"},
    official_splits=("train", "test"),
    official_counts={"train": 1220, "test": 280},
    official_size=(800, 600),
    stem_pattern=r"\d{5}",
    renderings={"train": "color", "test": "color"},
    sources=(
        # The official Google Drive folder publishes no per-file ids: only the third-party
        # GitHub release mirror is scriptable (md5 from docs/datasets.md).
        Archive(filename="train.zip",
                url="https://github.com/CharlesShan-hub/FMB_Backup/releases/latest/download/train.zip",
                md5="896c457d6fadb828fced86d7c0e0d66f", target="train",
                marker=("Visible", "Infrared", "Label"), official=False,
                note="UNOFFICIAL third-party mirror (CharlesShan-hub/FMB_Backup), verified by md5 and a manifest"),
        Archive(filename="test.zip",
                url="https://github.com/CharlesShan-hub/FMB_Backup/releases/latest/download/test.zip",
                md5="916b3482f1d5988046ea74c287bbf518", target="test",
                marker=("Visible", "Infrared", "Label"), official=False,
                note="UNOFFICIAL third-party mirror (CharlesShan-hub/FMB_Backup), verified by md5 and a manifest"),
    ),
    manual="Download FMB from the SegMiF README: Google Drive folder "
           "https://drive.google.com/drive/folders/1T_jVi80tjgyHTQDpn-TjfySyW4CK1LlF (or its Baidu link), "
           "unpack it so that train/ and test/ hold Visible/, Infrared/, Label/, then set data.source=local and "
           "data.local.fmb=<that folder>; or allow the unofficial mirror with data.allow_unofficial_mirror=true.",
)

M3FD = DatasetSpec(
    name="m3fd",
    # README order; annotations are mapped by name, never by a circulating index order.
    classes=("People", "Car", "Bus", "Motorcycle", "Lamp", "Truck"),
    # Not published: a project choice for drawing boxes.
    palette=((220, 20, 60), (0, 0, 142), (0, 60, 100), (0, 0, 230), (250, 170, 30), (0, 0, 70)),
    task="detection",
    folders={"ir": "Ir", "vis": "Vis", "annotation": "Annotation"},
    official_splits=(),
    root_subdir="M3FD_Detection",
    official_counts={"all": 4200},
    official_size=(1024, 768),
    stem_pattern=r"\d{5}",
    sources=(
        Archive(filename="M3FD_Detection.zip", gdrive_id="1C8kkYkj1Xls6UtvJ4h6UajiPcvaQ7eeI",
                sha256="62780f67569cd35e631aba449a45781e4eff4f3e2a4bb962dd02551f110a3407",
                target="M3FD_Detection", marker=("Ir", "Vis", "Annotation")),
    ),
    manual="Download M3FD_Detection.zip from the TarDAL README: Google Drive folder "
           "https://drive.google.com/drive/folders/1H-oO7bgRuVFYDcMGvxstT1nmy0WF_Y_6 (or its Baidu link). "
           "Either put the zip in the downloads folder named in the error and re-run (its sha256 is checked), "
           "or unpack it and set data.source=local and data.local.m3fd=<folder holding M3FD_Detection/>.",
)

DATASETS: dict[str, DatasetSpec] = {"msrs": MSRS, "fmb": FMB, "m3fd": M3FD}


def get_dataset(name: str) -> DatasetSpec:
    """The spec registered under ``name``; an unknown name lists the valid ones."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]
