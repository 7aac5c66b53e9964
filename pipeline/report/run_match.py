"""Which params run a table row means, found by the run's settings (never by its name).

A row that needs a trained run declares the settings that run must have (a
:class:`RequiredRun`); :func:`find_run` looks for it among params ``runs``. Renaming a run in
params.yaml therefore keeps its row filled; removing it leaves the row "not run" (the README
says which entry would fill it); two runs with the same settings are an error.

A run's settings are read from its params entry; a headline run (``headline: true``) takes
the top-level ``weighting``. Headline runs only fill the rows that ask for the headline run
(the ``("headline",)`` row source of pipeline.report.spec), so that `-S weighting=ucw` makes
the headline run the paper's "Ours" row and leaves the UCW row to the run trained for it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping


@dataclass(frozen=True)
class RequiredRun:
    """The settings a table row's run must have: every field is compared, none is optional."""

    framework: str
    model: str
    dataset: str
    weighting: str
    csc: bool
    two_stage: bool
    n_classes: int
    lambda_color: float
    channels: int

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def suggested_name(self) -> str:
        """A run name for these settings in the project's naming (only a suggestion: rows match by settings)."""
        base = f"{self.framework}-{self.model}-{self.dataset}"
        if self.as_dict() == {**FMB_HEADLINE.as_dict(), "model": self.model, "dataset": self.dataset}:
            return base
        parts = [self.weighting] if self.weighting != FMB_HEADLINE.weighting else []
        parts += ["nocsc"] if not self.csc else []
        parts += ["onestage"] if not self.two_stage else []
        parts += [f"n{self.n_classes}"] if self.n_classes != FMB_HEADLINE.n_classes else []
        parts += [f"l{self.lambda_color:g}"] if self.lambda_color != FMB_HEADLINE.lambda_color else []
        parts += [f"{self.channels}ch"] if self.channels != FMB_HEADLINE.channels else []
        return "-".join([base] + parts)

    def params_snippet(self, name: str | None = None) -> str:
        """The params.yaml entry (under ``runs:``) that would fill a row asking for these settings."""
        lines = ["runs:", f"  {name or self.suggested_name()}:"]
        for key, value in self.as_dict().items():
            text = ("true" if value else "false") if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) else value
            lines.append(f"    {key}: {text}")
        lines.append("    fuse_m3fd: false")
        return "\n".join(lines)


# The paper's headline FMB run (SwinFusion trained by SSVIF with GDWA, Table III's "Ours"):
# the ablation rows of Tables III and VI-VIII spell out how their run differs from it.
FMB_HEADLINE = RequiredRun(framework="ssvif", model="swinfusion", dataset="fmb", weighting="gdwa", csc=True,
                           two_stage=True, n_classes=15, lambda_color=20, channels=3)
KEYS = tuple(f.name for f in fields(RequiredRun))


def run_settings(run: Mapping, weighting: str) -> dict:
    """The settings of params run ``run`` (missing keys absent); a headline run's weighting is ``weighting``."""
    out = {k: run[k] for k in KEYS if k in run}
    if run.get("framework") == "ssvif" and run.get("headline"):
        out["weighting"] = weighting
    return out


def matching_runs(runs: Mapping[str, Mapping], wanted: RequiredRun, weighting: str) -> list[str]:
    """Names of the non-headline runs whose settings are ``wanted``, in params order."""
    target = wanted.as_dict()
    return [name for name, run in runs.items() if not run.get("headline") and run_settings(run, weighting) == target]


def find_run(runs: Mapping[str, Mapping], wanted: RequiredRun, weighting: str, row: str = "") -> str | None:
    """The one run with the settings ``wanted``; None when there is none; an error naming both when two."""
    names = matching_runs(runs, wanted, weighting)
    if len(names) > 1:
        raise ValueError(
            f"params.yaml runs: {' and '.join(repr(n) for n in names)} have the same settings, "
            f"so {row or 'a table row'} would be filled by either; keep one (settings: {wanted.as_dict()})")
    return names[0] if names else None


def weighting_runs(runs: Mapping[str, Mapping]) -> list[str]:
    """The headline FMB run and the runs that differ from it only in their weighting (Table III (ii)), params order.

    Used by the w_csc curves (stages.figures) and `dvc plots` (pipeline.dag.build); empty without a headline FMB run.
    """
    headline = [n for n, r in runs.items() if r.get("headline") and r.get("dataset") == FMB_HEADLINE.dataset]
    if len(headline) != 1:
        return []
    reference = {k: v for k, v in run_settings(runs[headline[0]], "").items() if k != "weighting"}
    return [n for n, r in runs.items() if n == headline[0] or (
        not r.get("headline") and r.get("framework") == "ssvif"
        and {k: v for k, v in run_settings(r, "").items() if k != "weighting"} == reference)]
