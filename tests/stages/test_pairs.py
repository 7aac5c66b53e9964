"""Paired stages (stages.dag_pairs) and their runner (stages.together): same unit commands, two at once."""
from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import pytest
import yaml

from stages import _params, dag, together
from stages.dag_pairs import PAIRED_GROUPS, pair, partition, unpair

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ("fmb", "msrs", "m3fd")


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


def _fill(text: str, key: str, item: dict, prefix: str = "item") -> str:
    """DVC's interpolation of ${key} and ${item.x} / ${item.s0.x} (enough for these templates)."""
    text = text.replace("${key}", key)
    for field, value in item.items():
        if isinstance(value, dict):
            text = _fill(text, key, value, f"{prefix}.{field}")
        else:
            text = text.replace("${%s.%s}" % (prefix, field), str(value))
    return text


def _path(entry) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def _instances(stage: dict) -> dict[str, dict]:
    """{stage key: cmd, deps, outs, params} with every placeholder but ${profile} filled in."""
    body = stage["do"]
    return {key: {"cmd": _fill(body["cmd"], key, item),
                  **{f: {_fill(_path(e), key, item) for e in body.get(f, [])} for f in ("deps", "outs", "params")}}
            for key, item in stage["foreach"].items()}


def _unit_commands(cmd: str) -> dict[str, str]:
    argv = shlex.split(cmd)
    assert argv[:3] == ["python", "-m", "stages.together"], cmd
    return {argv[i + 1]: argv[i + 2] for i in range(3, len(argv), 3) if argv[i] == "--unit"}


def test_families_pair_first_then_dag_order():
    keys = ["ssvif-a-fmb", "ssvif-a-msrs", "x-fmb", "visible-fmb", "y-fmb", "visible-msrs", "max-s1-fmb", "max-s1-msrs"]
    assert partition(keys, DATASETS) == [["ssvif-a-fmb", "ssvif-a-msrs"], ["x-fmb", "y-fmb"],
                                         ["visible-fmb", "visible-msrs"], ["max-s1-fmb", "max-s1-msrs"]]


def test_a_lone_unit_leads_the_last_pair_and_a_single_unit_stays_alone():
    assert partition(["detector", "segmenter-fmb", "segmenter-msrs"], DATASETS) == [
        ["detector", "segmenter-fmb", "segmenter-msrs"]]
    assert partition(["a", "b", "c", "d", "e"], DATASETS) == [["a", "b"], ["e", "c", "d"]]
    assert partition(["only"], DATASETS) == [["only"]]


@pytest.mark.parametrize("group", PAIRED_GROUPS)
def test_every_unit_runs_its_unpaired_command_in_exactly_one_paired_stage(params, group):
    """The bytes promise: a paired stage runs each unit's own command, with all its deps, params and outs."""
    units = _instances(dag.build(params)["stages"][group])
    paired = _instances(next(doc["stages"][group] for doc in dag.split(params).values() if group in doc["stages"]))
    seen: dict[str, str] = {}
    for key, stage in paired.items():
        commands = _unit_commands(stage["cmd"])
        assert key.split("+") == list(commands), key
        for unit, cmd in commands.items():
            assert unit not in seen, f"{unit} in {seen.get(unit)} and {key}"
            seen[unit] = key
            assert cmd == units[unit]["cmd"]
            for field in ("deps", "outs", "params"):
                assert units[unit][field] <= stage[field], (unit, field, units[unit][field] - stage[field])
        assert {"stages/together.py", "pipeline/cpus.py"} <= stage["deps"]
    assert sorted(seen) == sorted(units)


def test_a_second_seed_pairs_its_units_apart_and_keeps_the_first_seeds_stages(params):
    import copy

    two = copy.deepcopy(params)
    two["seeds"] = [params["seed"], params["seed"] + 1]
    one_keys, two_keys = ({g: set(doc["stages"][g]["foreach"]) for doc in dag.split(p).values() for g in doc["stages"]
                           if g in PAIRED_GROUPS} for p in (params, two))
    for group in PAIRED_GROUPS:
        assert one_keys[group] <= two_keys[group], group
        for key in two_keys[group] - one_keys[group]:
            assert all("-s1" in unit for unit in key.split("+")), key


def test_committed_stages_lists_the_units_of_paired_groups(params):
    committed, units = dag.committed_stages(ROOT), dag.build(params)["stages"]
    for group in PAIRED_GROUPS:
        assert committed[group]["foreach"] == units[group]["foreach"]
    assert unpair(units["fuse"]) is units["fuse"]


def test_a_shorter_stage_repeats_its_first_unit_and_dvc_runs_the_padded_dag(tmp_path, monkeypatch):
    """Five units: a pair padded to the triple's three slots. DVC accepts the repeated deps/outs, every
    unit writes its file once, and a second `dvc repro` runs nothing."""
    from dvc.repo import Repo

    items = {k: {"n": str(i)} for i, k in enumerate("abcde")}
    code = "import sys,pathlib; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"
    unit = {"cmd": f"python -c {shlex.quote(code)} out/${{key}}.txt ${{item.n}}",
            "deps": ["in.txt", "in-${key}.txt"], "params": ["quick.jobs"], "outs": [{"out/${key}.txt": {"cache": False}}]}
    paired = pair({"foreach": items, "do": unit}, DATASETS, [])
    assert list(paired["foreach"]) == ["a+b", "e+c+d"] and paired["foreach"]["a+b"]["s2"]["key"] == "a"
    Repo.init(str(tmp_path), no_scm=True)
    (tmp_path / "out").mkdir()
    for name in ["in.txt", *(f"in-{k}.txt" for k in items)]:
        (tmp_path / name).write_text(name)
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"unit": paired}}, sort_keys=False))
    # DVC's shell finds this interpreter as `python` and the project's stages on the path.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    with Repo(str(tmp_path)) as repo:
        ran = repo.reproduce()
        assert sorted(s.name for s in ran) == ["unit@a+b", "unit@e+c+d"]
        assert repo.reproduce() == []
    assert {p.name: p.read_text() for p in (tmp_path / "out").iterdir()} == {f"{k}.txt": str(i) for i, k in enumerate("abcde")}


def _stamp(path: Path, seconds: float = 0.0, code: int = 0) -> str:
    """A unit command writing its start and end time to `path`, then exiting with `code`."""
    body = (f"import time,sys; s=time.time(); time.sleep({seconds}); "
            f"open({str(path)!r},'w').write(f'{{s}} {{time.time()}}'); print('hello'); sys.exit({code})")
    return f"python -c {shlex.quote(body)}"


def _meet(mine: Path, other: Path) -> str:
    """A unit that marks its start, then succeeds only if the other unit starts within 30 s."""
    body = (f"import pathlib,time,sys; pathlib.Path({str(mine)!r}).touch(); t=time.time()\n"
            f"while not pathlib.Path({str(other)!r}).exists() and time.time()-t<30: time.sleep(0.02)\n"
            f"print('hello'); sys.exit(0 if pathlib.Path({str(other)!r}).exists() else 5)")
    return f"python -c {shlex.quote(body)}"


def test_two_units_overlap_with_two_jobs_and_queue_with_one(tmp_path, capfd):
    a, b = tmp_path / "a", tmp_path / "b"
    assert together.run_units([("a", _meet(a, b)), ("b", _meet(b, a))], jobs=2) == ([], [])  # both ran at once
    assert together.run_units([("a", _stamp(a, 0.3)), ("b", _stamp(b, 0.0))], jobs=1) == ([], [])
    (sa, ea), (sb, eb) = (map(float, p.read_text().split()) for p in (a, b))
    assert ea <= sb  # one after the other, in order
    out = capfd.readouterr().out
    assert "[a] hello" in out and "[b] hello" in out and "together: b done" in out


def test_after_a_failure_nothing_new_starts_and_the_running_unit_finishes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    failed, skipped = together.run_units([("a", _stamp(a, 0.0, code=3)), ("b", _stamp(b, 0.5)), ("c", _stamp(c))],
                                         jobs=2)
    assert (failed, skipped) == (["a"], ["c"])
    assert b.exists() and not c.exists()


def test_the_stage_fails_naming_the_unit_and_a_repeated_unit_runs_once(tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.chdir(ROOT)
    a = tmp_path / "a"
    ok = CliRunner().invoke(together.main, ["--unit", "a", _stamp(a), "--unit", "a", _stamp(a)])
    assert ok.exit_code == 0 and ok.output.count("together: a started") == 1
    bad = CliRunner().invoke(together.main, ["--unit", "a", _stamp(a, code=2), "--unit", "b", _stamp(tmp_path / "b")])
    assert bad.exit_code == 1 and "unit(s) a failed" in bad.output and "re-run `dvc repro`" in bad.output
    clash = CliRunner().invoke(together.main, ["--unit", "a", _stamp(a), "--unit", "a", _stamp(tmp_path / "x")])
    assert clash.exit_code == 1 and "--unit a: one name, two different commands" in clash.output


def test_units_at_once_follow_jobs_cores_and_the_override(params, monkeypatch):
    monkeypatch.delenv(together.JOBS_ENV, raising=False)
    p = {**params, "quick": {**params["quick"], "jobs": 4, "threads": 1}}
    monkeypatch.setattr("pipeline.cpus.available_cpus", lambda: 2)
    assert together.at_once(p, 3) == 2 and together.at_once(p, 1) == 1
    p["quick"]["threads"] = 2
    assert together.at_once(p, 3) == 1  # one unit per `threads` cores
    monkeypatch.setenv(together.JOBS_ENV, "3")
    assert together.at_once(p, 5) == 3
    monkeypatch.setenv(together.JOBS_ENV, "0")
    with pytest.raises(Exception, match="SSVIF_STAGE_JOBS='0'"):
        together.at_once(p, 2)
    monkeypatch.delenv(together.JOBS_ENV)
    p["quick"]["jobs"] = 0
    with pytest.raises(_params.ParamsError, match="quick.jobs=0"):
        together.at_once(p, 2)


def test_a_units_bytes_do_not_depend_on_how_many_run_beside_it(tmp_path):
    """Each unit is its own process pinning its threads: a float reduction gives the same bytes alone or paired."""
    code = ("import sys,torch; torch.set_num_threads(1); g=torch.Generator().manual_seed(int(sys.argv[2])); "
            "x=torch.randn(257,1031,generator=g); open(sys.argv[1],'wb').write((x@x.T).sum(0).numpy().tobytes())")
    outs = {}
    for jobs in (1, 2):
        units = [(f"u{i}", f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {tmp_path / f'{jobs}-{i}'} {i}")
                 for i in range(2)]
        assert together.run_units(units, jobs=jobs) == ([], [])
        outs[jobs] = [(tmp_path / f"{jobs}-{i}").read_bytes() for i in range(2)]
    assert outs[1] == outs[2] and outs[1][0] != outs[1][1]


def test_the_runner_waits_for_its_units_when_stopped(tmp_path):
    """SIGTERM to the stage (DVC stopping it) reaches the running units; none is left behind."""
    import signal
    import subprocess

    marker = tmp_path / "pid"
    child = f"import os,time; open({str(marker)!r},'w').write(str(os.getpid())); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-m", "stages.together", "--unit", "a", f"python -c {shlex.quote(child)}"],
                            cwd=ROOT, env={**os.environ, together.JOBS_ENV: "1"})
    for _ in range(200):
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
