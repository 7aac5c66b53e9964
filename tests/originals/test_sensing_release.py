"""EMMA's released A_i, A_v (`<profile>.sensing.source`): sources, downloads against a loopback server or a
monkeypatched gdown, the released key layout, the sensing@released stage and the DAG around it."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import types
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from pipeline import params as _params
from pipeline.dag import build as dag_build
from pipeline.models.unet5 import UNet5
from pipeline.originals import sensing as sn
from pipeline.originals import sensing_release as sr
from pipeline.originals.official import SUBDIR, OriginalsError
from tests.data.test_official import _Handler, server  # noqa: F401 (the loopback HTTP server fixture)
from tests.downstream.test_weights import local_only  # noqa: F401 (fails on any non-loopback connection)
from tests.originals.conftest import GOLDEN

ROOT = Path(__file__).resolve().parents[2]
QUIET = dict(log=lambda s: None)
MANIFEST = "weights-manifest.json"
TINY = (2, 2, 4, 4, 4)  # the released key layout at tiny widths: checkpoints of a few kB


def _released_bytes(seed: int, widths=TINY, rename: dict | None = None) -> bytes:
    """A state dict saved as upstream's train_AiAv.py saves it (torch.save(model.state_dict()))."""
    torch.manual_seed(seed)
    state = UNet5(1, widths).state_dict()
    state = {(rename or {}).get(k, k): v for k, v in state.items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _serve(seed: int = 0) -> dict[str, bytes]:
    files = {net: _released_bytes(seed + k) for k, net in enumerate(sr.RELEASES)}
    for net, data in files.items():
        _Handler.files[sr.RELEASES[net].path] = data
    return files


def test_sources_validated_with_key_and_choices():
    assert tuple(sn.SOURCES) == ("official", "local", "synthetic", "retrain")
    for name in sn.SOURCES:
        assert sn.validate_source(name) == name
    with pytest.raises(ValueError, match=r"<profile>\.sensing\.source='offical'.*official, local, synthetic, retrain"):
        sn.validate_source("offical")
    with pytest.raises(ValueError, match=r"sensing\.source='official' with sensing\.variant='ideal'"):
        sn.sensing_source({"source": "official", "variant": "ideal"})
    assert sn.sensing_source({}) == "synthetic"  # a block without the key: the behaviour before it
    block = yaml.safe_load((ROOT / "params.yaml").read_text())["paper"]["sensing"]
    assert block["source"] == "official" and sn.SensingConfig.from_params(block) == sn.SensingConfig()


def test_synthetic_keeps_the_record_of_before_and_retrain_says_so():
    block = {"variant": "learned", "epochs": 1, "widths": list(TINY)}
    before = sn.settings_record(sn.SensingConfig.from_params(block))
    info = {"variant": "learned", "dataset": "fmb", "settings": before}
    assert sn.run_record({**block, "source": "synthetic", "local": {"ai": "", "av": ""}}, "fmb", info) == before
    assert sn.run_record(block, "fmb", info) == before  # a block without the key
    assert sn.run_record({**block, "source": "retrain"}, "fmb", info) == {**before, "source": "retrain"}
    with pytest.raises(ValueError, match="trained for 'fmb'.*needs 'msrs'"):
        sn.run_record(block, "msrs", info)


def test_an_emma_run_with_the_released_pair_says_so():
    from dataclasses import replace

    from stages.train import settings

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    block = params["quick"]["sensing"]
    trained = replace(settings(params, "original-emma-fmb"),
                      sensing={**sn.settings_record(sn.SensingConfig.from_params(block)), "files": {}})
    info = {"variant": "learned", "source": "official", "settings": {"widths": list(TINY)}, "release": {}}
    released = replace(trained, sensing={**sn.run_record({**block, "source": "official"}, "fmb", info), "files": {}})
    assert trained.learned_sensing and released.learned_sensing  # both train with A_i, A_v in the loss
    assert "trained by sensing@<dataset>" in trained.record()["original_variant"]
    assert "from EMMA's released Ai.pth, Av.pth" in released.record()["original_variant"]
    assert released.record()["sensing"]["source"] == "official" and released.digest() != trained.digest()


def test_release_table_names_emmas_files():
    assert {net: r.url for net, r in sr.RELEASES.items()} == {
        "ai": "https://raw.githubusercontent.com/Zhaozixiang1228/MMIF-EMMA/main/model/Ai.pth",
        "av": "https://raw.githubusercontent.com/Zhaozixiang1228/MMIF-EMMA/main/model/Av.pth"}
    assert sr.RELEASED_WIDTHS == (64, 128, 256, 512, 1024)  # nets/Unet5.py


def test_official_checksum_recorded_then_verified(server, tmp_path):  # noqa: F811
    _, url = server
    served = _serve()
    files = sr.fetch_released(tmp_path, base_url=url, **QUIET)
    manifest = json.loads((tmp_path / SUBDIR / MANIFEST).read_text())
    for net, (path, digest) in files.items():
        assert path == tmp_path / SUBDIR / sr.cached_name(net) and path.read_bytes() == served[net]
        assert manifest[sr.cached_name(net)] == digest == hashlib.sha256(served[net]).hexdigest()
    assert sr.fetch_released(tmp_path, base_url=url, **QUIET) == files
    assert len(_Handler.log) == 2  # the verified cached copies are reused
    files["ai"][0].write_bytes(b"bit rot")  # a cached copy that no longer matches is fetched again
    assert sr.fetch_released(tmp_path, base_url=url, **QUIET)["ai"][0].read_bytes() == served["ai"]
    assert len(_Handler.log) == 3


def test_mismatch_leaves_nothing_behind(server, tmp_path):  # noqa: F811
    _, url = server
    _serve(seed=0)
    files = sr.fetch_released(tmp_path, base_url=url, **QUIET)
    recorded = json.loads((tmp_path / SUBDIR / MANIFEST).read_text())
    files["av"][0].unlink()
    _serve(seed=10)  # upstream changed the files
    with pytest.raises(OriginalsError, match=r"(?s)Av\.pth .*sha256 .*recorded.*deleted.*sensing\.source: local"
                                             r".*sensing\.local\.av"):
        sr.fetch_released(tmp_path, base_url=url, **QUIET)
    assert sorted(p.name for p in (tmp_path / SUBDIR).iterdir()) == sorted([MANIFEST, sr.cached_name("ai")])
    assert json.loads((tmp_path / SUBDIR / MANIFEST).read_text()) == recorded


def test_unreachable_release_gives_the_manual_alternative(server, tmp_path):  # noqa: F811
    _, url = server  # serves nothing: a 404 for Ai.pth
    with pytest.raises(OriginalsError, match=r"(?s)cannot download emma-Ai\.pth.*Manual alternative.*"
                                             r"sensing\.source: local.*sensing\.local\.ai"):
        sr.fetch_released(tmp_path, base_url=url, **QUIET)
    assert not any(p.suffix != ".json" for p in (tmp_path / SUBDIR).iterdir())


def test_a_drive_folder_is_searched_by_name(tmp_path, monkeypatch):
    import gdown

    listing = [types.SimpleNamespace(id=f"id-{n}", path=f"EMMA/{n}") for n in ("EMMA.pth", "Ai.pth", "Av.pth")]
    monkeypatch.setattr(gdown, "download_folder", lambda **kwargs: listing)
    asked = []

    def download(id, output, quiet, resume):
        asked.append(id)
        Path(output).write_bytes(_released_bytes(len(asked)))
        return output

    monkeypatch.setattr(gdown, "download", download)
    files = sr.fetch_released(tmp_path, drive_folder="https://drive.google.com/drive/folders/FOLDER", **QUIET)
    assert asked == ["id-Ai.pth", "id-Av.pth"] and set(files) == {"ai", "av"}


def test_released_layout_loads_into_unet5(tmp_path):
    if (GOLDEN / "unet5.npz").is_file():  # the layout nets/Unet5.py saves (make_golden.py)
        import numpy as np

        layout = json.loads(str(np.load(GOLDEN / "unet5.npz")["manifest"]))["layout"]
        assert [e["key"] for e in layout] == list(UNet5().state_dict())
    path = tmp_path / "Ai.pth"
    path.write_bytes(_released_bytes(0))
    state = sr.released_state(path, "ai", widths=TINY)
    net = UNet5(1, TINY)
    net.load_state_dict(state)  # strict
    assert torch.equal(net.down1.conv[0].weight, torch.load(path)["down1.conv.0.weight"])


def test_wrong_keys_and_shapes_are_named(tmp_path):
    path = tmp_path / "Av.pth"
    path.write_bytes(_released_bytes(0, rename={"up1.conv.0.weight": "up1.conv0.weight"}))
    with pytest.raises(sr.SensingReleaseError, match=r"(?s)not EMMA's released Av\.pth \(2 problems\).*"
                                                     r"unexpected key 'up1\.conv0\.weight'.*missing key 'up1\.conv\.0\.weight'"):
        sr.released_state(path, "av", widths=TINY)
    with pytest.raises(sr.SensingReleaseError, match=r"wrong shape for 'down1\.conv\.0\.weight': \(2, 1, 3, 3\), "
                                                     r"UNet5 at widths \[64, 128, 256, 512, 1024\] has \(64, 1, 3, 3\)"):
        sr.released_state(_write(tmp_path / "Ai.pth", _released_bytes(0)), "ai")  # tiny, not the released widths


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _project(tmp_path: Path, source: str, local: dict | None = None) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["quick"]["sensing"].update(source=source, local=local or {"ai": "", "av": ""})
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


@pytest.mark.parametrize("source", ["official", "local"])
def test_the_stage_writes_the_folder_an_emma_run_reads(source, server, tmp_path, monkeypatch):  # noqa: F811
    from stages import sensing_release as stage

    _, url = server
    served = _serve()
    local = {net: str(_write(tmp_path / f"copy-{net}.pth", data)) for net, data in served.items()}
    root = _project(tmp_path / "p", source, local if source == "local" else None)
    monkeypatch.chdir(root)
    monkeypatch.setenv("DVC_ROOT", str(root))
    monkeypatch.setattr(sr, "RELEASED_WIDTHS", TINY)
    out = root / "data/sensing/released"
    result = CliRunner().invoke(stage.main, ["--out", str(out), "--downloads", str(root / "dl"), "--base-url", url])
    assert result.exit_code == 0, result.output
    assert (len(_Handler.log) == 2) == (source == "official")  # a local copy never touches the network
    a_i, a_v, info = sn.load_sensing(out)
    assert info["source"] == source and info["settings"] == {"widths": list(TINY)} and "dataset" not in info
    assert torch.equal(a_i.last[0].weight, torch.load(io.BytesIO(served["ai"]))["last.0.weight"])
    block = yaml.safe_load((root / "params.yaml").read_text())["quick"]["sensing"]
    record = sn.run_record(block, "fmb", info)  # any dataset: one pair for all
    assert record["source"] == source and record == sn.run_record(block, "msrs", info)
    with pytest.raises(ValueError, match="run stages.sensing_release again"):
        sn.run_record({**block, "source": "official" if source == "local" else "local"}, "fmb", info)
    with pytest.raises(ValueError, match="run stages.sensing again"):  # a trained folder is asked for
        sn.run_record({**block, "source": "synthetic"}, "fmb", info)


def test_an_emma_run_trains_with_the_released_folder(tmp_path, monkeypatch):
    from stages import sensing_release, train
    from tests.originals.test_sensing import _invoke, _project as _run_project

    raw, _, split = _run_project(tmp_path)
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    local = {net: str(_write(tmp_path / f"{net}.pth", _released_bytes(k))) for k, net in enumerate(sr.RELEASES)}
    params["quick"]["sensing"].update(source="local", local=local)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sr, "RELEASED_WIDTHS", TINY)
    _invoke(sensing_release.main, ["--out", tmp_path / "released"], tmp_path, monkeypatch)
    for dataset in ("fmb", "msrs"):  # one folder for every dataset (only fmb's data exists here: fmb trains)
        assert sn.run_record(params["quick"]["sensing"], dataset, sn.load_info(tmp_path / "released"))
    run = ["--run", "original-emma-fmb", "--raw", raw, "--split", split, "--history", tmp_path / "h.csv",
           "--work", tmp_path / "work", "--out", tmp_path / "run", "--sensing", tmp_path / "released"]
    _invoke(train.main, run, tmp_path, monkeypatch)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["sensing"]["source"] == "local" and "released Ai.pth" in config["original_variant"]
    assert config["sensing"]["files"] == sn.file_digests(tmp_path / "released")


def test_a_missing_local_copy_names_the_key(tmp_path, monkeypatch):
    from stages import sensing_release as stage

    root = _project(tmp_path, "local", {"ai": str(tmp_path / "nowhere.pth"), "av": ""})
    monkeypatch.chdir(root)
    monkeypatch.setenv("DVC_ROOT", str(root))
    result = CliRunner().invoke(stage.main, ["--out", str(root / "o")])
    assert result.exit_code != 0 and "quick.sensing.local.ai" in result.output and "Ai.pth" in result.output
    assert not (root / "o").exists()


def test_training_stages_refuse_the_released_sources(tmp_path, monkeypatch):
    from stages import sensing, sensing_release

    root = _project(tmp_path, "official")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DVC_ROOT", str(root))
    (root / "raw").mkdir()
    (root / "split.json").write_text("{}")
    result = CliRunner().invoke(sensing.main, ["--dataset", "fmb", "--raw", "raw", "--split", "split.json",
                                               "--fused", "raw", "--out", "o"])
    assert result.exit_code != 0 and "stages.sensing_release" in result.output and not (root / "o").exists()
    _project(tmp_path, "synthetic")
    result = CliRunner().invoke(sensing_release.main, ["--out", "o"])
    assert result.exit_code != 0 and "sensing.source='synthetic'" in result.output


def _dag(profile: str, originals: str, sensing: str) -> dict:
    params = copy.deepcopy(_params.load_params(ROOT / "params.yaml"))
    params["profile"] = profile
    params[profile]["originals"]["source"], params[profile]["sensing"]["source"] = originals, sensing
    return dag_build.build(params)["stages"]


def test_paper_dag_trains_no_sensing_network_with_the_released_pair():
    assert "sensing" not in _dag("paper", "official", "official")  # released originals: nothing uses A_i, A_v
    for source in ("official", "local"):  # retrained EMMA runs: one released pair for both datasets
        stages = _dag("paper", "retrain", source)
        assert stages["sensing"]["foreach"] == ["released"]
        assert "stages.sensing_release --out data/sensing/${item}" in stages["sensing"]["do"]["cmd"]
        assert not any("stages.sensing " in s.get("do", s)["cmd"] for s in stages.values())
        emma = {n: i for n, i in stages["train"]["foreach"].items() if n.startswith("original-emma-")}
        assert sorted(emma) == ["original-emma-fmb", "original-emma-msrs"]
        assert all(i["sensing_dep"] == "data/sensing/released" for i in emma.values())
    assert _dag("paper", "retrain", "retrain")["sensing"]["foreach"] == ["fmb", "msrs"]


def test_quick_dag_still_trains_sensing_per_dataset():
    params = _params.load_params(ROOT / "params.yaml")
    assert params["quick"]["sensing"]["source"] == "synthetic"
    stages = dag_build.build(params)["stages"]
    assert stages["sensing"]["foreach"] == ["fmb", "msrs"]
    assert "python -m stages.sensing --dataset ${item}" in stages["sensing"]["do"]["cmd"]
    assert stages["train"]["foreach"]["original-emma-fmb"]["sensing_dep"] == "data/sensing/fmb"
