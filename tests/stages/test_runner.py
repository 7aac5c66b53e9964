"""The unit runner (pipeline.dag.runner): independent units run beside DVC's, under real `dvc repro`."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.dag import plan, runner
from pipeline.dag import units as U
from pipeline.dag.units import RUNNER, load

ROOT = Path(__file__).resolve().parents[2]


MEET = """import pathlib, sys, time
name, other = sys.argv[1:]
pathlib.Path('marks', name).touch()
t = time.time()
while not pathlib.Path('marks', other).exists() and time.time() - t < 30:
    time.sleep(0.02)
ok = pathlib.Path('marks', other).exists()
print(name, 'met', ok)
pathlib.Path('out', name + '.txt').write_text(open('out/root.txt').read() + name)
sys.exit(0 if ok else 5)
"""


def _meet(name: str, other: str) -> str:
    """A unit that marks its start and succeeds only if `other` starts within 30 s (a rendezvous, no sleeps)."""
    return f"python meet.py {name} {other}"


def _write(path: str, text: str, fail_first: str | None = None) -> str:
    body = f"import pathlib,sys; pathlib.Path({path!r}).write_text({text!r})"
    if fail_first:  # fails while the marker is absent, and leaves the marker: the second run passes
        body = f"import pathlib,sys; m=pathlib.Path({fail_first!r}); m.exists() or (m.touch(), sys.exit(7)); " + body
    return f"python -c {shlex.quote(body)}"


def _project(tmp: Path, a_cmd: str, b_cmd: str, jobs: int = 2) -> None:
    """root -> a, b (independent) -> report; a and b live in dag/work/dvc.yaml, as the compute groups do."""
    (tmp / "marks").mkdir()
    (tmp / "meet.py").write_text(MEET)
    (tmp / "out").mkdir()
    (tmp / "params.yaml").write_text(yaml.safe_dump({"profile": "quick", "quick": {"jobs": jobs, "threads": 1}}))
    cat = "python -c " + shlex.quote("import pathlib; pathlib.Path('report.txt').write_text("
                                     "open('out/a.txt').read()+open('out/b.txt').read())")
    root = {"stages": {
        "root": {"cmd": f"{RUNNER} {_write('out/root.txt', 'r')}", "outs": ["out/root.txt"]},
        "report": {"cmd": f"{RUNNER} {cat}", "deps": ["out/a.txt", "out/b.txt"], "outs": ["report.txt"]}}}
    work = {"stages": {"unit": {"foreach": {"a": {"cmd": a_cmd}, "b": {"cmd": b_cmd}},
                                "do": {"wdir": "../..", "cmd": f"{RUNNER} ${{item.cmd}}",
                                       "deps": ["out/root.txt"], "outs": ["out/${key}.txt"]}}}}
    (tmp / "dvc.yaml").write_text(yaml.safe_dump(root, sort_keys=False))
    (tmp / "dag" / "work").mkdir(parents=True)
    (tmp / "dag" / "work" / "dvc.yaml").write_text(yaml.safe_dump(work))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp, check=True)


def _dvc(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop(runner.JOBS_ENV, None)
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=300)


def test_units_load_as_dvc_resolves_them(tmp_path):
    _project(tmp_path, _meet("a", "b"), _meet("b", "a"))
    units = load(tmp_path)
    assert list(units) == ["root", "report", "unit@a", "unit@b"]
    assert units["unit@a"].cmd == _meet("a", "b") and units["unit@a"].outs == ["out/a.txt"]
    assert units["unit@a"].upstream == {"root"} and units["report"].upstream == {"unit@a", "unit@b"}


def test_independent_units_run_at_once_under_dvc_repro_and_a_second_repro_runs_nothing(tmp_path):
    """a waits for b to start and b for a: with one stage at a time this DAG would fail (exit 5)."""
    _project(tmp_path, _meet("a", "b"), _meet("b", "a"))
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lookahead: started" in run.stdout and "outputs are handed over" in run.stdout
    assert (tmp_path / "report.txt").read_text() == "rarb"
    assert "a met True" in run.stdout and "b met True" in run.stdout  # the background log reaches DVC's output
    again = _dvc(tmp_path, "repro")
    assert again.returncode == 0 and "Running stage" not in again.stdout, again.stdout
    status = _dvc(tmp_path, "status")
    assert "up to date" in status.stdout, status.stdout


def test_a_failed_background_unit_runs_again_in_the_foreground(tmp_path):
    """b fails the first time (wherever it runs) and passes the second: the runner reruns it itself."""
    _project(tmp_path, _write("out/a.txt", "a"), _write("out/b.txt", "b", fail_first="marks/b-once"))
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "did not finish cleanly (failed, exit 7): running it here" in run.stdout
    assert (tmp_path / "report.txt").read_text() == "ab"


def test_a_targeted_repro_runs_no_other_unit(tmp_path):
    _project(tmp_path, _write("out/a.txt", "a"), _write("out/b.txt", "b"))
    run = _dvc(tmp_path, "repro", "dag/work/dvc.yaml:unit@a")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lookahead" not in run.stdout and not (tmp_path / "out" / "b.txt").exists()


def test_one_job_runs_one_unit_at_a_time(tmp_path):
    _project(tmp_path, _write("out/a.txt", "a"), _write("out/b.txt", "b"), jobs=1)
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0 and "lookahead" not in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("argv, whole", [
    (["python", "/v/bin/dvc", "repro"], True),
    (["dvc", "repro", "--force"], True),
    (["python", "-m", "dvc", "exp", "run", "-S", "weighting=ucw"], True),
    (["dvc", "repro", "train@x"], False),
    (["dvc", "repro", "-s", "tables"], False),
    (["dvc", "exp", "run", "--queue"], False),
    (["dvc", "status"], False),
    (["python", "-m", "pytest"], False),
])
def test_only_a_whole_pipeline_run_looks_ahead(argv, whole):
    assert runner.whole_pipeline(argv) is whole


def test_units_at_once_follow_jobs_cores_and_the_override(monkeypatch):
    monkeypatch.delenv(runner.JOBS_ENV, raising=False)
    monkeypatch.setattr(runner, "available_cpus", lambda: 2)
    params = {"profile": "quick", "quick": {"jobs": 4, "threads": 1}}
    assert runner.at_once(params) == 2
    params["quick"]["threads"] = 2
    assert runner.at_once(params) == 1  # one unit per `threads` cores
    monkeypatch.setenv(runner.JOBS_ENV, "3")
    assert runner.at_once(params) == 3
    monkeypatch.setenv(runner.JOBS_ENV, "0")
    with pytest.raises(SystemExit, match="SSVIF_STAGE_JOBS='0'"):
        runner.at_once(params)
    monkeypatch.delenv(runner.JOBS_ENV)
    params["quick"]["jobs"] = 0
    with pytest.raises(SystemExit, match="quick.jobs=0"):
        runner.at_once(params)


def test_a_units_bytes_do_not_depend_on_what_runs_beside_it(tmp_path):
    """Each unit is its own process pinning its threads: a float reduction gives the same bytes alone or beside."""
    code = ("import sys,torch; torch.set_num_threads(1); g=torch.Generator().manual_seed(int(sys.argv[2])); "
            "x=torch.randn(257,1031,generator=g); open(sys.argv[1],'wb').write((x@x.T).sum(0).numpy().tobytes())")
    alone = [subprocess.run([sys.executable, "-c", code, str(tmp_path / f"alone{i}"), str(i)], check=True)
             for i in range(2)]
    beside = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"beside{i}"), str(i)]) for i in range(2)]
    assert alone and all(p.wait() == 0 for p in beside)
    for i in range(2):
        assert (tmp_path / f"alone{i}").read_bytes() == (tmp_path / f"beside{i}").read_bytes()


WAIT = """import glob, pathlib, sys, time
pattern, out, text = sys.argv[1:]
t = time.time()
while not glob.glob(pattern) and time.time() - t < 60:
    time.sleep(0.02)
ok = bool(glob.glob(pattern))
print(out, 'saw', pattern, ok)
pathlib.Path(out).write_text(text)
sys.exit(0 if ok else 5)
"""
# y: marks its start, optionally waits for a glob, then writes out/y.txt from out/x.txt
CHAIN_Y = """import glob, os, pathlib, sys, time
pathlib.Path('marks', 'y').touch()
pattern = sys.argv[1] if len(sys.argv) > 1 else ''
part = pathlib.Path('out', f'.y.txt.{os.getpid()}.part')  # as pipeline.atomic names its temporaries
part.write_text('half')
t = time.time()
while pattern and not glob.glob(pattern) and time.time() - t < 60:
    time.sleep(0.02)
pathlib.Path('out', 'y.txt').write_text(open('out/x.txt').read() + 'y')
part.unlink()
"""
STATE = "data/work/lookahead/*"


def _chain(tmp: Path, wait_for: str, y_waits_for: str = "", middle: bool = True) -> None:
    """root -> l [-> m]; root -> x -> y; report reads m (or l) and y. DVC's order: root, l, [m,] x, y, report.
    l (in the foreground) ends once `wait_for` exists (or after 60 s, failing): y can only get going
    while DVC is at l if it may read x's background outputs before DVC reaches x. m, which DVC must
    still run between l and x, keeps x from being imminent."""
    (tmp / "marks").mkdir()
    (tmp / "out").mkdir()
    (tmp / "wait.py").write_text(WAIT)
    (tmp / "y.py").write_text(CHAIN_Y)
    (tmp / "params.yaml").write_text(yaml.safe_dump({"profile": "quick", "quick": {"jobs": 2, "threads": 1}}))
    first = "m" if middle else "l"
    cat = "python -c " + shlex.quote("import pathlib; pathlib.Path('report.txt').write_text("
                                     f"open('out/{first}.txt').read()+open('out/y.txt').read())")
    root = {"stages": {
        "root": {"cmd": f"{RUNNER} {_write('out/root.txt', 'r')}", "outs": ["out/root.txt"]},
        "report": {"cmd": f"{RUNNER} {cat}", "deps": [f"out/{first}.txt", "out/y.txt"], "outs": ["report.txt"]}}}
    x = "python -c " + shlex.quote("import pathlib; pathlib.Path('out/x.txt').write_text(open('out/root.txt').read()+'x')")
    m = "python -c " + shlex.quote("import pathlib; pathlib.Path('out/m.txt').write_text(open('out/l.txt').read()+'m')")
    items = {"l": {"cmd": f"python wait.py '{wait_for}' out/l.txt l", "dep": "out/root.txt"},
             "x": {"cmd": x, "dep": "out/root.txt"}, "y": {"cmd": f"python y.py '{y_waits_for}'", "dep": "out/x.txt"}}
    do = {"wdir": "../..", "cmd": f"{RUNNER} ${{item.cmd}}", "deps": ["${item.dep}"], "outs": ["out/${key}.txt"]}
    work = {"stages": {"unit": {"foreach": items, "do": do}}}
    if middle:  # a kind of its own: no duration estimate from the units of kind `unit`
        work["stages"]["mid"] = {"foreach": {"m": {"cmd": m, "dep": "out/l.txt"}}, "do": do}
    (tmp / "dvc.yaml").write_text(yaml.safe_dump(root, sort_keys=False))
    (tmp / "dag" / "work").mkdir(parents=True)
    (tmp / "dag" / "work" / "dvc.yaml").write_text(yaml.safe_dump(work, sort_keys=False))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp, check=True)


def test_the_chain_order_is_dvcs(tmp_path):
    _chain(tmp_path, "marks/y")
    order, changed, sure = plan.dvc_plan(tmp_path, force=False)
    assert order == ["root", "unit@l", "mid@m", "unit@x", "unit@y", "report"] and changed == sure == order


def test_a_unit_goes_ahead_on_an_upstream_finished_in_the_background(tmp_path):
    """l only ends once y has finished in the background, while DVC has not reached x: without provisional
    upstreams y could not start before DVC records x, and l would fail (exit 5)."""
    _chain(tmp_path, f"{STATE}/unit@y.result.json")
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "unit@y ran in the background" in run.stdout and "running it here" not in run.stdout, run.stdout
    started = json.loads(next(tmp_path.glob(f"{STATE}/unit@y.started.json")).read_text())
    assert started["provisional"] == ["unit@x"]
    assert (tmp_path / "report.txt").read_text() == "lmrxy"
    again = _dvc(tmp_path, "repro")
    assert again.returncode == 0 and "Running stage" not in again.stdout, again.stdout


def test_no_unit_goes_ahead_on_an_upstream_dvc_reaches_next(tmp_path):
    """Without m, DVC reaches x right after l: y must wait for x to be recorded (l gives up after 60 s)."""
    _chain(tmp_path, f"{STATE}/unit@y.result.json", middle=False)
    (tmp_path / "wait.py").write_text(WAIT.replace("< 60", "< 3").replace("sys.exit(0 if ok else 5)", ""))
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "out/l.txt saw data/work/lookahead/*/unit@y.result.json False" in run.stdout, run.stdout
    started = next(tmp_path.glob(f"{STATE}/unit@y.started.json"), None)
    assert started is None or json.loads(started.read_text())["provisional"] == []
    assert (tmp_path / "report.txt").read_text() == "lrxy"


def test_a_unit_reading_an_upstream_that_dvc_reaches_is_stopped_and_runs_again(tmp_path):
    """y starts on x's background outputs and would keep running until DVC has handed x over: when DVC
    reaches x (removing out/x.txt), x's runner stops y, and y runs again on the recorded x."""
    _chain(tmp_path, "marks/y", y_waits_for=f"{STATE}/handed/unit@x")
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "unit@x ran in the background" in run.stdout, run.stdout
    assert "lookahead: stopped unit@y, which read unit@x before DVC reached it" in run.stdout, run.stdout
    assert (tmp_path / "report.txt").read_text() == "lmrxy"
    assert not list((tmp_path / "out").glob(".*.part"))  # the stopped run's temporaries are gone


def test_a_background_unit_whose_provisional_input_changed_while_it_ran_is_stale(tmp_path):
    """The guard itself: x's output replaced (as DVC's removal and re-link do) while y runs -> y is stale,
    its outputs are not stashed; untouched -> done and stashed."""
    _chain(tmp_path, "marks/y")
    (tmp_path / "out" / "root.txt").write_text("r")
    (tmp_path / "out" / "x.txt").write_text("rx")
    session = runner.Session(tmp_path, "s")
    assert runner.background(tmp_path, "s", "unit@y", ["unit@x"]) == 0
    assert session.result("unit@y")["state"] == "done" and (session.stash("unit@y") / "0").exists()
    replace = ("import os, pathlib; pathlib.Path('out/x.new').write_text('rx'); os.replace('out/x.new', 'out/x.txt');"
               "pathlib.Path('out/y.txt').write_text('rxy')")
    work = tmp_path / "dag" / "work" / "dvc.yaml"
    dag = yaml.safe_load(work.read_text())
    dag["stages"]["unit"]["foreach"]["y"]["cmd"] = "python -c " + shlex.quote(replace)
    work.write_text(yaml.safe_dump(dag, sort_keys=False))
    shutil.rmtree(session.stash("unit@y"))
    assert runner.background(tmp_path, "s", "unit@y", ["unit@x"]) == 0
    assert session.result("unit@y")["state"] == "stale" and not session.stash("unit@y").exists()


def test_an_incremental_repro_looks_ahead_only_at_what_dvc_will_run(tmp_path):
    """After a full repro, only b changes: nothing else (root, a, having no changed upstream) may run."""
    _project(tmp_path, _write("out/a.txt", "a"), _write("out/b.txt", "b"))
    assert _dvc(tmp_path, "repro").returncode == 0
    root_ino = (tmp_path / "out" / "root.txt").stat().st_ino
    work = tmp_path / "dag" / "work" / "dvc.yaml"
    work.write_text(work.read_text().replace("'b'", "'B'"))
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Running stage 'dag/work/dvc.yaml:unit@b'" in run.stdout and "lookahead: started" not in run.stdout, run.stdout
    assert (tmp_path / "out" / "root.txt").stat().st_ino == root_ino
    assert (tmp_path / "report.txt").read_text() == "aB"


def test_no_unit_starts_below_an_upstream_that_reran_to_the_same_outputs(tmp_path):
    """root's command changes but writes the same bytes, and b changes: DVC skips a (its input came out the
    same), so the lookahead must not start a beside b either (it would outlive `dvc repro`)."""
    _project(tmp_path, _write("out/a.txt", "a"), _write("out/b.txt", "b"))
    assert _dvc(tmp_path, "repro").returncode == 0
    top = tmp_path / "dvc.yaml"
    top.write_text(top.read_text().replace("import pathlib,sys; ", "import pathlib,sys;  "))  # root: same output
    work = tmp_path / "dag" / "work" / "dvc.yaml"
    work.write_text(work.read_text().replace("'b'", "'B'"))
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Running stage 'root'" in run.stdout and "Running stage 'dag/work/dvc.yaml:unit@a'" not in run.stdout
    assert "Running stage 'dag/work/dvc.yaml:unit@b'" in run.stdout, run.stdout
    assert "lookahead: started unit@a" not in run.stdout and not list(tmp_path.glob(f"{STATE}/unit@a.*")), run.stdout
    assert (tmp_path / "report.txt").read_text() == "aB"


def test_force_and_downstream_of_the_plan():
    assert runner.forced(["dvc", "repro", "--force"]) and runner.forced(["python", "-m", "dvc", "repro", "-f"])
    assert not runner.forced(["dvc", "repro"]) and not runner.forced(["dvc", "status", "-f"])
    a, b, c = (U.Unit(n, "", [], [], []) for n in "abc")
    b.upstream, c.upstream = {"a"}, {"b"}
    assert plan.downstream({"a": a, "b": b, "c": c}, ["b"]) == {"b", "c"}


@pytest.mark.parametrize("mid_takes, goes", [(2.0, False), (30.0, True)])
def test_a_provisional_unit_starts_only_if_it_should_end_before_dvc_reaches_its_upstream(tmp_path, mid_takes, goes):
    """down@y (about 10 s, from an earlier run of its kind) reads up@x, finished in the background; DVC,
    at `cur`, must first run mid@1: down@y goes ahead only if mid@1 takes longer than down@y."""
    session = runner.Session(tmp_path, "s")
    names = ["cur", "mid@1", "up@x", "down@y"]
    (session.dir / "plan.json").write_text(json.dumps({"order": names, "will_run": names}))
    units = {n: U.Unit(n, "", [], [], []) for n in names}
    units["down@y"].upstream = {"up@x"}
    for name, seconds in [("up@x", 5.0), ("down@old", 10.0), ("mid@old", mid_takes)]:
        session.write(name, "started", cmd="", pid=0, started=100.0, provisional=[])
        session.write(name, "result", state="done", rc=0, ended=100.0 + seconds)
    found = dict(plan.ready(units, session, "cur"))
    assert ("down@y" in found) is goes and found.get("down@y", ["up@x"]) == ["up@x"]
    assert "mid@1" in found  # on recorded inputs, it always goes


def _fresh_clone(tmp: Path) -> None:
    """root -> split@s -> a, b (a and b meet) -> report. After a full repro, only what a fresh clone lacks is
    deleted: s's and the report's outputs stay, as committed files do."""
    (tmp / "marks").mkdir()
    (tmp / "meet.py").write_text(MEET)
    (tmp / "out").mkdir()
    (tmp / "params.yaml").write_text(yaml.safe_dump({"profile": "quick", "quick": {"jobs": 2, "threads": 1}}))
    cat = "python -c " + shlex.quote("import pathlib; pathlib.Path('report.txt').write_text("
                                     "open('out/a.txt').read()+open('out/b.txt').read())")
    root = {"stages": {
        "root": {"cmd": f"{RUNNER} {_write('out/root.txt', 'r')}", "outs": ["out/root.txt"]},
        "report": {"cmd": f"{RUNNER} {cat}", "deps": ["out/a.txt", "out/b.txt"],
                   "outs": [{"report.txt": {"cache": False}}]}}}
    do = {"wdir": "../..", "cmd": f"{RUNNER} ${{item.cmd}}", "deps": ["${item.dep}"], "outs": ["out/${key}.txt"]}
    committed = {**do, "outs": [{"out/${key}.txt": {"cache": False}}]}  # as data/splits/ are
    work = {"split": {"foreach": {"s": {"cmd": _write("out/s.txt", "s"), "dep": "out/root.txt"}}, "do": committed},
            "unit": {"foreach": {"a": {"cmd": _meet("a", "b"), "dep": "out/s.txt"},
                                 "b": {"cmd": _meet("b", "a"), "dep": "out/s.txt"}}, "do": do}}
    (tmp / "dvc.yaml").write_text(yaml.safe_dump(root, sort_keys=False))
    (tmp / "dag" / "work").mkdir(parents=True)
    (tmp / "dag" / "work" / "dvc.yaml").write_text(yaml.safe_dump({"stages": work}, sort_keys=False))
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=tmp, check=True)
    assert _dvc(tmp, "repro").returncode == 0
    for path in ["out/root.txt", "out/a.txt", "out/b.txt", *(str(m.relative_to(tmp)) for m in (tmp / "marks").iterdir())]:
        (tmp / path).unlink()
    shutil.rmtree(tmp / runner.STATE)
    shutil.rmtree(tmp / ".dvc" / "cache")  # nor has a fresh clone DVC's cache (no remote): nothing to check out


def test_a_fresh_clone_runs_what_is_missing_and_looks_ahead_past_a_stage_dvc_skips(tmp_path):
    """s's input comes out as recorded, so DVC skips s: a and b, below it, must still run side by side
    (a waits for b to start: with the lookahead stuck behind the skipped s, a fails with exit 5)."""
    _fresh_clone(tmp_path)
    order, changed, sure = plan.dvc_plan(tmp_path, force=False)
    assert set(changed) == set(order) and sure == ["root", "unit@a", "unit@b"]  # s and report: only upstream missing
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Stage 'dag/work/dvc.yaml:split@s' didn't change, skipping" in run.stdout, run.stdout
    assert "lookahead: started unit@b in the background, beside unit@a" in run.stdout, run.stdout
    assert "a met True" in run.stdout and "b met True" in run.stdout
    assert "lookahead: started split@s" not in run.stdout and "Stage 'report' didn't change" in run.stdout
    again = _dvc(tmp_path, "repro")
    assert again.returncode == 0 and "Running stage" not in again.stdout, again.stdout


def test_an_upstream_dvc_skipped_is_recorded_once_no_background_run_of_it_writes(tmp_path):
    """DVC at `cur` has passed `up@x` without running it: `down@y` goes, unless up@x's background run lives."""
    session = runner.Session(tmp_path, "s")
    names = ["up@x", "cur", "down@y"]
    (session.dir / "plan.json").write_text(json.dumps({"order": names, "will_run": names}))
    units = {n: U.Unit(n, "", [], [], []) for n in names}
    units["down@y"].upstream = {"up@x"}
    assert dict(plan.ready(units, session, "cur")) == {"down@y": []}
    session.write("up@x", "started", cmd="", pid=os.getpid(), started=100.0, provisional=[])  # still running
    assert dict(plan.ready(units, session, "cur")) == {}
    session.write("up@x", "result", state="done", rc=0, ended=101.0)
    assert dict(plan.ready(units, session, "cur")) == {"down@y": []}
    assert "down@y" not in dict(plan.ready(units, session, "up@x"))  # not passed yet: DVC is there now
