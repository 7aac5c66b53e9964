"""Run one unit for DVC, and keep the other core busy with the next independent units (lookahead).

Every generated stage runs `python -m stages.unit -- <its own command>`. DVC runs one stage at a
time (its #755), and every unit pins `<profile>.threads` threads, so a second core would idle.
While DVC runs unit X, this runner also starts, in the background, units that a whole-pipeline
`dvc repro` will need and whose upstream units this same `dvc repro` has already finished, up to
`<profile>.jobs` units at once. When DVC reaches such a unit, its runner waits for it and hands
its outputs over instead of computing them again.

Why the bytes cannot change: a looked-ahead unit runs exactly its stage's command, on outputs of
upstream units that DVC has already run and recorded in this same session, with the same code and
params. DVC deletes a stage's outputs before running its command, so the background unit keeps a
hard-linked copy of its outputs (the "stash") that the runner puts back. Anything unexpected (a
failed or interrupted background unit, a changed command, a missing output) makes the runner run
the unit itself, exactly as if there were no lookahead.

Scope: only under a whole-pipeline `dvc repro` / `dvc exp run` (no targets), because only then is
every unit one that this session will run. A single-stage `dvc repro <stage>`, a queued
experiment, or a command run by hand runs the unit alone. The runner is not a DVC dep of any
stage: it decides only when a unit runs, never what it computes.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline import layout
from pipeline.atomic import atomic_write_text
from pipeline.cpus import available_cpus
from pipeline.dag import units as U

STATE = Path(layout.work_dir("lookahead"))  # under the project root; data/work/ is never DVC's or git's
JOBS_ENV = "SSVIF_STAGE_JOBS"  # overrides <profile>.jobs (1 turns the lookahead off)
POLL_S = 0.2
# Options of `dvc repro` / `dvc exp run` that take a value (so that value is no target).
_VALUED = {"-S", "--set-param", "-n", "--name", "-m", "--message", "-j", "--jobs", "-C", "--copy-paths",
           "-r", "--remote", "--pull"}


def _argv(cmd: str) -> list[str]:
    """A unit's command as argv; its `python` is this interpreter (DVC's environment)."""
    argv = shlex.split(cmd)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def at_once(params: dict) -> int:
    """Units at once: `<profile>.jobs`, capped by cores / `<profile>.threads`; $SSVIF_STAGE_JOBS wins."""
    override = os.environ.get(JOBS_ENV, "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise SystemExit(f"{JOBS_ENV}={override!r}: give a whole number >= 1 (units run at once).")
        return int(override)
    profile = params.get(params.get("profile"), {})
    jobs, threads = profile.get("jobs", 1), profile.get("threads", 1)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise SystemExit(f"params.yaml: {params.get('profile')}.jobs={jobs!r}; it must be a whole number >= 1 "
                         "(units that run at once).")
    return max(1, min(jobs, available_cpus() // max(1, int(threads))))


# --- the DVC session a unit runs in -------------------------------------------------------------

def _proc(pid: int) -> tuple[int, str, list[str]] | None:
    """(parent pid, start time, argv) of a live process, from /proc; None where unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return int(fields[1]), fields[19], [a.decode(errors="replace") for a in argv if a]


def whole_pipeline(argv: list[str]) -> bool:
    """True for `dvc repro [options]` and `dvc exp run [options]` without targets."""
    names = [os.path.basename(a) for a in argv]
    if "dvc" not in names:
        return False
    rest = argv[names.index("dvc") + 1:]
    if rest[:1] == ["repro"]:
        rest = rest[1:]
    elif rest[:2] == ["exp", "run"]:
        rest = rest[2:]
    else:
        return False
    skip = False
    for arg in rest:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-") or arg in ("-s", "--single-item", "--queue", "--temp", "--downstream"):
            return False  # a target, or a mode in which other processes run the stages
    return True


def dvc_session() -> str | None:
    """`<pid>-<start time>` of the whole-pipeline DVC process this unit runs under, else None."""
    pid = os.getppid()
    for _ in range(8):  # DVC -> its shell -> this runner; a few more levels for wrappers
        info = _proc(pid)
        if info is None or pid <= 1:
            return None
        parent, started, argv = info
        if "dvc" in {os.path.basename(a) for a in argv[:3]}:  # `dvc ...`, `python .../dvc ...`, `python -m dvc`
            return f"{pid}-{started}" if whole_pipeline(argv) else None
        pid = parent
    return None


# --- start records, results and stashes of the background units -----------------------------

class Session:
    """data/work/lookahead/<session>/: per background unit a start record, a result, a log and a stash;
    `done/` marks the units whose outputs this DVC session has in place."""

    def __init__(self, root: Path, session: str):
        self.root, self.dir = root, root / STATE / session
        (self.dir / "done").mkdir(parents=True, exist_ok=True)

    def _read(self, name: str) -> dict | None:
        path = self.dir / name
        return json.loads(path.read_text()) if path.exists() else None

    def started(self, unit: str) -> dict | None:
        """{cmd, pid, started}: written by the runner that launched the unit in the background."""
        return self._read(f"{unit}.started.json")

    def result(self, unit: str) -> dict | None:
        """{state: done|failed, rc, ended}: written by the background unit when it ends."""
        return self._read(f"{unit}.result.json")

    def write(self, unit: str, kind: str, **fields) -> None:
        atomic_write_text(self.dir / f"{unit}.{kind}.json", json.dumps(fields))

    def log(self, unit: str) -> Path:
        return self.dir / f"{unit}.log"

    def stash(self, unit: str) -> Path:
        return self.dir / "stash" / unit

    def done(self, unit: str) -> bool:
        return (self.dir / "done" / unit).exists()

    def mark_done(self, unit: str) -> None:
        (self.dir / "done" / unit).touch()

    def running(self) -> list[str]:
        """Background units still running (started, no result yet, process alive)."""
        units = [p.name.removesuffix(".started.json") for p in self.dir.glob("*.started.json")]
        return [u for u in units if self.result(u) is None and _alive(self.started(u)["pid"])]

    def others(self) -> list[Path]:
        return [p for p in (self.root / STATE).iterdir() if p.is_dir() and p != self.dir]


def _alive(pid: int) -> bool:
    info = _proc(pid)
    return info is not None and Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"


def _stop(pid: int, sig=signal.SIGTERM) -> None:
    try:
        os.killpg(pid, sig)  # a background unit leads its own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def clear_other_sessions(session: Session) -> None:
    """Stop what an earlier, interrupted DVC session left running, and forget its records."""
    for other in session.others():
        for path in other.glob("*.started.json"):
            pid = json.loads(path.read_text())["pid"]
            if _alive(pid):
                _stop(pid)
                while _alive(pid):
                    time.sleep(POLL_S)
        shutil.rmtree(other, ignore_errors=True)


def _link_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, copy_function=os.link)
    else:
        os.link(src, dst)


def restore(session: Session, unit: U.Unit) -> bool:
    """Put a background unit's stashed outputs back in place (DVC deleted them); False if any is missing."""
    stash = session.stash(unit.name)
    if not all((stash / str(i)).exists() for i in range(len(unit.outs))):
        return False
    for i, out in enumerate(unit.outs):
        target = session.root / out
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stash / str(i), target)
    return True


# --- scheduling --------------------------------------------------------------------------------

def dvc_order(root: Path) -> list[str]:
    """Stage names in the order a whole-pipeline `dvc repro` runs them (DVC's own plan: a depth-first
    post-order from the root dvc.yaml's stages), so the background works on what DVC needs next."""
    from dvc.repo import Repo
    from dvc.repo.reproduce import collect_stages, get_active_graph, plan_repro

    with Repo(str(root)) as repo:
        steps = plan_repro(get_active_graph(repo.index.graph), collect_stages(repo, ["dvc.yaml"]))
        return [stage.addressing.rpartition(":")[2] for stage in steps]


def _order(session: Session) -> dict[str, int]:
    """DVC's order, computed once per session (a few seconds) and kept in the session folder."""
    path = session.dir / "order.json"
    if not path.exists():
        atomic_write_text(path, json.dumps(dvc_order(session.root)))
    return {name: i for i, name in enumerate(json.loads(path.read_text()))}


def ready(units: dict[str, U.Unit], session: Session, current: str) -> list[str]:
    """Units, in DVC's order, whose upstream units this session finished and that nobody has started.

    "Finished" means DVC has recorded it: a background unit's outputs are only final once its own
    stage has run, because DVC deletes a stage's outputs just before running it."""
    order = _order(session)
    names = [name for name, unit in units.items()
             if name != current and not session.done(name) and session.started(name) is None
             and all(session.done(up) for up in unit.upstream)]
    return sorted(names, key=lambda name: order.get(name, len(order)))


def launch(units: dict[str, U.Unit], session: Session, current: str, slots: int) -> None:
    """Start ready units in the background while fewer than `slots` background units run."""
    for name in ready(units, session, current)[:max(0, slots - len(session.running()))]:
        with open(session.log(name), "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "pipeline.dag.runner", "--background",
                                     session.dir.name, name], cwd=session.root, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1", "DVC_STAGE": name})
        session.write(name, "started", cmd=units[name].cmd, pid=proc.pid, started=time.time())
        print(f"lookahead: started {name} in the background, beside {current}", flush=True)


def background(root: Path, session_id: str, name: str) -> int:
    """A looked-ahead unit: run its command, then stash hard links of its outputs for its runner."""
    session = Session(root, session_id)
    unit = U.load(root)[name]
    code = subprocess.call(_argv(unit.cmd), cwd=root)
    state = "failed"
    if code == 0 and all((root / out).exists() for out in unit.outs):
        shutil.rmtree(session.stash(name), ignore_errors=True)
        for i, out in enumerate(unit.outs):
            _link_copy(root / out, session.stash(name) / str(i))
        state = "done"
    session.write(name, "result", state=state, rc=code, ended=time.time())
    return code


def _collect(session: Session, unit: U.Unit, units: dict[str, U.Unit], jobs: int) -> bool:
    """Wait for `unit`'s background run (keeping `jobs` slots busy meanwhile) and hand its outputs over."""
    started = session.started(unit.name)
    while session.result(unit.name) is None and _alive(started["pid"]):
        launch(units, session, unit.name, jobs)  # this runner only waits: every slot may compute
        time.sleep(POLL_S)
    result = session.result(unit.name) or {"state": "interrupted"}
    sys.stdout.write(session.log(unit.name).read_text(errors="replace"))
    if result["state"] == "done" and restore(session, unit):
        print(f"lookahead: {unit.name} ran in the background ({result['ended'] - started['started']:.1f} s); "
              "its outputs are handed over", flush=True)
        return True
    print(f"lookahead: the background run of {unit.name} did not finish cleanly ({result['state']}, "
          f"exit {result.get('rc')}): running it here", flush=True)
    return False


def foreground(root: Path, argv: list[str]) -> int:
    """Run this stage's unit (or collect it from the background) and keep the free slots busy."""
    name = os.environ.get("DVC_STAGE", "").rpartition(":")[2]
    session_id = dvc_session() if name else None
    params = yaml.safe_load((root / "params.yaml").read_text())
    jobs = at_once(params)
    if session_id is None or jobs < 2:
        return subprocess.call(argv, cwd=root)
    session = Session(root, session_id)
    clear_other_sessions(session)
    units = U.load(root, params)
    if name not in units:
        return subprocess.call(argv, cwd=root)
    procs: list[subprocess.Popen] = []

    def stop(signum, _frame):  # DVC or the user stops: stop this unit and every background unit
        for proc in procs:
            proc.send_signal(signum)
        for other in session.running():
            _stop(session.started(other)["pid"])
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    started = session.started(name)
    if started is not None and started["cmd"] == units[name].cmd and _collect(session, units[name], units, jobs):
        session.mark_done(name)
        return 0
    procs.append(subprocess.Popen(argv, cwd=root))
    while procs[0].poll() is None:
        launch(units, session, name, jobs - 1)  # this unit holds one slot
        time.sleep(POLL_S)
    if procs[0].returncode == 0:
        session.mark_done(name)
    return procs[0].returncode


def main(args: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if args is None else args)
    root = Path(os.environ.get("SSVIF_ROOT", ".")).resolve()
    if args[:1] == ["--background"]:
        return background(root, args[1], args[2])
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise SystemExit("usage: python -m stages.unit -- <the unit's command>")
    return foreground(root, _argv(" ".join(shlex.quote(a) for a in args)))


if __name__ == "__main__":
    sys.exit(main())
