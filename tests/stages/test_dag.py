"""dvc.yaml is generated from params.yaml and stays in sync with it and with the stages."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.dag import files as dag
from pipeline import params as _params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def pipeline(params) -> dict:
    return dag.build(params)


def test_committed_dvc_yaml_is_up_to_date(params):
    texts = dag.render(params)
    assert list(texts)[0] == "dvc.yaml" and len(texts) == 1 + len(set(dag.SUB_DAGS.values()))
    for path, text in texts.items():
        assert (ROOT / path).read_text() == text, f"{path}: run `python -m stages.dag`"
    committed = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("dag/*/dvc.yaml"))
    assert committed == sorted(set(texts) - {"dvc.yaml"}), "a stray dag/ file: run `python -m stages.dag`"


def test_every_group_lives_in_one_file_and_runs_from_the_root(params):
    """Sub-DAG stages run in the project root with the root params.yaml's values; nothing is lost or doubled."""
    files = dag.split(params)
    groups = [g for doc in files.values() for g in doc["stages"]]
    assert sorted(groups) == sorted(dag.build(params)["stages"]) and len(groups) == len(set(groups))
    assert set(files["dvc.yaml"]["stages"]) == {"fetch", "split", "efficiency", "tables", "figures", "sanity"}
    assert "plots" in files["dvc.yaml"]
    for path, doc in files.items():
        if path == "dvc.yaml":
            continue
        assert doc["vars"] == ["../../params.yaml"] and (ROOT / path).parent.joinpath(doc["vars"][0]).resolve() == \
            (ROOT / "params.yaml").resolve()
        for group, stage in doc["stages"].items():
            assert dag.SUB_DAGS[group] == Path(path).parent.name
            assert stage.get("do", stage)["wdir"] == "../.."


def test_plain_dvc_repro_reaches_every_stage(tmp_path):
    """`dvc repro` with no target starts from the root dvc.yaml: every stage of dag/ must be upstream of one of
    its stages (the reports depend on every scored output), or a newcomer's `dvc repro` would skip it."""
    import shutil

    import networkx as nx
    from dvc.repo import Repo

    # DVC's graph of the committed dvc.yaml files, in a copy without the lock files: CI runs the tests
    # while `dvc repro` rewrites those locks, and a half-written one must not be read here.
    Repo.init(str(tmp_path), no_scm=True)
    for path in [ROOT / "params.yaml", ROOT / "dvc.yaml", *ROOT.glob("dag/*/dvc.yaml")]:
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    with Repo(str(tmp_path)) as repo:
        index = repo.index
        where = {s: Path(s.dvcfile.path).resolve().relative_to(tmp_path.resolve()).as_posix() for s in index.stages}
        roots = [s for s in index.stages if where[s] == "dvc.yaml"]
        reached = set(roots).union(*(nx.descendants(index.graph, s) for s in roots))
        missing = sorted(f"{where[s]}:{s.name}" for s in index.stages if s not in reached)
        count = len(index.stages)
    assert not missing, f"not upstream of any root dvc.yaml stage: {missing}"
    written = [g for doc in dag.split(_params.load_params(ROOT / "params.yaml")).values() for g in doc["stages"].values()]
    assert count == sum(len(g["foreach"]) if "foreach" in g else 1 for g in written)


def test_headline_runs_and_only_they_read_weighting(pipeline, params):
    body = pipeline["stages"]["train"]
    reads_weighting = {
        name for name, item in body["foreach"].items()
        if any(v == "weighting" for k, v in item.items() if k.startswith("p"))
    }
    assert reads_weighting == {r for r, run in params["runs"].items() if run.get("headline")}


def test_every_declared_param_key_exists(pipeline, params):
    """A stage declares only keys that exist (under the active profile)."""
    for group, stage in pipeline["stages"].items():
        body = stage.get("do", stage)
        items = stage.get("foreach", {None: {}})
        items = {i: {} for i in items} if isinstance(items, list) else items
        for key, item in items.items():
            for template in body.get("params", []):
                resolved = template.replace("${profile}", params["profile"]).replace("${key}", str(key))
                resolved = resolved.replace("${item}", str(key))
                for field, value in (item or {}).items():
                    resolved = resolved.replace("${item.%s}" % field, str(value))
                _params.get(params, resolved)  # raises ParamsError naming the key


def test_code_deps_cover_the_stage_script(pipeline):
    for group, stage in pipeline["stages"].items():
        body = stage.get("do", stage)
        assert f"stages/{group}.py" in body["deps"], group


def test_rendered_yaml_parses_and_is_block_style(params):
    for text in dag.render(params).values():
        assert yaml.safe_load(text)["stages"]
        assert "[" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_tables_stage_depends_on_everything_its_readme_digests(pipeline):
    """reports/README.md prints digests of all code and of params.yaml: any change to those
    files must re-run the stage, or the committed README goes stale."""
    from pipeline.layout import PARAMS_FILE, digested_files

    deps = set(pipeline["stages"]["tables"]["deps"])
    assert PARAMS_FILE in digested_files(ROOT) and any(f.startswith("stages/") for f in digested_files(ROOT))
    assert set(digested_files(ROOT)) <= deps


def _expanded(stage: dict):
    """The stage's instances as DVC resolves them: (deps, outs) with `${key}`/`${item...}` filled in."""
    body = stage.get("do", stage)
    items = stage.get("foreach")
    pairs = [(None, None)] if items is None else [(i, i) for i in items] if isinstance(items, list) else items.items()
    for key, item in pairs:
        def fill(text: str) -> str:
            if isinstance(item, dict):
                for field, value in item.items():
                    text = text.replace("${item.%s}" % field, str(value))
            elif item is not None:
                text = text.replace("${item}", str(item))
            return text.replace("${key}", str(key))
        outs = [o if isinstance(o, str) else next(iter(o)) for o in body.get("outs", []) + body.get("metrics", [])]
        yield [fill(d) for d in body["deps"]], [fill(o) for o in outs]


def test_every_data_dep_is_an_output_of_the_dag(pipeline):
    """The readers (tables, figures, sanity, ...) and the writers agree on every path: both come from pipeline.layout."""
    instances = [i for stage in pipeline["stages"].values() for i in _expanded(stage)]
    outs = {o for _, stage_outs in instances for o in stage_outs}
    for deps, _ in instances:
        data = [d for d in deps if not d.endswith(".py") and d != "params.yaml" and not d.startswith("data/external/")]
        assert set(data) <= outs, sorted(set(data) - outs)


def test_stage_paths_are_the_layouts(pipeline, params):
    from pipeline import layout
    from pipeline.report.sources import metric_file

    run = next(iter(params["runs"]))
    train = dict(zip(pipeline["stages"]["train"]["foreach"], _expanded(pipeline["stages"]["train"])))
    assert train[run][1] == [layout.run_dir(run), layout.history_file(run)]
    segment = dict(zip(pipeline["stages"]["segment"]["foreach"], _expanded(pipeline["stages"]["segment"])))
    key = layout.scored_key("max", "fmb")
    assert segment[key][1][:2] == [layout.in_metrics(metric_file("segment", "max", "fmb")),
                                   layout.in_metrics(layout.confusion_file(key, "csv"))]
    assert layout.fused_dir("max", "fmb") in segment[key][0] and layout.conditions_file("fmb") in segment[key][0]


def test_renamed_run_moves_the_tables_deps_and_a_removed_one_leaves_them(params):
    """Done-when of issue 12: rename a run and regenerate: the tables stage depends on the renamed run's files."""
    import copy

    from pipeline import layout
    from pipeline.report.sources import metric_file

    ucw = "ssvif-swinfusion-fmb-ucw"
    files = lambda name: {layout.in_metrics(metric_file(k, name, "fmb")) for k in ("fusion", "segment")}  # noqa: E731
    assert files(ucw) <= set(dag.build(params)["stages"]["tables"]["deps"])
    renamed = copy.deepcopy(params)
    renamed["runs"] = {("my-ucw" if n == ucw else n): r for n, r in params["runs"].items()}
    built = dag.build(renamed)["stages"]
    assert files("my-ucw") <= set(built["tables"]["deps"]) and not files(ucw) & set(built["tables"]["deps"])
    assert "my-ucw" in built["train"]["foreach"] and layout.scored_key("my-ucw", "fmb") in built["segment"]["foreach"]
    removed = copy.deepcopy(params)
    del removed["runs"][ucw]
    deps = set(dag.build(removed)["stages"]["tables"]["deps"])
    assert not files(ucw) & deps and not files("my-ucw") & deps


def test_check_fails_with_the_file_and_the_fix(tmp_path, monkeypatch):
    import shutil

    from click.testing import CliRunner

    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "dvc.yaml").write_text("stale\n")
    monkeypatch.setattr(dag, "ROOT", tmp_path)
    result = CliRunner().invoke(dag.main, ["--check"])
    assert result.exit_code == 1 and "out of date" in result.output and "dvc.yaml" in result.output
    assert "dag/train/dvc.yaml" in result.output  # missing files count as out of date too
    assert "python -m stages.dag" in result.output


def test_layout_is_torch_free_and_its_examples_hold():
    import doctest
    import subprocess
    import sys

    from pipeline import layout

    assert doctest.testmod(layout).failed == 0
    code = "import sys; import pipeline.layout, pipeline.dag.files; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
