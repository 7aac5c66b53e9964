"""Paired stages: one DVC stage runs two units of a compute group at once (`stages.together`).

DVC runs one stage at a time, and every stage pins `<profile>.threads` intra-op threads (1 in the
quick profile), so on a 2-core machine one core idled through training, fine-tuning and scoring.
A paired stage runs each of its units as its own process with exactly the command the unit would
have as a stage of its own, so the bytes are those of the unpaired DAG; only the wall time changes.

Who pairs with whom: units of one *family* first, i.e. keys equal once the dataset names are taken
out (`visible-fmb` + `visible-msrs`, `ssvif-swinfusion-fmb` + `ssvif-swinfusion-msrs`). An ablation
usually changes a whole family, so its paired stage reruns exactly what changed. The rest pair in
DAG order; an odd unit out joins the last pair, first in line (it starts at once beside the first).

The foreach body is one template for every item (DVC), so each item holds its units as slots
`s0`, `s1`, ...; a stage with fewer units than the group's widest repeats its first unit, which DVC
de-duplicates (deps, params, outs) and `stages.together` runs once.
"""
from __future__ import annotations

import shlex

# Compute groups whose stages run paired. A fuse unit already fuses one image per core; paired, two
# units share the cores (same total work) and overlap their start-up and DVC's bookkeeping.
PAIRED_GROUPS = ("weights", "train", "fuse", "fuse_rule", "fusion_metrics", "segment", "detect")
SEPARATOR = "+"  # stage key of a pair: `train@<unit>+<unit>`
SLOT = "s"


def family(key: str, datasets: tuple[str, ...]) -> str:
    """`ssvif-swinfusion-msrs` -> `ssvif-swinfusion`; `max-s1-fmb` -> `max-s1` (seeds stay apart)."""
    return "-".join(t for t in key.split("-") if t not in datasets)


def partition(keys: list[str], datasets: tuple[str, ...]) -> list[list[str]]:
    """The units of each paired stage, in DAG order (see the module docstring)."""
    families: dict[str, list[str]] = {}
    for key in keys:
        families.setdefault(family(key, datasets), []).append(key)
    parts, rest = [], []
    for members in families.values():
        whole = len(members) - len(members) % 2
        parts += [members[i:i + 2] for i in range(0, whole, 2)]
        rest += members[whole:]
    parts += [rest[i:i + 2] for i in range(0, len(rest) - len(rest) % 2, 2)]
    if len(rest) % 2:
        lone = rest[-1]
        if parts:
            parts[-1] = [lone, *parts[-1]]  # first in line: it runs beside the pair's first unit
        else:
            parts = [[lone]]
    order = {key: i for i, key in enumerate(keys)}
    return sorted(parts, key=lambda part: min(order[k] for k in part))


def _in_slot(text: str, slot: int) -> str:
    """A unit's template text as slot `slot` of a paired item: ${key} / ${item.x} -> ${item.s<slot>.*}."""
    return text.replace("${item.", f"${{item.{SLOT}{slot}.").replace("${key}", f"${{item.{SLOT}{slot}.key}}")


def _per_slot(entries: list, slots: int) -> list:
    """Template list entries for every slot: a unit-specific entry once per slot, a shared one once."""
    out: list = []
    for entry in entries:
        text = entry if isinstance(entry, str) else next(iter(entry))
        copies = [entry] if "$" not in text.replace("${profile}", "") else [
            _in_slot(entry, s) if isinstance(entry, str) else {_in_slot(text, s): entry[text]} for s in range(slots)]
        out += [c for c in copies if c not in out]
    return out


def pair(stage: dict, datasets: tuple[str, ...], runner_deps: list[str]) -> dict:
    """A unit foreach group ({foreach: {key: item}, do: body}) as paired stages with the same commands."""
    items, body = stage["foreach"], stage["do"]
    parts = partition(list(items), datasets)
    slots = max(len(part) for part in parts)
    foreach = {}
    for part in parts:
        padded = part + [part[0]] * (slots - len(part))
        foreach[SEPARATOR.join(part)] = {f"{SLOT}{s}": {"key": key, **items[key]} for s, key in enumerate(padded)}
    units = " ".join(f"--unit {_in_slot('${key}', s)} {shlex.quote(_in_slot(body['cmd'], s))}" for s in range(slots))
    paired = {k: v for k, v in body.items() if k not in ("cmd", "deps", "params", "outs")}
    paired["cmd"] = f"python -m stages.together {units}"
    paired["deps"] = _per_slot(body.get("deps", []), slots) + [d for d in runner_deps if d not in body.get("deps", [])]
    for field in ("params", "outs"):
        if body.get(field):
            paired[field] = _per_slot(body[field], slots)
    return {"foreach": foreach, "do": paired}


def unpair(stage: dict) -> dict:
    """A paired group's foreach as its units' ({unit key: unit item}); other groups as they are."""
    items = stage.get("foreach")
    if not isinstance(items, dict) or not all(isinstance(v, dict) and f"{SLOT}0" in v for v in items.values()):
        return stage
    units = {}
    for item in items.values():
        for slot in item.values():
            units.setdefault(slot["key"], {k: v for k, v in slot.items() if k != "key"})
    return {**stage, "foreach": units}
