"""Where every stage output lives: the one owner of the project's path patterns.

``pipeline.dag.build`` builds every path of dvc.yaml with these functions, and the stages that read
many outputs (tables, figures, sanity) rebuild the same names with them under the folders
their command line gives (``root`` arguments), so the DAG and its readers cannot disagree.
Names may be DVC placeholders (``run_dir("${key}")`` is ``data/runs/${key}``): every function
is plain string formatting. Torch-free. Paths are relative to the project root unless a root
says otherwise.

>>> fused_dir("max", "fmb")
'data/fused/max/fmb'
>>> metric_file("segment", scored_key("max", "fmb"))
'segment/max-fmb.json'
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

DATA = "data"
REPORTS = "reports"
PARAMS_FILE = "params.yaml"
PROTOCOL = "docs/protocol.md"  # every evaluation choice (linked from reports/README.md)
# The code reports/README.md digests (and the tables stage therefore depends on).
CODE_GLOBS = ("pipeline/**/*.py", "stages/**/*.py")

# data/: datasets, splits, runs, fused images, starting weights, scratch.


def raw_dir(dataset: str, data: str = DATA) -> str:
    return f"{data}/raw/{dataset}"


def split_file(dataset: str, data: str = DATA) -> str:
    return f"{data}/splits/{dataset}.json"


def conditions_file(dataset: str) -> str:
    """day/night/fog of every stem (written by fetch@<dataset>)."""
    return f"{DATA}/conditions/{dataset}.json"


RUN_MODEL = "model.pt"
RUN_CONFIG = "config.json"


def run_dir(run: str) -> str:
    """train@<run>'s folder: ``RUN_MODEL`` (the checkpoint) and ``RUN_CONFIG`` (the resolved config)."""
    return f"{DATA}/runs/{run}"


def run_model(run: str) -> str:
    return f"{run_dir(run)}/{RUN_MODEL}"


STAGE_ONE_STATE = "stage_one.pt"


def stage_one_dir(unit: str) -> str:
    """stage_one@<unit>'s folder: ``STAGE_ONE_STATE``, the shared stage I its member runs continue from."""
    return f"{DATA}/stage_one/{unit}"


def sensing_dir(dataset: str) -> str:
    """sensing@<dataset>'s folder: EMMA's pseudo-sensing networks A_i, A_v (Ai.pth, Av.pth, sensing.json)."""
    return f"{DATA}/sensing/{dataset}"


def original_dir(model: str) -> str:
    """original@<model>'s folder: the authors' released model, converted (``RUN_MODEL``, provenance.json)."""
    return f"{DATA}/originals/{model}"


def stem_image(folder: str | Path, stem: str) -> Path:
    """The image of ``stem`` in a folder of per-stem images: fused images, drawn predictions."""
    return Path(folder) / f"{stem}.png"


def fused_dir(method: str, dataset: str, externals: Iterable[str] = (), data: str = DATA) -> str:
    """A method's fused images of ``dataset``: a run's or rule's, or an external method's (given by the user)."""
    base = "external" if method in externals else "fused"
    return f"{data}/{base}/{method}/{dataset}"


# What a starting point (weights@<name>) is for: the segmenter (one per segmentation dataset) and the detector.
SEGMENTER, DETECTOR = "segmenter", "detector"
TARGETS = (SEGMENTER, DETECTOR)
DETECTOR_FILE = "yolo11n.pt"  # the detector's starting weights in its weights_dir


def weights_name(target: str, dataset: str) -> str:
    """weights@<name>: one segmenter per segmentation dataset (``segmenter-<dataset>``), one ``detector``."""
    return DETECTOR if target == DETECTOR else f"{target}-{dataset}"


def weights_dir(name: str) -> str:
    return f"{DATA}/weights/{name}"


def work_dir(stage: str) -> str:
    """Resumable scratch of a stage (not a DVC output): ``data/work/<stage>``."""
    return f"{DATA}/work/{stage}"


DOWNLOADS = work_dir("downloads")

# reports/: histories, metric files, figures, tables, README.



def run_reports_dir(reports: str = REPORTS) -> str:
    """Folder of the runs' histories (one sub-folder per run)."""
    return f"{reports}/runs"


METRICS = f"{REPORTS}/metrics"
RUN_REPORTS = run_reports_dir()
TABLES = f"{REPORTS}/tables"
PAPER_FIGURES = f"{REPORTS}/figures/paper"
README = f"{REPORTS}/README.md"
SANITY = f"{REPORTS}/sanity.md"
# Files directly under the metrics folder.
EFFICIENCY_FILE = "efficiency.json"
HEADLINE_FILE = "headline.json"
GRADIENT_FILE = "gradient.json"
SANITY_FILE = "sanity.json"


def history_file(run: str, runs: str = RUN_REPORTS) -> str:
    """train@<run>'s per-epoch history, under the run reports folder ``runs``."""
    return f"{runs}/{run}/history.csv"


def scored_key(method: str, dataset: str) -> str:
    """Key of fusion_metrics@ / segment@ of a method on a dataset, and the stem of their files."""
    return f"{method}-{dataset}"


def metric_file(kind: str, key: str) -> str:
    """A producer's metric file, relative to the metrics folder: ``fusion``/``segment`` by scored key, ``detect`` by method."""
    if kind not in ("fusion", "segment", "detect"):
        raise ValueError(f"no metric file for kind {kind!r}")
    return f"{kind}/{key}.json"


def per_image_file(key: str) -> str:
    """fusion_metrics@<key>'s per-image CSV, relative to the metrics folder."""
    return f"fusion/{key}.csv"


def confusion_file(key: str, ext: str) -> str:
    """segment@<key>'s confusion matrix (``csv`` or ``png``), relative to the metrics folder."""
    return f"segment/{key}-confusion.{ext}"


def in_metrics(rel: str, metrics: str = METRICS) -> str:
    return f"{metrics}/{rel}"


def predictions_dir(kind: str, key: str, reports: str = REPORTS) -> str:
    """Rendered test predictions of segment@<key> (``kind`` segment) or detect@<key> (``detect``)."""
    return f"{reports}/figures/{kind}/{key}"


def table_file(table_id: str, fmt: str, tables: str = TABLES) -> str:
    return f"{tables}/{table_id}.{fmt}"


# The figures stage's files under PAPER_FIGURES (captions: pipeline.report.figure_list).
FIGURE_FILES = {
    "segmentation": "fig3_segmentation.png",
    "fusion": "fig4_fusion.png",
    "detection": "fig5_detection.png",
    "training_curves": "training_curves.png",
    "w_csc": "w_csc.png",
    "alpha_cf": "alpha_cf.png",
}


# The dvc.yaml of each stage group (pipeline.dag.files): the compute groups have one each under DAG_DIR, so
# that the dvc.lock DVC rewrites after every stage stays small; the others stay in the root dvc.yaml.
DAG_DIR = "dag"
SUB_DAGS = {"stage_one": "train", "train": "train", "original": "train", "sensing": "train", "fuse": "fuse",
            "fuse_rule": "fuse", "weights": "weights", "fusion_metrics": "fusion_metrics", "segment": "segment",
            "detect": "detect"}
ROOT_DVC_FILE = "dvc.yaml"


def dvc_file(group: str) -> str:
    """The dvc.yaml, relative to the project root, that holds a stage group.

    >>> dvc_file("train"), dvc_file("tables")
    ('dag/train/dvc.yaml', 'dvc.yaml')
    """
    return f"{DAG_DIR}/{SUB_DAGS[group]}/dvc.yaml" if group in SUB_DAGS else ROOT_DVC_FILE


def stage_address(group: str, key: str | None = None) -> str:
    """What `dvc repro` takes for a stage (or a whole group) from the project root.

    >>> stage_address("weights", "detector"), stage_address("weights"), stage_address("fetch", "fmb")
    ('dag/weights/dvc.yaml:weights@detector', 'dag/weights/dvc.yaml:weights', 'fetch@fmb')
    """
    name = f"{group}@{key}" if key else group
    return name if dvc_file(group) == ROOT_DVC_FILE else f"{dvc_file(group)}:{name}"


def code_files(root: str | Path) -> list[Path]:
    """The project code under ``root`` matched by ``CODE_GLOBS``, sorted by path."""
    root = Path(root)
    return sorted({p for g in CODE_GLOBS for p in root.glob(g) if p.is_file() and "__pycache__" not in p.parts})


def digested_files(root: str | Path) -> list[str]:
    """Files whose digests reports/README.md prints: the code and params.yaml (root-relative, sorted)."""
    return sorted({p.relative_to(root).as_posix() for p in code_files(root)} | {PARAMS_FILE})
