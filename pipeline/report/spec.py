"""Layout of Tables I-IX as data: columns, rows, where each reproduced value comes from.

A column key is ``<dataset>/<metric>`` as the metric files name things (``fmb/mIoU``,
``msrs/IoU/car``, ``m3fd/AP50/Bus``, ``fmb/dE``) or a bare key (Table IV, text columns).
A row's ``source`` says which method produced its values:
  ("headline",)              the run with ``headline: true`` on the column's dataset
                             (on M3FD: the headline run that fuses M3FD);
  ("original", model)        ``original-<model>-<dataset>`` (on M3FD: the one that fuses M3FD);
  ("run", settings)          the (non-headline) run of params.yaml with these settings, a
                             pipeline.report.run_match.RequiredRun; found by settings, never by
                             name; none: the row prints "not run" and the README says what to add;
  ("external", name)         images placed under data/external/<name>/ (params methods.external);
  ("efficiency", model, framework)  an entry of efficiency.json;
  None                       published values only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.metrics.names import HEADERS as FUSION_HEADERS
from pipeline.metrics.names import HIGHER_IS_BETTER
from pipeline.metrics.names import REPORTED as FUSION_METRICS
from pipeline.report.run_match import FMB_HEADLINE
from pipeline.weighting.names import WEIGHTING_LABELS  # noqa: F401  (re-exported: the reports' weighting names)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    digits: int = 2
    higher: bool | None = True  # True: higher is better (arrow up); False: lower (dE); None: not ranked


@dataclass(frozen=True)
class RowSpec:
    name: str
    published: str | None
    source: tuple | None
    group: str = ""
    mark_group: str | None = ""  # rows are ranked within their mark group; None: never marked
    weighting_row: bool = False  # the GDWA row: relabelled with the weighting the headline run used


@dataclass(frozen=True)
class TableSpec:
    id: str
    number: str
    title: str
    columns: tuple[ColumnSpec, ...]
    rows: tuple[RowSpec, ...]
    marks: tuple[str, ...] = ("best", "second")  # how the paper marks: bold best, underlined second
    extra_rows: bool = False  # classical rules and unmatched external methods appended as rows
    extra_mark_group: str | None = ""


# Paper's compared methods that enter as external methods (params methods.external names).
EXTERNAL_ALIASES = {"CDDF.": "cddfuse", "TIMF.": "timfusion", "MRFS": "mrfs", "SAGE": "sage", "SegMiF": "segmif"}
MODELS = {"SwinF.": "swinfusion", "EMMA": "emma", "SeAF.": "seafusion"}
SEG_CLASSES = {
    "fmb": (("background", "Back."), ("Person", "Per."), ("Road", "Road"), ("Car", "Car"), ("Bus", "Bus"), ("Lamp", "Lamp")),
    "msrs": (("unlabelled", "Back."), ("car", "Car"), ("person", "Per."), ("bike", "Bike"), ("curve", "Curve"), ("bump", "Bump")),
}
DETECT_CLASSES = (("People", "Per."), ("Car", "Car"), ("Bus", "Bus"), ("Motorcycle", "Mot."), ("Lamp", "Lamp"), ("Truck", "Truck"))


def _comparison_rows(group: str = "", mark_group: str | None = "") -> tuple[RowSpec, ...]:
    """The nine methods of Tables I, II and IX in the paper's order."""
    names = ("CDDF.", "TIMF.", "SwinF.", "EMMA", "MRFS", "SAGE", "SeAF.", "SegMiF", "Ours")
    return tuple(RowSpec(n, n, _source(n), group, mark_group) for n in names)


def _source(name: str) -> tuple | None:
    if name == "Ours":
        return ("headline",)
    if name in MODELS:
        return ("original", MODELS[name])
    return ("external", EXTERNAL_ALIASES[name])


def _fmb(**differs) -> tuple:
    """Row source of an ablation run: the headline FMB run's settings (FMB_HEADLINE) except ``differs``."""
    return ("run", replace(FMB_HEADLINE, **differs))


def _label_col() -> ColumnSpec:
    return ColumnSpec("label", "Label", higher=None)


def _fusion_cols(dataset: str, prefix: str = "") -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(f"{dataset}/{m}", prefix + FUSION_HEADERS[m], higher=HIGHER_IS_BETTER[m])
                 for m in FUSION_METRICS)


def _seg_cols(dataset: str) -> tuple[ColumnSpec, ...]:
    cols = tuple(ColumnSpec(f"{dataset}/IoU/{c}", f"{dataset.upper()} {h}") for c, h in SEG_CLASSES[dataset])
    return cols + (ColumnSpec(f"{dataset}/mIoU", f"{dataset.upper()} mIoU"),)


def _ablation_cols() -> tuple[ColumnSpec, ...]:
    return _fusion_cols("fmb") + (ColumnSpec("fmb/mIoU", "mIoU"),)


TABLE1 = TableSpec(
    "table1", "I", "Segmentation on fused images: IoU (%) per class and mIoU, FMB and MSRS test sets",
    (_label_col(),) + _seg_cols("fmb") + _seg_cols("msrs"), _comparison_rows(), extra_rows=True)

TABLE2 = TableSpec(
    "table2", "II", "Fusion quality on the FMB and MSRS test sets (all higher-better except ΔE)",
    (_label_col(),) + _fusion_cols("fmb", "FMB ") + _fusion_cols("msrs", "MSRS "),
    _comparison_rows(), extra_rows=True)

TABLE3 = TableSpec(
    "table3", "III", "Ablations on the FMB test set",
    tuple(ColumnSpec(k, h, d, hi) for k, h, d, hi in (
        ("fmb/MI", "MI", 2, True), ("fmb/Qabf", "Qabf", 2, True), ("fmb/SSIM", "SSIM", 2, True),
        ("fmb/dE", "ΔE", 2, False), ("fmb/mIoU", "mIoU", 1, True))),
    (
        RowSpec("SwinF. / Original", "i/SwinF./Original", ("original", "swinfusion"), "i", "i-swinfusion"),
        RowSpec("SwinF. / SSVIF", "i/SwinF./SSVIF", ("headline",), "i", "i-swinfusion"),
        RowSpec("EMMA / Original", "i/EMMA/Original", ("original", "emma"), "i", "i-emma"),
        RowSpec("EMMA / SSVIF", "i/EMMA/SSVIF", _fmb(model="emma"), "i", "i-emma"),
        RowSpec("SeAF. / Original", "i/SeAF./Original", ("original", "seafusion"), "i", "i-seafusion"),
        RowSpec("SeAF. / SSVIF", "i/SeAF./SSVIF", _fmb(model="seafusion"), "i", "i-seafusion"),
        RowSpec("w_csc = 0.1", "ii/w_csc = 0.1", _fmb(weighting="fixed"), "ii", "ii"),
        RowSpec("UCW", "ii/UCW", _fmb(weighting="ucw"), "ii", "ii"),
        RowSpec("DWA", "ii/DWA", _fmb(weighting="dwa"), "ii", "ii"),
        RowSpec("SegMiF", "ii/SegMiF", _fmb(weighting="segmif"), "ii", "ii"),
        RowSpec("GDWA (Ours)", "ii/GDWA (Ours)", ("headline",), "ii", "ii", weighting_row=True),
        RowSpec("w/o L_csc", "iii/w/o L_csc", _fmb(csc=False), "iii", "iii-iv"),
        RowSpec("w/o 2-stage", "iv/w/o 2-stage", _fmb(two_stage=False), "iv", "iii-iv"),
        RowSpec("w/ all (Ours)", "iii-iv/w/ all (Ours)", ("headline",), "iii-iv", "iii-iv"),
    ),
    marks=("best",))

TABLE4 = TableSpec(
    "table4", "IV", "Inference cost at 256x256: parameters, multiply-accumulates (the paper's FLOPs), memory",
    (ColumnSpec("input_size", "Input size", higher=None), ColumnSpec("params_M", "Params (M)", 2, None),
     ColumnSpec("macs_G", "FLOPs (G)", 2, None), ColumnSpec("mem_MB", "Mem (MB)", 1, None),
     ColumnSpec("cuda_mem_MB", "Mem, CUDA allocator (MB)", 1, None)),
    tuple(RowSpec(f"{short} / {fw_label}", f"{short}/{fw_label}", ("efficiency", model, fw))
          for short, model in MODELS.items() for fw, fw_label in (("original", "Original"), ("ssvif", "SSVIF"))),
    marks=())

TABLE5 = TableSpec(
    "table5", "V", "Detection on M3FD (YOLO11n retrained on fused images): mAP@0.5 (%)",
    (ColumnSpec("m3fd/mAP50", "mAP@0.5"),),
    tuple(RowSpec(n, f"unsupervised/{n}", _source(n), "unsupervised", "unsupervised")
          for n in ("CDDF.", "TIMF.", "SwinF.", "EMMA", "Ours"))
    + tuple(RowSpec(n, f"supervised/{n}", _source(n), "supervised", "supervised")
            for n in ("MRFS", "SAGE", "SeAF.", "SegMiF", "Ours")),
    extra_rows=True, extra_mark_group=None)

TABLE6 = TableSpec(
    "table6", "VI", "Class number n of the dual segmentation branches, FMB (n = 9 row partly illegible in the paper)",
    _ablation_cols(),
    (RowSpec("n = 9", "n = 9", _fmb(n_classes=9)), RowSpec("n = 15", "n = 15", ("headline",))),
    marks=("best",))

TABLE7 = TableSpec(
    "table7", "VII", "Colour loss weight lambda4, FMB",
    _ablation_cols(),
    (RowSpec("λ4 = 10", "lambda4 = 10", _fmb(lambda_color=10)),
     RowSpec("λ4 = 20", "lambda4 = 20", ("headline",)),
     RowSpec("λ4 = 30", "lambda4 = 30", _fmb(lambda_color=30))),
    marks=("best",))

TABLE8 = TableSpec(
    "table8", "VIII", "Three-channel vs single-channel fusion, FMB",
    _ablation_cols(),
    (RowSpec("single-channel", "single-channel", _fmb(channels=1)),
     RowSpec("three-channel", "three-channel", ("headline",))),
    marks=("best",))

TABLE9 = TableSpec(
    "table9", "IX", "Detection on M3FD: AP@0.5 (%) per class and mAP@0.5",
    (ColumnSpec("source", "Source", higher=None), _label_col())
    + tuple(ColumnSpec(f"m3fd/AP50/{c}", h) for c, h in DETECT_CLASSES) + (ColumnSpec("m3fd/mAP50", "mAP@0.5"),),
    _comparison_rows(), extra_rows=True)

TABLES: tuple[TableSpec, ...] = (TABLE1, TABLE2, TABLE3, TABLE4, TABLE5, TABLE6, TABLE7, TABLE8, TABLE9)
