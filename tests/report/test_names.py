"""The torch-free name lists are the registries' names; the report prints the metric names from there."""
from __future__ import annotations

from pipeline.metrics.names import METRIC_NAMES, REPORTED
from pipeline.report import headline, spec


def test_metric_names_are_the_metrics_registry():
    from pipeline.metrics.fusion import METRICS

    assert tuple(METRICS) == METRIC_NAMES and set(REPORTED) <= set(METRICS)


def test_report_takes_the_metric_names_from_the_registry_list():
    assert spec.FUSION_METRICS is REPORTED and headline.HEADLINE_FUSION is REPORTED
    assert set(spec.FUSION_HEADERS) == set(REPORTED)


def test_torch_free_lists_are_the_registries():
    from pipeline.rules.names import RULE_NAMES
    from pipeline.rules.registry import FUSION_RULES
    from pipeline.models.names import FUSION_MODEL_NAMES
    from pipeline.models.registry import FUSION_MODELS
    from pipeline.weighting.names import WEIGHTING_NAMES
    from pipeline.weighting.registry import WEIGHTINGS

    assert tuple(WEIGHTINGS) == WEIGHTING_NAMES and tuple(FUSION_MODELS) == FUSION_MODEL_NAMES
    assert tuple(FUSION_RULES) == RULE_NAMES


def test_weighting_labels_cover_the_weightings():
    from pipeline.weighting.names import WEIGHTING_NAMES

    assert tuple(spec.WEIGHTING_LABELS) == WEIGHTING_NAMES
