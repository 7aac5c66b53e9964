"""Pretrained weights: official downloads against a loopback server, local checkpoints validated offline."""
from __future__ import annotations

import hashlib
import json
import socket
import sys
import types

import pytest
import torch

from pipeline.downstream.weights_official import SEGMIF_CHECKPOINT_FILE, SEGMIF_DRIVE_FOLDER, WeightsError, fetch_official_detector
from pipeline.downstream.weights_official import fetch_official_segmenter
from pipeline.downstream.weights_local import prepare_local_detector, prepare_local_segmenter
from tests.data.test_official import _Handler, server  # noqa: F401 (the loopback HTTP server fixture)

TINY = dict(hidden_sizes=[8, 8, 16, 16], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1], decoder_hidden_size=16)
HEADS = TINY["num_attention_heads"]
QUOTA = ("Failed to retrieve file url:\n\n\tToo many users have viewed or downloaded this file recently. Please "
         "try accessing the file later. If the file you are trying to access is particularly large or is shared "
         "with many people, it may take up to 24 hours to be able to view or download the file. If you still "
         "can't access a file after 24 hours, contact your domain administrator.\n\nYou may still be able to "
         "access the file from the browser:\n\n\thttps://drive.google.com/uc?id=abc\n\nbut Gdown can't. Please "
         "check connections and permissions.")


@pytest.fixture(autouse=True)
def local_only(monkeypatch):
    """Every test here fails if anything connects or resolves a name outside 127.0.0.1."""
    attempts, local = [], {"127.0.0.1", "localhost"}
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in local:
            attempts.append(address)
            raise AssertionError(f"network access attempted: {address}")
        return connect(self, address, *args)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in local:
            attempts.append(host)
            raise AssertionError(f"name lookup attempted: {host}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == []


def _segmenter(num_classes=3, **encoder):
    from pipeline.downstream.fused_segmenter import FusedImageSegmenter

    return FusedImageSegmenter(num_classes, **{**TINY, **encoder})


@pytest.fixture
def fake_converter(monkeypatch):
    """pipeline.downstream.segmif_convert stand-in: writes a tiny transformers folder, records its calls."""
    calls = []
    module = types.ModuleType("pipeline.downstream.segmif_convert")
    module.ConversionError = type("ConversionError", (ValueError,), {})

    def convert_segmif_checkpoint(path, out_dir, num_heads=(1, 2, 5, 8), sr_ratios=(8, 4, 2, 1), num_classes=None):
        calls.append(dict(path=path, num_heads=num_heads, sr_ratios=sr_ratios, num_classes=num_classes))
        if b"not segmif" in open(path, "rb").read(100):
            raise module.ConversionError("no backbone.* keys")
        _segmenter(num_classes).segformer.save_pretrained(out_dir)
        return {"converted": 7}

    module.convert_segmif_checkpoint = convert_segmif_checkpoint
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return calls


def test_detector_sha256_recorded_then_verified(server, tmp_path):  # noqa: F811
    _, url = server
    first, downloads = b"first release " * 500, tmp_path / "downloads"
    _Handler.files["yolo11n.pt"] = first
    result = fetch_official_detector(downloads, tmp_path / "a" / "yolo11n.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    digest = hashlib.sha256(first).hexdigest()
    assert result == {"source": "official", "url": f"{url}/yolo11n.pt", "sha256": digest,
                      "file": str(tmp_path / "a" / "yolo11n.pt")}
    assert (tmp_path / "a" / "yolo11n.pt").read_bytes() == first
    assert json.loads((downloads / "weights-manifest.json").read_text()) == {"yolo11n.pt": digest}
    fetch_official_detector(downloads, tmp_path / "b.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    assert len(_Handler.log) == 1  # the verified cached copy is reused
    # The cache is lost and the server now serves other bytes: refused, deleted, nothing placed.
    (downloads / "yolo11n.pt").unlink()
    _Handler.files["yolo11n.pt"] = b"changed release " * 500
    with pytest.raises(WeightsError, match=r"(?s)recorded in .*weights-manifest.json.*deleted.*detector\.local"):
        fetch_official_detector(downloads, tmp_path / "c.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    assert not (tmp_path / "c.pt").exists() and sorted(p.name for p in downloads.iterdir()) == ["weights-manifest.json"]
    assert json.loads((downloads / "weights-manifest.json").read_text()) == {"yolo11n.pt": digest}
    # A corrupt cached copy is replaced by a fresh, verified download.
    _Handler.files["yolo11n.pt"] = first
    (downloads / "yolo11n.pt").write_bytes(b"truncated")
    fetch_official_detector(downloads, tmp_path / "d.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    assert (tmp_path / "d.pt").read_bytes() == first


def test_web_page_instead_of_weights_is_not_recorded(server, tmp_path):  # noqa: F811
    _, url = server
    _Handler.files["yolo11n.pt"] = b"\n<!DOCTYPE html><html><title>Sign in</title></html>"
    with pytest.raises(WeightsError, match="returned a web page"):
        fetch_official_detector(tmp_path / "downloads", tmp_path / "yolo11n.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    assert list((tmp_path / "downloads").iterdir()) == [] and not (tmp_path / "yolo11n.pt").exists()


def test_interrupted_transfer_resumes_with_range(server, tmp_path):  # noqa: F811
    _, url = server
    data = bytes(range(256)) * 64
    _Handler.files["yolo11n.pt"] = data
    _Handler.cut_first.add("yolo11n.pt")
    fetch_official_detector(tmp_path / "downloads", tmp_path / "yolo11n.pt", url=f"{url}/yolo11n.pt", log=lambda s: None)
    assert [r for _, r in _Handler.log] == [None, f"bytes={len(data) // 2}-"]
    assert (tmp_path / "yolo11n.pt").read_bytes() == data


@pytest.mark.parametrize("failure", ["quota", "offline"])
def test_gdown_errors_give_the_manual_alternative(tmp_path, monkeypatch, failure):
    import gdown
    import requests

    listing = [types.SimpleNamespace(id="abc", path=f"checkpoint/{SEGMIF_CHECKPOINT_FILE}")]

    def download_folder(**kwargs):
        if failure == "offline":
            raise requests.exceptions.ConnectionError("Failed to resolve 'drive.google.com'")
        return listing

    def download(**kwargs):
        raise gdown.exceptions.FileURLRetrievalError(QUOTA)

    monkeypatch.setattr(gdown, "download_folder", download_folder)
    monkeypatch.setattr(gdown, "download", download)
    with pytest.raises(WeightsError) as caught:
        fetch_official_segmenter(tmp_path / "downloads", tmp_path / "seg", 9, log=lambda s: None)
    message = str(caught.value)
    for needle in (SEGMIF_DRIVE_FOLDER, "Too many users" if failure == "quota" else "Failed to resolve",
                   "Manual alternative", SEGMIF_CHECKPOINT_FILE, "weights.segmenter.local", "nvidia/mit-b3"):
        assert needle in message
    assert not (tmp_path / "seg").exists()


def test_network_guard_catches_swallowed_attempts(local_only):
    try:
        socket.create_connection(("example.com", 80))
    except AssertionError:
        pass
    assert local_only == ["example.com"]
    local_only.clear()  # the guard works; let its final check pass


def test_drive_checkpoint_is_picked_by_name_and_converted(tmp_path, monkeypatch, fake_converter):
    import gdown

    listing = [types.SimpleNamespace(id=i, path=p) for i, p in
               (("r1", "results/0001.png"), ("f1", "checkpoint/modelfusion-final2.pth"),
                ("s1", f"checkpoint/{SEGMIF_CHECKPOINT_FILE}"))]
    monkeypatch.setattr(gdown, "download_folder", lambda **kwargs: listing)
    asked = []

    def download(id, output, **kwargs):
        asked.append(id)
        open(output, "wb").write(b"segmif weights")
        return output

    monkeypatch.setattr(gdown, "download", download)
    result = fetch_official_segmenter(tmp_path / "downloads", tmp_path / "seg", 15, num_heads=HEADS, log=lambda s: None)
    assert asked == ["s1"] and result["source"] == "official" and result["conversion"] == {"converted": 7}
    assert fake_converter[0]["num_classes"] == 15 and fake_converter[0]["num_heads"] == tuple(HEADS)
    assert (tmp_path / "seg" / "config.json").is_file()
    monkeypatch.setattr(gdown, "download_folder", lambda **kwargs: listing[:2])
    with pytest.raises(WeightsError, match=r"no file named .*modelfusion-final2\.pth"):
        fetch_official_segmenter(tmp_path / "other", tmp_path / "seg2", 15, log=lambda s: None)


def test_segmenter_mirror_over_http(server, tmp_path, fake_converter):  # noqa: F811
    _, url = server
    _Handler.files[SEGMIF_CHECKPOINT_FILE] = b"segmif weights" * 100
    result = fetch_official_segmenter(tmp_path / "downloads", tmp_path / "seg", 9, base_url=url, log=lambda s: None)
    assert result["url"] == f"{url}/{SEGMIF_CHECKPOINT_FILE}"
    assert result["sha256"] == hashlib.sha256(b"segmif weights" * 100).hexdigest()
    _Handler.files[SEGMIF_CHECKPOINT_FILE] = b"not segmif"
    with pytest.raises(WeightsError, match="not a SegMiF segmentation checkpoint"):
        fetch_official_segmenter(tmp_path / "d2", tmp_path / "seg2", 9, base_url=url, log=lambda s: None)
    assert not (tmp_path / "seg2").exists()


def test_local_segmenter_folder_validates_and_reinitialises_the_classifier(tmp_path):
    from pipeline.downstream.fused_segmenter import load_local_checkpoint

    _segmenter(3).segformer.save_pretrained(tmp_path / "ckpt")
    report = prepare_local_segmenter(tmp_path / "ckpt", tmp_path / "out", 5, TINY, num_heads=HEADS)
    assert report["kind"] == "transformers folder" and report["skipped"] == sorted(report["skipped"])
    assert report["reinitialised"] == ["decode_head.classifier.bias", "decode_head.classifier.weight"]
    assert load_local_checkpoint(_segmenter(5), tmp_path / "out")["skipped"] == []
    prepare_local_segmenter(tmp_path / "ckpt", tmp_path / "again", 5, TINY, num_heads=HEADS)  # same bytes (seed 0)
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (tmp_path / "out" / "model.safetensors").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_local_segmenter_of_the_wrong_size_is_refused(tmp_path):
    _segmenter(3, hidden_sizes=[8, 8, 16, 32]).segformer.save_pretrained(tmp_path / "ckpt")
    with pytest.raises(WeightsError, match=r"hidden_sizes: \[8, 8, 16, 32\] \(expected \[8, 8, 16, 16\]\)"):
        prepare_local_segmenter(tmp_path / "ckpt", tmp_path / "out", 5, TINY, num_heads=HEADS)
    torch.save(_segmenter(3, hidden_sizes=[8, 8, 16, 32]).segformer.state_dict(), tmp_path / "state.pt")
    with pytest.raises(WeightsError, match=r"encoder tensors not loaded .*segformer\.stages\.3"):
        prepare_local_segmenter(tmp_path / "state.pt", tmp_path / "out", 5, TINY, num_heads=HEADS)
    _segmenter(3).segformer.save_pretrained(tmp_path / "empty")
    (tmp_path / "empty" / "model.safetensors").unlink()
    with pytest.raises(WeightsError, match="does not load as a transformers SegFormer folder"):
        prepare_local_segmenter(tmp_path / "empty", tmp_path / "out", 5, TINY, num_heads=HEADS)
    assert not (tmp_path / "out").exists()


def test_local_segmenter_missing_path_names_both_ways(tmp_path):
    for path in (tmp_path / "nowhere.pth", ""):
        with pytest.raises(WeightsError, match=r"(?s)weights\.segmenter\.local.*weights\.source: official.*mit-b3"):
            prepare_local_segmenter(path, tmp_path / "out", 5, TINY, num_heads=HEADS)


def test_local_segmif_checkpoint_goes_through_the_converter(tmp_path, fake_converter):
    torch.save({"state_dict": {"encoder.patch_embed1.proj.weight": torch.zeros(1)}}, tmp_path / "segmif.pth")
    report = prepare_local_segmenter(tmp_path / "segmif.pth", tmp_path / "out", 9, TINY, num_heads=HEADS)
    assert report["kind"] == "SegMiF checkpoint" and report["conversion"] == {"converted": 7}
    assert report["reinitialised"] == [] and (tmp_path / "out" / "config.json").is_file()


def test_local_detector(tmp_path, yolo_env):
    from pipeline.downstream.yolo_offline import configure_offline

    configure_offline(tmp_path / "cfg")
    from ultralytics import YOLO

    YOLO("yolo11n.yaml").save(tmp_path / "tiny.pt")
    report = prepare_local_detector(tmp_path / "tiny.pt", tmp_path / "out" / "yolo11n.pt")
    assert report["task"] == "detect" and (tmp_path / "out" / "yolo11n.pt").read_bytes() == (tmp_path / "tiny.pt").read_bytes()
    assert report["sha256"] == hashlib.sha256((tmp_path / "tiny.pt").read_bytes()).hexdigest()
    YOLO("yolo11n-cls.yaml").save(tmp_path / "cls.pt")
    with pytest.raises(WeightsError, match="'classify' model, not a detection model"):
        prepare_local_detector(tmp_path / "cls.pt", tmp_path / "bad.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(WeightsError, match="does not load as an Ultralytics checkpoint"):
        prepare_local_detector(tmp_path / "junk.pt", tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match=r"weights\.detector\.local` = .*nowhere\.pt does not exist"):
        prepare_local_detector(tmp_path / "nowhere.pt", tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_local_imagenet_encoder_folder_gets_a_fresh_decoder(tmp_path):
    """An nvidia/mit-b3-like folder (SegformerForImageClassification: encoder + 1000-class head, no decoder)."""
    from transformers import SegformerForImageClassification

    from pipeline.downstream.fused_segmenter import segformer_config

    SegformerForImageClassification(segformer_config(1000, **TINY)).save_pretrained(tmp_path / "mit")
    report = prepare_local_segmenter(tmp_path / "mit", tmp_path / "out", 9, TINY, num_heads=HEADS)
    assert report["reinitialised"] and all(k.startswith("decode_head.") for k in report["reinitialised"])
    assert report["skipped"] == [] and (tmp_path / "out" / "config.json").is_file()


def _record_one(downloads, name):
    from pipeline.downstream.weights_official import download_recorded

    download_recorded(downloads, name, f"http://127.0.0.1/{name}", lambda part: part.write_bytes(name.encode()),
                      manual="", log=lambda line: None)


def test_concurrent_downloads_keep_every_manifest_entry(tmp_path, monkeypatch):
    import multiprocessing
    import time

    import pipeline.downstream.weights_official as weights

    slow_write = weights.atomic_write_json

    def widened(path, obj):  # a read-modify-write race needs only this window to lose an entry
        time.sleep(0.3)
        return slow_write(path, obj)

    monkeypatch.setattr(weights, "atomic_write_json", widened)
    context = multiprocessing.get_context("fork")  # the children inherit the widened writer
    names = [f"w{i}.pt" for i in range(4)]
    workers = [context.Process(target=_record_one, args=(tmp_path, n)) for n in names]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0] * 4
    assert sorted(json.loads((tmp_path / weights.MANIFEST).read_text())) == names
