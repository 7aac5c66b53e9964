"""Run one unit for DVC, and keep the other core busy with the next independent units (lookahead).

Every generated stage runs `python -m stages.unit -- <its own command>`. DVC runs one stage at a
time (its #755), and every unit pins `<profile>.threads` threads, so a second core would idle.
While DVC runs unit X, this runner also starts, in the background, units that this whole-pipeline
`dvc repro` will run (every unit under `--force`; otherwise the changed units and everything
downstream of them), up to `<profile>.jobs` units at once. When DVC reaches such a unit, its runner
waits for it and hands its outputs over instead of computing them again.

A unit may start once each upstream unit is either recorded by DVC in this session or finished in
the background ("provisional": its outputs are in place, DVC has not reached its stage yet). That
lets a run's whole chain (train, fuse, metrics, ...) go ahead while DVC is busy elsewhere.

Why the bytes cannot change: a looked-ahead unit runs exactly its stage's command, with the same
code and params, on exactly the bytes its upstream stages record. DVC deletes a stage's outputs
before running its command, so a background unit keeps a hard-linked copy of its outputs (the
"stash") that the runner puts back. A unit that read a provisional upstream is used only if that
upstream's stash was handed over (the very files it read) and DVC did not touch those files while
it ran (same inodes and change times before and after). Anything unexpected (a failed, stale or
interrupted background unit, a changed command, a missing output, an upstream computed again) makes
the runner run the unit itself, exactly as if there were no lookahead.

Scope: only under a whole-pipeline `dvc repro` / `dvc exp run` (no targets), because only then does
this session run every unit in its plan. A single-stage `dvc repro <stage>`, a queued experiment,
or a command run by hand runs the unit alone. The runner is not a DVC dep of any stage: it decides
only when a unit runs, never what it computes.
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

from pipeline import layout
from pipeline.atomic import atomic_write_text
from pipeline.cpus import available_cpus
from pipeline.dag import units as U
from pipeline.dag.plan import plan, ready, skipped

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


def _options(argv: list[str]) -> list[str] | None:
    """What follows `dvc repro` / `dvc exp run` in `argv`; None for any other command."""
    names = [os.path.basename(a) for a in argv]
    if "dvc" not in names:
        return None
    rest = argv[names.index("dvc") + 1:]
    if rest[:1] == ["repro"]:
        return rest[1:]
    if rest[:2] == ["exp", "run"]:
        return rest[2:]
    return None


def whole_pipeline(argv: list[str]) -> bool:
    """True for `dvc repro [options]` and `dvc exp run [options]` without targets."""
    rest = _options(argv)
    if rest is None:
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


def forced(argv: list[str]) -> bool:
    """True for `dvc repro -f` / `--force` (every stage runs, changed or not)."""
    return any(arg in ("-f", "--force") for arg in _options(argv) or [])


def dvc_session() -> tuple[str, bool] | None:
    """(`<pid>-<start time>`, forced) of the whole-pipeline DVC process this unit runs under, else None."""
    pid = os.getppid()
    for _ in range(8):  # DVC -> its shell -> this runner; a few more levels for wrappers
        info = _proc(pid)
        if info is None or pid <= 1:
            return None
        parent, started, argv = info
        if "dvc" in {os.path.basename(a) for a in argv[:3]}:  # `dvc ...`, `python .../dvc ...`, `python -m dvc`
            return (f"{pid}-{started}", forced(argv)) if whole_pipeline(argv) else None
        pid = parent
    return None


# --- start records, results and stashes of the background units -----------------------------

class Session:
    """data/work/lookahead/<session>/: per background unit a start record, a result, a log and a stash;
    `done/` marks the units whose outputs this DVC session has in place, `handed/` those of them whose
    outputs came from their background run's stash."""

    def __init__(self, root: Path, session: str, force: bool = False):
        self.root, self.dir, self.force = root, root / STATE / session, force
        self._locked: dict[str, list] | None = None
        for marks in ("done", "handed"):
            (self.dir / marks).mkdir(parents=True, exist_ok=True)

    def _read(self, name: str) -> dict | None:
        path = self.dir / name
        return json.loads(path.read_text()) if path.exists() else None

    def started(self, unit: str) -> dict | None:
        """{cmd, pid, started, provisional}: written by the runner that launched the unit in the background;
        provisional: its upstream units that had only finished in the background when it started."""
        return self._read(f"{unit}.started.json")

    def result(self, unit: str) -> dict | None:
        """{state: done|failed|stale, rc, ended}: written by the background unit when it ends (stale: DVC
        touched a provisional upstream's outputs while it ran)."""
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

    def handed(self, unit: str) -> bool:
        return (self.dir / "handed" / unit).exists()

    def mark_handed(self, unit: str) -> None:
        (self.dir / "handed" / unit).touch()

    def finished(self, unit: str) -> bool:
        """Finished in the background with its outputs in place and stashed, DVC not there yet."""
        result = self.result(unit)
        return result is not None and result["state"] == "done"

    def running(self) -> list[str]:
        """Background units still running (started, no result yet, process alive)."""
        units = [p.name.removesuffix(".started.json") for p in self.dir.glob("*.started.json")]
        return [u for u in units if self.result(u) is None and _alive(self.started(u)["pid"])]

    def locked_now(self) -> dict[str, list]:
        """plan.locked_outputs, read once per runner process (DVC writes no lock while its stage runs)."""
        if self._locked is None:
            from pipeline.dag.plan import locked_outputs

            self._locked = locked_outputs(self.root)
        return self._locked

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


def halt(root: Path, pid: int, unit: U.Unit | None) -> None:
    """Stop a background unit's processes and remove the temporaries its atomic writes left beside its
    outputs (pipeline.atomic: `.<name>.*.part`), which no output's .gitignore covers."""
    _stop(pid)
    while _alive(pid):
        time.sleep(POLL_S)
    for out in unit.outs if unit else []:
        path = root / out
        for tmp in path.parent.glob(f".{path.name}.*.part"):
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def clear_other_sessions(session: Session, units: dict[str, U.Unit]) -> None:
    """Stop what an earlier, interrupted DVC session left running, and forget its records."""
    for other in session.others():
        for path in other.glob("*.started.json"):
            pid = json.loads(path.read_text())["pid"]
            if _alive(pid):
                halt(session.root, pid, units.get(path.name.removesuffix(".started.json")))
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


# --- starting units in the background ---------------------------------------------------------

def launch(units: dict[str, U.Unit], session: Session, current: str, slots: int) -> None:
    """Start ready units in the background while fewer than `slots` background units run."""
    for name, provisional in ready(units, session, current)[:max(0, slots - len(session.running()))]:
        with open(session.log(name), "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "pipeline.dag.runner", "--background",
                                     session.dir.name, name, *provisional], cwd=session.root, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1", "DVC_STAGE": name})
        session.write(name, "started", cmd=units[name].cmd, pid=proc.pid, started=time.time(),
                      provisional=provisional)
        print(f"lookahead: started {name} in the background, beside {current}", flush=True)


def snapshot(root: Path, paths: list[str]) -> dict[str, list[int] | None]:
    """(inode, change time, size) of every file and folder at or under `paths`; None for a missing path.
    DVC removing, restoring or re-linking a file changes its inode or its change time."""
    found: dict[str, list[int] | None] = {}
    for rel in paths:
        top = root / rel
        for path in [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]:
            try:
                st = path.lstat()
            except FileNotFoundError:
                found[str(path.relative_to(root))] = None
                continue
            found[str(path.relative_to(root))] = [st.st_ino, st.st_ctime_ns, st.st_size]
    return found


def background(root: Path, session_id: str, name: str, provisional: list[str]) -> int:
    """A looked-ahead unit: run its command, then stash hard links of its outputs for its runner.

    Its provisional upstream units' outputs must stay untouched while it runs: DVC reaching one of
    those stages (removing and re-linking its outputs) makes this run stale, and its runner reruns it."""
    session = Session(root, session_id)
    units = U.load(root)
    unit, read = units[name], [out for up in provisional for out in units[up].outs]
    before = snapshot(root, read)
    code = subprocess.call(_argv(unit.cmd), cwd=root) if None not in before.values() else None
    state = "failed"
    if code == 0 and all((root / out).exists() for out in unit.outs):
        state = "done" if snapshot(root, read) == before else "stale"
    if state == "done":
        shutil.rmtree(session.stash(name), ignore_errors=True)
        for i, out in enumerate(unit.outs):
            _link_copy(root / out, session.stash(name) / str(i))
    session.write(name, "result", state=state, rc=code, ended=time.time())
    return 0 if code is None else code


def drop_doomed(session: Session, units: dict[str, U.Unit], upstream: str) -> None:
    """DVC has reached `upstream` (and removed its outputs): a background unit still reading them
    provisionally would end stale. Stop it now and forget it, so it starts again once DVC records
    `upstream`."""
    for name in session.running():
        started = session.started(name)
        if upstream in started.get("provisional", []):
            halt(session.root, started["pid"], units.get(name))
            for kind in ("started", "result"):
                (session.dir / f"{name}.{kind}.json").unlink(missing_ok=True)
            shutil.rmtree(session.stash(name), ignore_errors=True)
            print(f"lookahead: stopped {name}, which read {upstream} before DVC reached it; it starts again "
                  "once DVC records it", flush=True)


def _collect(session: Session, unit: U.Unit, units: dict[str, U.Unit], jobs: int) -> bool:
    """Wait for `unit`'s background run (keeping `jobs` slots busy meanwhile) and hand its outputs over."""
    started = session.started(unit.name)
    while session.result(unit.name) is None and _alive(started["pid"]):
        launch(units, session, unit.name, jobs)  # this runner only waits: every slot may compute
        time.sleep(POLL_S)
    result = session.result(unit.name) or {"state": "interrupted"}
    sys.stdout.write(session.log(unit.name).read_text(errors="replace"))
    # An upstream DVC ran again replaced what this unit read; one DVC skipped kept it (as dvc.lock records it).
    order = plan(session, units)["order"]
    redone = [up for up in started.get("provisional", [])
              if not session.handed(up) and not skipped(session, order, up, unit.name)]
    if redone:
        result = {"state": f"read {', '.join(redone)} before DVC recorded it from elsewhere", "rc": result.get("rc")}
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
    dvc = dvc_session() if name else None
    params = U.read_yaml(root / "params.yaml")
    jobs = at_once(params)
    if dvc is None or jobs < 2:
        return subprocess.call(argv, cwd=root)
    session = Session(root, dvc[0], force=dvc[1])
    units = U.load(root, params)
    clear_other_sessions(session, units)
    if name not in units:
        return subprocess.call(argv, cwd=root)
    procs: list[subprocess.Popen] = []

    def stop(signum, _frame):  # DVC or the user stops: stop this unit and every background unit
        for proc in procs:
            proc.send_signal(signum)
        for other in session.running():
            halt(root, session.started(other)["pid"], units.get(other))
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    drop_doomed(session, units, name)
    started = session.started(name)
    if started is not None and started["cmd"] == units[name].cmd and _collect(session, units[name], units, jobs):
        session.mark_handed(name)
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
        return background(root, args[1], args[2], args[3:])
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise SystemExit("usage: python -m stages.unit -- <the unit's command>")
    return foreground(root, _argv(" ".join(shlex.quote(a) for a in args)))


if __name__ == "__main__":
    sys.exit(main())
