"""params.yaml validation: unknown values stop a stage with the key and the valid values."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from pipeline.data.registry import DATASETS
from pipeline.weighting.names import WEIGHTING_NAMES
from pipeline import params as _params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_committed_params_are_valid(params):
    assert _params.validate(params) is params


@pytest.mark.parametrize(
    "key, bad, valid",
    [
        ("weighting", "ucx", ", ".join(WEIGHTING_NAMES)),
        ("profile", "huge", "quick, paper"),
        ("data.source", "ftp", "synthetic, official, local"),
    ],
)
def test_unknown_value_names_key_and_valid_values(params, key, bad, valid):
    broken = copy.deepcopy(params)
    node = broken
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = bad
    with pytest.raises(_params.ParamsError) as err:
        _params.validate(broken)
    message = str(err.value)
    assert f"{key}={bad!r}" in message and valid in message


def test_run_with_unknown_model_is_named(params):
    broken = copy.deepcopy(params)
    broken["runs"]["original-emma-fmb"]["model"] = "unet"
    with pytest.raises(_params.ParamsError, match=r"runs\.original-emma-fmb\.model='unet'.*swinfusion"):
        _params.validate(broken)


def test_missing_key_is_named(params):
    with pytest.raises(_params.ParamsError, match="'quick.nothing' is missing"):
        _params.get(params, "quick.nothing")


def test_headline_runs_take_top_level_weighting(params):
    params["weighting"] = "ucw"
    assert _params.run_weighting(params, "ssvif-swinfusion-fmb") == "ucw"
    assert _params.run_weighting(params, "ssvif-swinfusion-fmb-dwa") == "dwa"
    assert _params.run_weighting(params, "original-emma-fmb") is None


def test_profiles_have_the_same_keys(params):
    """Every scale-dependent number has a value in both profiles (`extra`: free-form Ultralytics arguments)."""
    def keys(node, prefix=""):
        if isinstance(node, dict) and not prefix.endswith(".extra"):
            return {k for key, v in node.items() for k in keys(v, f"{prefix}.{key}")} | {prefix}
        return {prefix}
    assert keys(params["quick"]) == keys(params["paper"])


def _weightings():
    from pipeline.weighting.registry import WEIGHTINGS
    return list(WEIGHTINGS)


def _models():
    from pipeline.models.registry import FUSION_MODELS
    return list(FUSION_MODELS)


def _run_datasets():
    from pipeline.data.registry import DATASETS
    return [n for n, spec in DATASETS.items() if spec.task == "segmentation"]


def _frameworks():
    from pipeline.models.complexity import FRAMEWORK_CHANNELS
    from pipeline.models.names import FRAMEWORKS
    assert set(FRAMEWORK_CHANNELS) == set(FRAMEWORKS)  # Table IV's frameworks are the params ones
    return list(FRAMEWORKS)


def _rules():
    from pipeline.rules.registry import FUSION_RULES
    return list(FUSION_RULES)


def _set(params, key, value):
    *parents, last = key.split(".")
    node = params
    for part in parents:
        node = node[part]
    node[last] = [value] if last == "rules" else value


# (registry, the params key its names go to); run keys use a run whose other values fit any name.
REGISTRIES = [
    (_weightings, "weighting"),
    (_weightings, "runs.ssvif-swinfusion-fmb-ucw.weighting"),
    (_models, "runs.ssvif-emma-fmb.model"),
    (_models, "runs.original-emma-fmb.model"),
    (_run_datasets, "runs.ssvif-emma-fmb.dataset"),
    (_frameworks, "runs.ssvif-emma-fmb.framework"),
    (_rules, "methods.rules"),
]


@pytest.mark.parametrize("names, key", REGISTRIES, ids=[f"{n.__name__[1:]}-{k}" for n, k in REGISTRIES])
def test_validation_accepts_every_registry_name_and_rejects_others(params, names, key):
    registered = names()
    assert registered
    for name in registered:
        ok = copy.deepcopy(params)
        _set(ok, key, name)
        assert _params.validate(ok) is ok
    bad = copy.deepcopy(params)
    _set(bad, key, "not-registered")
    with pytest.raises(_params.ParamsError) as err:
        _params.validate(bad)
    assert "'not-registered'" in str(err.value) and ", ".join(registered) in str(err.value)


def test_the_detection_dataset_is_no_training_dataset(params):
    detection = next(n for n, s in DATASETS.items() if s.task == "detection")
    params["runs"]["ssvif-emma-fmb"]["dataset"] = detection
    with pytest.raises(_params.ParamsError) as err:
        _params.validate(params)
    assert f"dataset={detection!r}" in str(err.value) and f"valid values: {', '.join(_params.RUN_DATASETS)}." in str(err.value)


def test_validation_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, yaml; from pipeline import params as _params; "
            "_params.validate(yaml.safe_load(open('params.yaml'))); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_queued_experiment_reads_its_own_params(tmp_path, monkeypatch):
    # DVC 3.67 gives a queued experiment's stages the parent workspace as DVC_ROOT.
    from pipeline.params import params_path

    workspace = tmp_path / "repo"
    experiment = workspace / ".dvc" / "tmp" / "exps" / "tmp123"
    experiment.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(workspace))
    monkeypatch.chdir(experiment)
    assert params_path() == experiment.resolve() / "params.yaml"
    monkeypatch.chdir(workspace)  # a plain `dvc repro` / `dvc exp run` in the workspace
    assert params_path() == workspace.resolve() / "params.yaml"
