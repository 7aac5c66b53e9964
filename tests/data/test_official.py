"""The official source against a loopback HTTP server (never a real remote host)."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.data.download import ChecksumError, DownloadError
from pipeline.data.extract import UnsafeArchiveError, safe_extract
from pipeline.data.manifest import ManifestError
from pipeline.data.registry import DATASETS, Archive
from pipeline.data.dataset_sources import fetch_official


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_first: set[str] = set()
    log: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 (http.server API)
        name = self.path.lstrip("/")
        self.log.append((name, self.headers.get("Range")))
        if name not in self.files:
            self.send_error(404)
            return
        data = self.files[name]
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if name in self.cut_first:  # first attempt: half the bytes, then the connection drops
            self.cut_first.discard(name)
            self.wfile.write(data[start:start + (len(data) - start) // 2])
            self.close_connection = True
            return
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files, _Handler.cut_first, _Handler.log = {}, set(), []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _zip_of(root, prefix: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, f"{prefix}{path.relative_to(root).as_posix()}")
    return buffer.getvalue()


def _spec(data: bytes, sha256: str | None = None):
    archive = Archive(filename="msrs.zip", sha256=sha256 or hashlib.sha256(data).hexdigest(), marker=("train", "test"))
    return dataclasses.replace(DATASETS["msrs"], sources=(archive,), official_counts={})


def test_checksum_match_extracts_validates_and_writes_manifest(server, tiny_cache, tmp_path):
    httpd, url = server
    data = _zip_of(tiny_cache / "msrs", "MSRS-abc/")  # a wrapper folder, as in GitHub archives
    _Handler.files["msrs.zip"] = data
    spec, out, downloads = _spec(data), tmp_path / "raw" / "msrs", tmp_path / "downloads"
    summary = fetch_official(spec, out, downloads, base_url=url, log=lambda s: None)
    assert summary == {"train": {"pairs": 4}, "test": {"pairs": 2}}
    assert (out / "train" / "vi").is_dir() and not list(out.glob(".extract*"))
    manifest = json.loads((downloads / "msrs.manifest.json").read_text())
    assert len(manifest) == len([p for p in (tiny_cache / "msrs").rglob("*") if p.is_file()])
    # A second run reuses the cached archive and checks the manifest; a tampered manifest is reported.
    fetch_official(spec, tmp_path / "raw" / "again", downloads, base_url=url, log=lambda s: None)
    assert len(_Handler.log) == 1
    manifest[next(iter(manifest))] = "0" * 64
    (downloads / "msrs.manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="changed"):
        fetch_official(spec, tmp_path / "raw" / "third", downloads, base_url=url, log=lambda s: None)
    assert not (tmp_path / "raw" / "third").exists()


def test_checksum_mismatch_leaves_nothing(server, tiny_cache, tmp_path):
    httpd, url = server
    data = _zip_of(tiny_cache / "msrs", "")
    _Handler.files["msrs.zip"] = data
    spec = _spec(data, sha256="f" * 64)
    with pytest.raises(ChecksumError, match="deleted"):
        fetch_official(spec, tmp_path / "raw", tmp_path / "downloads", base_url=url, log=lambda s: None)
    assert not (tmp_path / "raw").exists() and list((tmp_path / "downloads").iterdir()) == []


def test_interrupted_transfer_resumes_with_range(server, tiny_cache, tmp_path):
    httpd, url = server
    data = _zip_of(tiny_cache / "msrs", "")
    _Handler.files["msrs.zip"] = data
    _Handler.cut_first.add("msrs.zip")
    fetch_official(_spec(data), tmp_path / "raw", tmp_path / "downloads", base_url=url, log=lambda s: None)
    assert [r for _, r in _Handler.log] == [None, f"bytes={len(data) // 2}-"]
    assert (tmp_path / "downloads" / "msrs.zip").read_bytes() == data


def test_archive_with_parent_member_is_rejected(server, tmp_path):
    httpd, url = server
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("train/ir/00001D.png", b"x")
        z.writestr("../escaped.txt", b"x")
    data = buffer.getvalue()
    _Handler.files["msrs.zip"] = data
    with pytest.raises(UnsafeArchiveError, match=r"\.\./escaped"):
        fetch_official(_spec(data), tmp_path / "work" / "raw", tmp_path / "downloads", base_url=url,
                       log=lambda s: None)
    assert not (tmp_path / "work" / "raw").exists() and not list(tmp_path.rglob("escaped.txt"))


def test_tar_link_leaving_target_is_rejected(tmp_path):
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as t:
        info = tarfile.TarInfo("data/link")
        info.type, info.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        t.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="leaves"):
        safe_extract(path, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_no_network_is_a_clear_error(tmp_path):
    import socket
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="Manual alternative"):
        fetch_official(_spec(b"x"), tmp_path / "raw", tmp_path / "downloads", base_url=f"http://127.0.0.1:{port}",
                       log=lambda s: None)
    assert not (tmp_path / "raw").exists() and list((tmp_path / "downloads").iterdir()) == []


def test_unofficial_mirror_needs_consent(tmp_path):
    with pytest.raises(DownloadError, match="unofficial"):
        fetch_official(DATASETS["fmb"], tmp_path / "raw", tmp_path / "downloads", allow_unofficial=False)


def test_corrupt_cached_archive_is_fetched_again(server, tiny_cache, tmp_path):
    httpd, url = server
    data = _zip_of(tiny_cache / "msrs", "")
    _Handler.files["msrs.zip"] = data
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "msrs.zip").write_bytes(b"truncated")  # e.g. a bad hand-placed copy
    fetch_official(_spec(data), tmp_path / "raw", tmp_path / "downloads", base_url=url, log=lambda s: None)
    assert (tmp_path / "downloads" / "msrs.zip").read_bytes() == data
