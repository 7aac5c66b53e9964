"""The authors' released checkpoints: downloads against a loopback server only (127.0.0.1)."""
from __future__ import annotations

import hashlib
import json
import socket

import pytest

from pipeline.originals.official import (RELEASES, SOURCE_KEY, SOURCES, SUBDIR, OriginalsError,
                                         cached_name, fetch_original, validate_source)
from tests.data.test_official import _Handler, server  # noqa: F401 (the loopback HTTP server fixture)
from tests.downstream.test_weights import local_only  # noqa: F401 (fails on any non-loopback connection)

QUIET = dict(log=lambda s: None)
MANIFEST = "weights-manifest.json"


def _serve(arch: str, data: bytes) -> None:
    _Handler.files[RELEASES[arch].path] = data


def test_table_covers_every_model_with_raw_github_urls():
    assert set(RELEASES) == {"swinfusion", "seafusion", "emma"}  # the paper's three Original rows
    assert RELEASES["swinfusion"].url == ("https://raw.githubusercontent.com/Linfeng-Tang/SwinFusion/master/"
                                          "Model/Infrared_Visible_Fusion/Infrared_Visible_Fusion/models/10000_E.pth")
    assert RELEASES["seafusion"].url.endswith("Linfeng-Tang/SeAFusion/main/model/Fusion/fusionmodel_final.pth")
    assert RELEASES["emma"].url.endswith("Zhaozixiang1228/MMIF-EMMA/main/model/EMMA.pth")


def test_sources_validated_with_key_and_choices():
    assert tuple(SOURCES) == ("official", "local", "synthetic", "retrain")
    for name in SOURCES:
        assert validate_source(name) == name
    with pytest.raises(ValueError, match=rf"{SOURCE_KEY}='offical'.*official, local, synthetic, retrain"):
        validate_source("offical")


def test_checksum_recorded_then_verified(server, tmp_path):  # noqa: F811
    _, url = server
    first = b"released weights " * 300
    _serve("seafusion", first)
    path = fetch_original("seafusion", tmp_path, base_url=url, **QUIET)
    assert path == tmp_path / SUBDIR / cached_name("seafusion") and path.read_bytes() == first
    manifest = tmp_path / SUBDIR / MANIFEST
    digest = hashlib.sha256(first).hexdigest()
    assert json.loads(manifest.read_text()) == {cached_name("seafusion"): digest}
    assert fetch_original("seafusion", tmp_path, base_url=url, **QUIET) == path
    assert len(_Handler.log) == 1  # the verified cached copy is reused
    # A cached copy that no longer matches is deleted and fetched again.
    path.write_bytes(b"bit rot")
    assert fetch_original("seafusion", tmp_path, base_url=url, **QUIET).read_bytes() == first
    assert len(_Handler.log) == 2


def test_mismatch_leaves_nothing_behind(server, tmp_path):  # noqa: F811
    _, url = server
    _serve("emma", b"first release " * 300)
    path = fetch_original("emma", tmp_path, base_url=url, **QUIET)
    recorded = json.loads((tmp_path / SUBDIR / MANIFEST).read_text())
    path.unlink()
    _serve("emma", b"changed upstream " * 300)
    with pytest.raises(OriginalsError, match=r"(?s)sha256 .*recorded in .*deleted.*originals\.source: local"):
        fetch_original("emma", tmp_path, base_url=url, **QUIET)
    assert sorted(p.name for p in (tmp_path / SUBDIR).iterdir()) == [MANIFEST]  # no file, no .part
    assert json.loads((tmp_path / SUBDIR / MANIFEST).read_text()) == recorded


def test_interrupted_transfer_resumes_with_range(server, tmp_path):  # noqa: F811
    _, url = server
    data = bytes(range(256)) * 64
    _serve("swinfusion", data)
    _Handler.cut_first.add(RELEASES["swinfusion"].path)  # the first response stops half way
    path = fetch_original("swinfusion", tmp_path, base_url=url, **QUIET)
    assert [r for _, r in _Handler.log] == [None, f"bytes={len(data) // 2}-"]
    assert path.read_bytes() == data and not path.with_name(path.name + ".part").exists()


def test_part_file_from_an_earlier_run_is_resumed(server, tmp_path):  # noqa: F811
    _, url = server
    data = b"0123456789" * 100
    _serve("seafusion", data)
    part = tmp_path / SUBDIR / f"{cached_name('seafusion')}.part"
    part.parent.mkdir()
    part.write_bytes(data[:300])
    assert fetch_original("seafusion", tmp_path, base_url=url, **QUIET).read_bytes() == data
    assert [r for _, r in _Handler.log] == ["bytes=300-"]


def test_git_lfs_pointer_is_refused(server, tmp_path):  # noqa: F811
    _, url = server
    _serve("emma", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 6000000\n")
    with pytest.raises(OriginalsError, match="Git LFS pointer"):
        fetch_original("emma", tmp_path, base_url=url, **QUIET)
    assert list((tmp_path / SUBDIR).iterdir()) == []


def test_connection_error_names_url_and_manual_alternative(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(OriginalsError) as error:
        fetch_original("swinfusion", tmp_path, base_url=base, **QUIET)
    text = str(error.value)
    assert f"{base}/{RELEASES['swinfusion'].path}" in text
    assert "download https://raw.githubusercontent.com/Linfeng-Tang/SwinFusion/master/" in text
    assert "originals.source: local" in text and "originals.local.swinfusion" in text
    assert not any(p.is_file() and not p.name.endswith(".json") for p in (tmp_path / SUBDIR).iterdir())
