"""The paper's published values (package data ``published.yaml``), one table at a time."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class PublishedTable:
    """A table of the paper: ``columns`` (value names) and ``rows`` (row key -> {column: value})."""

    columns: tuple[str, ...]
    rows: dict[str, dict[str, Any]]

    def value(self, row: str | None, column: str) -> Any:
        """Published value of a cell, or None (no published row, or illegible in the text)."""
        if row is None:
            return None
        if row not in self.rows:
            raise KeyError(f"published.yaml has no row {row!r}; rows: {', '.join(self.rows)}")
        return self.rows[row].get(column)


@lru_cache(maxsize=1)
def load_published() -> dict[str, Any]:
    """The whole file as plain data (``gradient`` and ``table1`` .. ``table9``)."""
    text = resources.files("pipeline.report").joinpath("published.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def published_table(table_id: str) -> PublishedTable:
    """Published rows of ``table_id`` ("table1" .. "table9"); rows keep the paper's order."""
    data = load_published()
    if table_id not in data or table_id == "gradient":
        valid = ", ".join(k for k in data if k.startswith("table"))
        raise KeyError(f"published.yaml has no table {table_id!r}; valid: {valid}")
    block = data[table_id]
    columns = tuple(block["columns"])
    rows: dict[str, dict[str, Any]] = {}
    for row in block["rows"]:
        key, values = row[0], row[1:]
        if len(values) != len(columns):
            raise ValueError(f"published.yaml {table_id} row {key!r}: {len(values)} values for {len(columns)} columns")
        rows[key] = dict(zip(columns, values))
    return PublishedTable(columns, rows)


def published_alpha_cf() -> float:
    """Sec. IV-F: the average projection coefficient of the CSC gradient onto the fusion one."""
    return float(load_published()["gradient"]["alpha_cf_mean"])
