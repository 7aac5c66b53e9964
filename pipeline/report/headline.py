"""Headline metrics (reports/metrics/headline.json): what `dvc metrics show/diff` compares."""
from __future__ import annotations

from pipeline.metrics.names import REPORTED as HEADLINE_FUSION
from pipeline.report.sources import DETECTION_DATASET, SCORED_DATASETS, Methods, metric_file


def headline_files(methods: Methods) -> list[str]:
    """Metric files (relative to the metrics folder) the headline numbers come from."""
    files = []
    for dataset in SCORED_DATASETS:
        run = methods.headline(dataset)
        if run is not None:
            files += [metric_file("segment", run, dataset), metric_file("fusion", run, dataset)]
    run = methods.headline(DETECTION_DATASET)
    if run is not None:
        files.append(metric_file("detect", run, None))
    return files


def headline_metrics(methods: Methods, store) -> dict:
    """{fmb|msrs: {mIoU, EN, MI, VIF, Qabf, SSIM, MSS, dE}, m3fd: {mAP50}} of the headline runs (numbers only)."""
    out: dict[str, dict] = {}
    for dataset in SCORED_DATASETS:
        run = methods.headline(dataset)
        if run is None:
            continue
        seg = metric_file("segment", run, dataset)
        fus = metric_file("fusion", run, dataset)
        out[dataset] = {"mIoU": store.value(seg, run, "mIoU")}
        out[dataset].update({m: store.value(fus, run, m) for m in HEADLINE_FUSION})
    run = methods.headline(DETECTION_DATASET)
    if run is not None:
        out[DETECTION_DATASET] = {"mAP50": store.value(metric_file("detect", run, None), run, "mAP50")}
    return out
