"""Imaging condition of each pair (day, night, fog): the breakdown the sanity report reads.

Synthetic data knows its conditions by construction (the generator draws one per scene).
Official MSRS names say day or night (``<number>D`` / ``<number>N``); the other datasets'
names say nothing, so their pairs are ``unknown`` and only the overall figures apply.
"""
from __future__ import annotations

import re
from typing import Iterable

CONDITIONS = ("day", "night", "fog")
UNKNOWN = "unknown"
_MSRS_SUFFIX = re.compile(r"^\d+([DN])$")


def conditions_from_names(dataset: str, stems: Iterable[str]) -> dict[str, str]:
    """{stem: condition} read from file names: MSRS's D/N suffix, ``unknown`` elsewhere."""
    out = {}
    for stem in stems:
        match = _MSRS_SUFFIX.match(stem) if dataset == "msrs" else None
        out[stem] = {"D": "day", "N": "night"}[match.group(1)] if match else UNKNOWN
    return dict(sorted(out.items()))


def conditions_document(dataset: str, source: str, conditions: dict[str, str]) -> dict:
    """The JSON written by fetch: how the conditions were obtained, the counts and the map."""
    rule = ("drawn by the synthetic generator (exact)" if source == "synthetic"
            else "MSRS file names: <number>D = day, <number>N = night" if dataset == "msrs"
            else "not recorded by the dataset's file names")
    counts = {c: sum(v == c for v in conditions.values()) for c in (*CONDITIONS, UNKNOWN)}
    return {"dataset": dataset, "source": source, "rule": rule, "counts": counts,
            "conditions": dict(sorted(conditions.items()))}


def group_by_condition(stems: Iterable[str], conditions: dict[str, str]) -> dict[str, list[str]]:
    """{condition: [stems]} for the known conditions present among ``stems``, in CONDITIONS order."""
    stems = list(stems)
    groups = {c: [s for s in stems if conditions.get(s) == c] for c in CONDITIONS}
    return {c: g for c, g in groups.items() if g}
