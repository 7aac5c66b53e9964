"""The efficiency stage (Table IV) writes the same bytes on every run."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stages import efficiency

ROOT = Path(__file__).resolve().parents[2]


def test_params_declared():
    assert efficiency.PARAMS == ["paper.models"]


@pytest.mark.slow
def test_stage_output_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.setenv("DVC_ROOT", str(ROOT))
    outs = []
    for run in ("a", "b"):
        out = tmp_path / f"{run}.json"
        result = CliRunner().invoke(efficiency.main, ["--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert b'"swinfusion"' in outs[0] and b'"device"' in outs[0]
