"""Run the units of a paired stage (stages.dag_pairs), each as its own process, up to `jobs` at once.

    python -m stages.together --unit NAME 'python -m stages.train --run NAME ...' --unit NAME2 '...'

Each unit runs exactly the command it would run as a stage of its own; it pins its own thread
count, so its bytes never depend on how many units run beside it. At once: `<profile>.jobs`,
at most one unit per `<profile>.threads` cores (pipeline.cpus), `$SSVIF_STAGE_JOBS` if set.
Output lines carry the unit's name. When a unit fails, no further unit starts, the running ones
finish (their resumable work stays under data/work/), and the stage fails naming the unit.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time

import click

JOBS_ENV = "SSVIF_STAGE_JOBS"  # overrides <profile>.jobs (e.g. 1 on a machine shared with other work)


def at_once(params: dict, units: int) -> int:
    """Units run at once: `<profile>.jobs`, capped by cores / threads and the unit count; $SSVIF_STAGE_JOBS wins."""
    from pipeline.cpus import available_cpus
    from stages._params import ParamsError, profile_section

    override = os.environ.get(JOBS_ENV, "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise click.ClickException(f"{JOBS_ENV}={override!r}: give a whole number >= 1 (units run at once).")
        return min(int(override), units)
    jobs, threads = profile_section(params, "jobs"), profile_section(params, "threads")
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ParamsError(f"params.yaml: {params['profile']}.jobs={jobs!r}; it must be a whole number >= 1 "
                          "(units of a paired stage run at once).")
    return max(1, min(jobs, units, available_cpus() // max(1, threads)))


def _argv(cmd: str) -> list[str]:
    """A unit's command as argv; its `python` is this interpreter (the same environment as DVC's)."""
    argv = shlex.split(cmd)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


class _Unit:
    def __init__(self, name: str, cmd: str, lock: threading.Lock):
        self.name, self.cmd, self.lock = name, cmd, lock
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # progress lines arrive as they are printed
        self.proc = subprocess.Popen(_argv(self.cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     text=True, errors="replace", bufsize=1)
        self.reader = threading.Thread(target=self._relay, daemon=True)
        self.reader.start()

    def _relay(self) -> None:
        for line in self.proc.stdout:
            with self.lock:
                sys.stdout.write(f"[{self.name}] {line}")
                sys.stdout.flush()

    def poll(self) -> int | None:
        code = self.proc.poll()
        if code is not None:
            self.reader.join()
        return code


def run_units(units: list[tuple[str, str]], jobs: int, echo=click.echo) -> tuple[list[str], list[str]]:
    """Run (name, cmd) units, `jobs` at once, in order; return (names that failed, names never started)."""
    lock = threading.Lock()
    waiting = [_Unit(name, cmd, lock) for name, cmd in units]
    running: list[_Unit] = []
    failed: list[str] = []

    def stop(signum, _frame):  # DVC or the user stops the stage: stop the units too, then exit
        for unit in running:
            unit.proc.send_signal(signum)
        for unit in running:
            unit.proc.wait()
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while waiting or running:
            while waiting and len(running) < jobs and not failed:
                unit = waiting.pop(0)
                unit.start()
                running.append(unit)
                with lock:
                    echo(f"together: {unit.name} started ({len(running)} running, {len(waiting)} waiting)")
            if failed and not running:
                break
            time.sleep(0.05)
            for unit in list(running):
                code = unit.poll()
                if code is None:
                    continue
                running.remove(unit)
                with lock:
                    echo(f"together: {unit.name} {'done' if code == 0 else f'FAILED (exit {code})'} "
                         f"in {time.monotonic() - unit.started:.1f} s")
                if code:
                    failed.append(unit.name)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return failed, [u.name for u in waiting]


@click.command()
@click.option("--unit", "units", type=(str, str), multiple=True, required=True,
              help="NAME CMD: one unit and its command (repeated; a repeated NAME runs once)")
def main(units):
    """Run a paired stage's units, each as its own process, up to <profile>.jobs at once."""
    from stages._params import load_params

    unique = dict(units)  # a padded slot repeats its stage's first unit (stages.dag_pairs)
    clash = sorted({name for name, cmd in units if unique[name] != cmd})
    if clash:
        raise click.ClickException(f"--unit {', '.join(clash)}: one name, two different commands.")
    failed, skipped = run_units(list(unique.items()), at_once(load_params(), len(unique)))
    if failed:
        raise click.ClickException(
            f"unit(s) {', '.join(failed)} failed (output above, prefixed with the unit name)"
            + (f"; not started: {', '.join(skipped)}" if skipped else "")
            + ". Fix the cause and re-run `dvc repro`: finished training resumes from data/work/.")


if __name__ == "__main__":
    main()
