"""params.yaml validation: unknown values stop a stage with the key and the valid values."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from stages import _params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_committed_params_are_valid(params):
    assert _params.validate(params) is params


@pytest.mark.parametrize(
    "key, bad, valid",
    [
        ("weighting", "ucx", "gdwa, dwa, ucw, segmif, fixed"),
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
    """Every scale-dependent number has a value in both profiles."""
    def keys(node, prefix=""):
        if isinstance(node, dict):
            return {k for key, v in node.items() for k in keys(v, f"{prefix}.{key}")} | {prefix}
        return {prefix}
    assert keys(params["quick"]) == keys(params["paper"])
