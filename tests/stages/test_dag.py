"""dvc.yaml is generated from params.yaml and stays in sync with it and with the stages."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stages import _params, dag

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params() -> dict:
    return _params.load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def pipeline(params) -> dict:
    return dag.build(params)


def test_committed_dvc_yaml_is_up_to_date(params):
    assert (ROOT / "dvc.yaml").read_text() == dag.render(params), "run `python -m stages.dag`"


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
    text = dag.render(params)
    assert yaml.safe_load(text)["stages"]
    assert "[" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_tables_stage_depends_on_everything_its_readme_digests(pipeline):
    """reports/README.md prints digests of all code and of params.yaml: any change to those
    files must re-run the stage, or the committed README goes stale."""
    from pipeline.report.readme import CODE_GLOBS

    deps = set(pipeline["stages"]["tables"]["deps"])
    code = {p.relative_to(ROOT).as_posix() for g in CODE_GLOBS for p in ROOT.glob(g)
            if p.is_file() and "__pycache__" not in p.parts}
    assert code | {"params.yaml"} <= deps
