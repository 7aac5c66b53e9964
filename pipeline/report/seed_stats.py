"""Tables over several training seeds: mean ± std per cell, and the scorecard's spread rule.

With params ``seeds`` longer than one, a reproduced cell whose producer is seeded (the
segment and detect scores of every method, the fusion metrics of the runs; pipeline.seeds)
reads one metric file per seed (``<method>-s<seed>`` for every seed after the first) and holds
a :class:`SeedValue`: a float equal to the mean, carrying the per-seed values. The renderers
print it as ``mean ± std`` (sample standard deviation, n - 1); differences and best/second
marks use the mean. Such a cell counts as reproduced when the paper's value lies within the
seeds' range, min..max (:func:`within_spread`); a cell with one value (one seed, or an
unseeded producer: a rule's fusion metrics, Table IV) keeps the ``report.tolerance`` rule.
Rows are still found by settings (pipeline.report.run_match): the seed is not a setting, so a
row's run stands for all its seeded instances. With one seed nothing here changes a byte.
"""
from __future__ import annotations

import statistics
from typing import Iterable

from pipeline.seeds import extra_seeds, seeded, training_seeds


class SeedValue(float):
    """The mean of a cell's per-seed values (a float), with ``values`` and ``seeds`` attached."""

    values: tuple[float, ...]
    seeds: tuple[int, ...]

    def __new__(cls, values: Iterable[float], seeds: Iterable[int]):
        values = tuple(float(v) for v in values)
        obj = super().__new__(cls, statistics.fmean(values))
        obj.values, obj.seeds = values, tuple(seeds)
        return obj

    @property
    def std(self) -> float:
        """Sample standard deviation over the seeds (n - 1)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def __reduce__(self):
        return SeedValue, (self.values, self.seeds)


def is_spread(value) -> bool:
    return isinstance(value, SeedValue) and len(value.values) > 1


def within_spread(value: SeedValue, published) -> bool | None:
    """min(values) <= published <= max(values) (None without a published number)."""
    if not isinstance(published, (int, float)) or isinstance(published, bool):
        return None
    p = float(published)
    return min(value.values) - 1e-12 <= p <= max(value.values) + 1e-12


def spread_text(value: SeedValue, digits: int, pm: str = "±") -> str:
    return f"{float(value):.{digits}f} {pm} {value.std:.{digits}f}"


def seeded_kind(kind: str, method: str, runs: Iterable[str]) -> bool:
    """Whether ``kind`` scores of ``method`` differ per seed: segment/detect always, fusion for runs."""
    return kind in ("segment", "detect") or (kind == "fusion" and method in set(runs))


def seeded_file(rel: str, method: str, seed: int) -> str:
    """The metric file ``rel`` of ``method`` for the seeded instance ``method-s<seed>``."""
    kind, _, stem = rel.partition("/")
    if not stem.startswith(method):
        raise ValueError(f"{rel} is not a metric file of {method!r}")
    return f"{kind}/{seeded(method, seed)}{stem[len(method):]}"


class SeedStore:
    """A metric store (pipeline.report.sources.MetricStore) whose seeded values are SeedValues."""

    def __init__(self, store, runs: Iterable[str], seeds: list[int]):
        self.store, self.runs, self.seeds = store, set(runs), list(seeds)

    def load(self, rel: str):
        return self.store.load(rel)

    def value(self, rel: str, method: str, metric: str):
        first = self.store.value(rel, method, metric)
        if not seeded_kind(rel.partition("/")[0], method, self.runs):
            return first
        values = [first]
        for seed in self.seeds[1:]:
            try:
                values.append(self.store.value(seeded_file(rel, method, seed), seeded(method, seed), metric))
            except FileNotFoundError as err:
                raise FileNotFoundError(f"{err}. params.yaml seeds lists {seed}: after changing seeds, run "
                                        "`python -m stages.dag` (it adds the -s<seed> stages), then `dvc repro`") from None
        if any(not isinstance(v, (int, float)) for v in values):  # a null score in any seed: no mean
            return None
        return SeedValue(values, self.seeds)


def seed_store(store, params: dict):
    """``store`` itself with one seed; a SeedStore over params ``seeds`` otherwise."""
    if not extra_seeds(params):
        return store
    return SeedStore(store, params["runs"], training_seeds(params))


def seeded_inputs(pairs: Iterable[tuple[str, str]], params: dict) -> list[str]:
    """The further seeds' metric files of (metric file, method) pairs, relative to the metrics folder."""
    runs = set(params["runs"])
    return sorted({seeded_file(rel, method, s) for rel, method in pairs
                   if seeded_kind(rel.partition("/")[0], method, runs) for s in extra_seeds(params)})


def _spread_seeds(tables) -> tuple[int, ...]:
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                if is_spread(cell.value):
                    return cell.value.seeds
    return ()


def table_note(table) -> str:
    """The tables' sentence about seeds ('' with one seed)."""
    seeds = _spread_seeds([table])
    if not seeds:
        return ""
    return (f" Seeded cells: mean ± sample std over seeds {', '.join(map(str, seeds))}; they count as "
            "reproduced when the paper's value lies within the seeds' min..max.")


def scorecard_note(tables) -> list[str]:
    """The README scorecard's lines about seeds (none with one seed)."""
    seeds = _spread_seeds(tables)
    if not seeds:
        return []
    return [f"With {len(seeds)} training seeds ({', '.join(map(str, seeds))}), a cell with one value per seed "
            "(segmentation and detection scores, the runs' fusion metrics) counts instead when the paper's value "
            "lies within the seeds' range (min..max); the tables print mean ± sample std.", ""]

