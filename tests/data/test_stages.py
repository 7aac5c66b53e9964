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
    m3fd = {"method", "near_duplicates"} if dataset == "m3fd" else set()  # MSRS's file keeps its keys
    assert set(content) == {"dataset", "seed", "rule", "train", "val", "test"} | m3fd
    assert sum(len(content[k]) for k in ("train", "val", "test")) == 6
    runner.invoke(split.main, ["--dataset", dataset, "--raw", f"data/raw/{dataset}", "--out", "again.json"])
    assert (project / "again.json").read_text() == text  # same params, same bytes


def _m3fd_split(project, method: str, count: int = 80):
    """fetch@m3fd at ``count`` frames, then split@m3fd with ``method``: (exit code, output, split file)."""
    _set(project / "params.yaml", "quick.synthetic.m3fd.count", count)
    _set(project / "params.yaml", "m3fd_split.method", method)
    runner = CliRunner()
    if not (project / "data" / "raw" / "m3fd").is_dir():
        result = runner.invoke(fetch.main, ["--dataset", "m3fd", "--out", "data/raw/m3fd", "--conditions", "c.json"])
        assert result.exit_code == 0, result.output
    out = project / f"{method}.json"
    result = runner.invoke(split.main, ["--dataset", "m3fd", "--raw", "data/raw/m3fd", "--out", str(out)])
    return result.exit_code, result.output, json.loads(out.read_text()) if out.is_file() else None


def test_m3fd_grouped_split_keeps_sequences_whole_and_random_leaks(project):
    from pipeline.data.synthetic import m3fd_sequences

    code, output, grouped = _m3fd_split(project, "grouped")
    assert code == 0, output
    code, output, random = _m3fd_split(project, "random")
    assert code == 0, output
    assert grouped["method"] == "grouped" and random["method"] == "random"
    side = {s: p for p in ("train", "val", "test") for s in grouped[p]}
    assert all(len({side[s] for s in seq}) == 1 for seq in m3fd_sequences(0, 80))  # the generator's sequences
    assert grouped["near_duplicates"]["test_in_train"] == grouped["near_duplicates"]["val_in_train"] == 0
    assert random["near_duplicates"]["test_in_train"] > 0
    assert 6 <= len(grouped["test"]) <= 10 and 6 <= len(grouped["val"]) <= 10  # 8:1:1 up to a sequence


def test_m3fd_unknown_split_method_names_key_and_values(project):
    code, output, content = _m3fd_split(project, "sequences", count=6)
    assert code == 1 and content is None
    assert "m3fd_split.method='sequences'" in output and "random, grouped" in output


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
