"""fetch and split stage commands on a copy of params.yaml with tiny synthetic sizes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from stages import fetch, split

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch, tiny_sizes):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["synthetic"] = tiny_sizes
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    monkeypatch.delenv("SSVIF_DOWNLOAD_BASE", raising=False)
    return tmp_path


def _set(path: Path, key: str, value) -> None:
    params = yaml.safe_load(path.read_text())
    node = params
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    path.write_text(yaml.safe_dump(params))


def test_params_declared():
    assert "{profile}.synthetic.{dataset}" in fetch.PARAMS and "data.source" in fetch.PARAMS
    assert split.PARAMS == ["seed", "split"]


@pytest.mark.parametrize("dataset", ["msrs", "m3fd"])
def test_fetch_then_split_synthetic(project, dataset):
    runner = CliRunner()
    result = runner.invoke(fetch.main, ["--dataset", dataset, "--out", f"data/raw/{dataset}",
                                        "--conditions", f"data/conditions/{dataset}.json"])
    assert result.exit_code == 0, result.output
    conditions = json.loads((project / "data" / "conditions" / f"{dataset}.json").read_text())
    assert conditions["source"] == "synthetic" and len(conditions["conditions"]) == 6
    result = runner.invoke(split.main, ["--dataset", dataset, "--raw", f"data/raw/{dataset}",
                                        "--out", f"data/splits/{dataset}.json"])
    assert result.exit_code == 0, result.output
    text = (project / "data" / "splits" / f"{dataset}.json").read_text()
    content = json.loads(text)
    assert set(content) == {"dataset", "seed", "rule", "train", "val", "test"}
    assert sum(len(content[k]) for k in ("train", "val", "test")) == 6
    runner.invoke(split.main, ["--dataset", dataset, "--raw", f"data/raw/{dataset}", "--out", "again.json"])
    assert (project / "again.json").read_text() == text  # same params, same bytes


def test_official_without_network_fails_cleanly(project):
    _set(project / "params.yaml", "data.source", "official")
    result = CliRunner().invoke(fetch.main, ["--dataset", "msrs", "--out", "data/raw/msrs", "--conditions", "c.json",
                                             "--base-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "Manual alternative" in result.output
    assert not (project / "data" / "raw" / "msrs").exists()
    assert not list((project / "data" / "work" / "downloads").glob("*"))


def test_local_without_path_fails_cleanly(project):
    _set(project / "params.yaml", "data.source", "local")
    result = CliRunner().invoke(fetch.main, ["--dataset", "fmb", "--out", "data/raw/fmb", "--conditions", "c.json"])
    assert result.exit_code == 1 and "data.local.fmb" in result.output
