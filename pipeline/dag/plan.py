"""Which units the lookahead may start now: DVC's plan for this run, and the scheduling rules.

pipeline.dag.runner calls :func:`ready` while a stage runs. The rules, each for the bytes or for time:
- only units this run will execute (DVC's changed stages and everything downstream; all under --force);
  a unit that is not changed by itself (its command, outputs, params or code; not only an upstream's
  outputs, missing at the start as in a fresh clone) goes only once an upstream stage DVC recorded in
  this run has other outputs than at its start (DVC skips a stage whose inputs came out the same; a unit
  started anyway would outlive the run, rewriting outputs after `dvc repro` has returned);
- a unit's upstream units are recorded by DVC (run, or passed and skipped), or finished in the background
  ("provisional");
- a provisional unit starts only if, by this run's timings of its kind, it should end before DVC
  reaches its upstream stage (DVC removing those outputs would stop it: runner.drop_doomed);
- in DVC's own order, so the background works on what DVC needs next.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.atomic import atomic_write_text
from pipeline.dag import units as U

if TYPE_CHECKING:
    from pipeline.dag.runner import Session


def dvc_plan(root: Path, force: bool) -> tuple[list[str], list[str], list[str]]:
    """(order, changed, sure): stage names in the order a whole-pipeline `dvc repro` runs them (DVC's own
    plan: a depth-first post-order from the root dvc.yaml's stages), those that changed (what
    `dvc status` lists; every stage under `--force`), and those of them that DVC runs whatever their
    upstream stages write (:func:`_own_change`).

    The DVC process that runs this unit holds the repository lock, so this read-only look runs
    without DVC's locks and without its hash database (DVC's own `stage.changed()`, hashing afresh)."""
    import contextlib
    import types

    import dvc.rwlock
    from dvc.repo import Repo
    from dvc.repo.reproduce import collect_stages, get_active_graph, plan_repro
    from dvc_data.hashfile.state import StateNoop

    def name(stage) -> str:
        return stage.addressing.rpartition(":")[2]

    dvc.rwlock.rwlock = lambda *args, **kwargs: contextlib.nullcontext()  # this process only reads
    with Repo(str(root)) as repo:
        repo.lock, repo.state = types.SimpleNamespace(is_locked=True), StateNoop()
        steps = plan_repro(get_active_graph(repo.index.graph), collect_stages(repo, [str(root / "dvc.yaml")]))
        order = [name(stage) for stage in steps]
        if force:
            return order, order, order
        produced = [out.fs_path for stage in steps for out in stage.outs]
        changed = [name(stage) for stage in steps if stage.changed()]
        sure = [name(stage) for stage in steps if name(stage) in changed and _own_change(stage, produced)]
    return order, changed, sure


def _own_change(stage, produced: list[str]) -> bool:
    """Changed whatever its upstream stages write: its command, one of its outputs (missing or edited), or a
    dep no stage writes (params, code). A stage changed only through an upstream's outputs (missing at the
    start, as in a fresh clone) is skipped by DVC if they come out as dvc.lock records them."""
    def written(path: str) -> bool:
        return any(path == out or path.startswith(out + "/") or out.startswith(path + "/") for out in produced)

    return (stage.changed_stage() or stage.changed_outs()
            or any(dep.status() for dep in stage.deps if not written(dep.fs_path)))


def downstream(units: dict[str, U.Unit], names: list[str]) -> set[str]:
    """`names` and every unit that reads, directly or not, what one of them writes."""
    below: dict[str, set[str]] = {name: set() for name in units}
    for name, unit in units.items():
        for up in unit.upstream:
            below.setdefault(up, set()).add(name)
    todo, seen = list(names), set(names)
    while todo:
        for name in below.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def locked_outputs(root: Path) -> dict[str, list]:
    """Each stage's outputs as the dvc.lock files record them now: {stage: [[path, md5], ...]}."""
    found: dict[str, list] = {}
    for dvc_yaml in U.dvc_files(root):
        lock = dvc_yaml.with_name("dvc.lock")
        for name, entry in ((U.read_yaml(lock) or {}).get("stages", {}) if lock.exists() else {}).items():
            found[name] = sorted([out["path"], out.get("md5")] for out in entry.get("outs", []))
    return found


def plan(session: Session, units: dict[str, U.Unit]) -> dict:
    """{order: {stage: DVC's position}, will_run: the units this session may run, changed: those DVC
    runs whatever their inputs give, locked: the outputs of the will_run units at the start}: computed
    once per session (a few seconds, by the first unit's runner) and kept in the session folder."""
    path = session.dir / "plan.json"
    if not path.exists():
        try:
            order, changed, sure = dvc_plan(session.root, session.force)
        except Exception as error:  # noqa: BLE001 - any DVC internals changing: no lookahead, never a failure
            print(f"lookahead: off in this session (DVC's plan could not be read: {error!r})", flush=True)
            order, changed, sure = [], [], []
        will_run = downstream(units, changed)
        locked = {name: outs for name, outs in locked_outputs(session.root).items() if name in will_run}
        atomic_write_text(path, json.dumps({"order": order, "will_run": sorted(will_run), "changed": changed,
                                            "sure": sure, "locked": locked}))
    plan = json.loads(path.read_text())
    changed = plan.get("changed", plan["will_run"])
    return {"order": {name: i for i, name in enumerate(plan["order"])}, "will_run": set(plan["will_run"]),
            "changed": set(changed), "sure": set(plan.get("sure", changed)), "locked": plan.get("locked", {})}


def skipped(session: Session, order: dict[str, int], up: str, current: str) -> bool:
    """DVC has passed `up` without running it: its stage came out unchanged (a fresh clone's committed
    outputs, an upstream that reran to the same bytes), so its outputs are those dvc.lock records. DVC
    runs stages in `order`, one at a time: every stage before `current` is run (done) or skipped. Not
    while a background run of `up` may still write."""
    return not session.done(up) and passed(order, up, current) and up not in session.running()


def passed(order: dict[str, int], name: str, current: str) -> bool:
    """DVC, now at `current`, has already dealt with `name` (run or skipped): it comes earlier in `order`."""
    return order.get(name, len(order)) < order.get(current, -1)


def _kind(name: str) -> str:
    """Units of one kind take about as long: `fuse`, `fuse-m3fd`, `train`, `segment`, ..."""
    return name.partition("@")[0] + ("-m3fd" if name.endswith("-m3fd") else "")


def _durations(session: Session) -> dict[str, list[float]]:
    """Seconds each background run of this session took, by kind."""
    took: dict[str, list[float]] = {}
    for path in session.dir.glob("*.result.json"):
        name = path.name.removesuffix(".result.json")
        started, result = session.started(name), session.result(name)
        if started and result and result["state"] == "done":
            took.setdefault(_kind(name), []).append(result["ended"] - started["started"])
    return took


def ready(units: dict[str, U.Unit], session: Session, current: str) -> list[tuple[str, list[str]]]:
    """(unit, its provisional upstream units), in DVC's order, for the units this session will run that
    nobody has started and whose upstream units are recorded (run by DVC in this session, or up to date
    and not run) or finished in the background (provisional)."""
    planned = plan(session, units)
    order, will_run = planned["order"], planned["will_run"]

    def recorded(up: str) -> bool:  # DVC ran it in this session, skipped it, or will not run it (up to date)
        return session.done(up) or up not in will_run or skipped(session, order, up, current)

    def sure(name: str) -> bool:
        """DVC will run `name`: it changed by itself, or an upstream it recorded in this run has new outputs.
        (The dvc.lock files cannot change while this runner lives: DVC waits for its one stage.)"""
        if name in planned["sure"]:
            return True
        moved = [up for up in units[name].upstream if up in will_run and session.done(up)]
        return any(session.locked_now().get(up) != planned["locked"].get(up) for up in moved)

    sequence = sorted(order, key=order.get)
    here = order.get(current, -1)
    settled = {name for name in sequence if recorded(name) or session.finished(name)}
    took = _durations(session)

    def guess(name: str) -> float | None:
        """Seconds `name` takes: the mean of this session's background runs of its kind."""
        runs = took.get(_kind(name))
        return sum(runs) / len(runs) if runs else None

    def reach(up: str) -> float | None:
        """Seconds until DVC reaches `up` (after `current`): the units between them still to run or
        running; None if one of them has no estimate yet."""
        left = 0.0
        for name in sequence[here + 1:order.get(up, here + 1)]:
            if name in settled:
                continue
            need = guess(name)
            if need is None:
                return None
            started = session.started(name)
            left += max(0.0, need - (time.time() - started["started"])) if started else need
        return left

    def in_time(name: str, up: str) -> bool:
        """Would `name`, reading `up` provisionally, end before DVC reaches `up` (and stops it)? If
        everything between is settled, DVC reaches it as soon as `current` ends: no."""
        if all(between in settled for between in sequence[here + 1:order.get(up, here + 1)]):
            return False
        need, left = guess(name), reach(up)
        return need is None or left is None or need < left

    found = []
    for name, unit in units.items():
        if name == current or name not in will_run or session.done(name) or session.started(name) is not None:
            continue
        if passed(order, name, current):  # never after the fact
            continue
        if not sure(name):
            continue
        provisional = sorted(up for up in unit.upstream if not recorded(up))
        if all(session.finished(up) and in_time(name, up) for up in provisional):
            found.append((name, provisional))
    return sorted(found, key=lambda entry: order.get(entry[0], len(order)))
