"""Pretrained starting points of the downstream models, downloaded (``official``) or given (``local``).

- detector: Ultralytics' COCO-pretrained ``yolo11n.pt`` (plain HTTP, resumable);
- segmenter: the SegFormer (MiT-B3 + all-MLP head at 256) released by SegMiF's authors, a WeTr
  ``.pth`` in their Google Drive folder, converted to a transformers folder.

Neither release publishes a checksum: the sha256 of the first complete download is recorded in
``<downloads>/weights-manifest.json`` ({filename: sha256}) and every later download or cached copy
is checked against it (a file put into ``<downloads>`` by hand counts as the first download).
Outputs appear atomically and only after the checks. Local sources: :mod:`pipeline.downstream.weights_local`.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Iterator

from pipeline.atomic import atomic_write_bytes, atomic_write_json
from pipeline.data.download import DownloadError, file_digest, gdrive_download, http_download

YOLO11N_URL = "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11n.pt"
# From SegMiF's README (github.com/JinyuanLiu-CV/SegMiF, "Data Preparation": "Related data, checkpoint,
# and our results on MFNet Dataset can be downloaded in [Google Drive]"). Override it for a mirror.
SEGMIF_DRIVE_FOLDER = "https://drive.google.com/drive/folders/1MFTVd32-VNcpiFfNsu9Rw73YZJATPHA6"
# The segmentation checkpoint inside that folder, identified by file name: SegMiF's
# test_segmentation.py loads Network3('mit_b3', 9) from './checkpoint/model-fusion_add_final2.pth'.
SEGMIF_CHECKPOINT_FILE = "model-fusion_add_final2.pth"
MANIFEST = "weights-manifest.json"
MIT_B3_HUB = "nvidia/mit-b3"


class WeightsError(RuntimeError):
    """Pretrained weights cannot be obtained or do not fit; the message gives the manual alternative."""


def manual_detector(url: str = YOLO11N_URL) -> str:
    return (f"Manual alternative: download {url} by hand, set `<profile>.weights.source: local` and "
            "`<profile>.weights.detector.local: /path/to/yolo11n.pt` in params.yaml; or choose "
            "`<profile>.weights.source: synthetic|scratch`.")


def manual_segmenter(folder: str = SEGMIF_DRIVE_FOLDER, filename: str = SEGMIF_CHECKPOINT_FILE) -> str:
    return (f"Manual alternative: open the SegMiF Google Drive folder {folder} in a browser, download "
            f"{filename} (the segmentation checkpoint), set `<profile>.weights.source: local` and "
            f"`<profile>.weights.segmenter.local: /path/to/{filename}`. Or start from ImageNet MiT-B3 instead: "
            f"download the `{MIT_B3_HUB}` folder (config.json + weights) from the Hugging Face hub by hand "
            f"(https://huggingface.co/{MIT_B3_HUB}) and give that local transformers folder as "
            "`<profile>.weights.segmenter.local`. Or choose `<profile>.weights.source: synthetic|scratch`.")


def atomic_copy(source: Path, out: Path) -> Path:
    """Copy ``source`` to ``out`` through a temp file beside it (``out`` is complete or absent)."""
    return atomic_write_bytes(out, Path(source).read_bytes())  # detector checkpoints: a few MB


def _recorded(manifest: Path, filename: str) -> str | None:
    return json.loads(manifest.read_text()).get(filename) if manifest.exists() else None


def _record(manifest: Path, filename: str, digest: str) -> None:
    stored = json.loads(manifest.read_text()) if manifest.exists() else {}
    if stored.get(filename) != digest:
        atomic_write_json(manifest, {**stored, filename: digest})


@contextlib.contextmanager
def _exclusive(downloads: Path) -> Iterator[None]:
    """One process at a time in ``downloads`` (queued experiments share it): the manifest is read-modify-write
    and two stages may want the same file (both segmenter stages fetch SegMiF's checkpoint)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks; stages of one `dvc repro` run one at a time anyway
        yield
        return
    handle = os.open(downloads, os.O_RDONLY)  # the folder itself is the lock: no lock file left behind
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def download_recorded(downloads: Path, filename: str, url: str, fetch: Callable[[Path], None], manual: str,
                      log: Callable[[str], None] = print) -> tuple[Path, str]:
    """``downloads/filename`` and its sha256: a cached copy or ``fetch(part)``, checked against the manifest."""
    downloads = Path(downloads)
    downloads.mkdir(parents=True, exist_ok=True)
    with _exclusive(downloads):
        return _download_recorded(downloads, filename, url, fetch, manual, log)


def _download_recorded(downloads: Path, filename: str, url: str, fetch: Callable[[Path], None], manual: str,
                       log: Callable[[str], None]) -> tuple[Path, str]:
    final, part, manifest = downloads / filename, downloads / f"{filename}.part", downloads / MANIFEST
    recorded = _recorded(manifest, filename)
    if final.exists():
        digest = file_digest(final)
        if recorded in (None, digest):
            _record(manifest, filename, digest)
            return final, digest
        log(f"{final}: sha256 {digest} differs from {recorded} in {manifest}; deleted, downloading it again")
        final.unlink()
    try:
        fetch(part)
    except DownloadError as error:
        raise WeightsError(f"cannot download {filename} from {url}: {error}\n{manual}\n"
                           f"Or put the file at {final} and re-run.") from error
    if not part.exists():
        raise WeightsError(f"downloading {url} produced no file {part}.\n{manual}")
    with open(part, "rb") as f:
        html = f.read(512).lstrip().startswith(b"<")
    if html:  # a login, quota or captive-portal page must never become the recorded reference
        part.unlink()
        raise WeightsError(f"{url} returned a web page, not {filename}; the file was deleted.\n{manual}")
    digest = file_digest(part)
    if recorded is not None and digest != recorded:
        part.unlink()
        raise WeightsError(f"{filename} downloaded from {url} has sha256 {digest}, not the {recorded} recorded in "
                           f"{manifest} at the first download; the file was deleted. If the release really changed, "
                           f"delete the {filename!r} entry of {manifest} and re-run.\n{manual}")
    os.replace(part, final)
    _record(manifest, filename, digest)
    return final, digest


def fetch_official_detector(downloads: Path, out: Path, url: str = YOLO11N_URL,
                            log: Callable[[str], None] = print) -> dict:
    """Download Ultralytics' ``yolo11n.pt`` into ``downloads`` (resumable, sha256-recorded), copy it to ``out``."""
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    path, digest = download_recorded(downloads, filename, url, lambda part: http_download(url, part, log=log),
                                     manual_detector(url), log=log)
    atomic_copy(path, out)
    return {"source": "official", "url": url, "sha256": digest, "file": str(out)}


def _drive_file_id(folder: str, filename: str) -> str:
    """Id of the file named ``filename`` in a Drive folder (listing only, nothing downloaded)."""
    import gdown

    kwargs = {"url": folder} if folder.startswith("http") else {"id": folder}
    entries = gdown.download_folder(**kwargs, skip_download=True, quiet=True)
    matches = sorted((e for e in entries if Path(e.path).name == filename), key=lambda e: e.path)
    if not matches:
        found = sorted(e.path for e in entries if e.path.endswith((".pth", ".pt")))
        raise DownloadError(f"no file named {filename} in the folder (checkpoints there: {found or 'none'}); "
                            "pass the right name as `filename`")
    return matches[0].id


def _drive_fetch(folder: str, filename: str, file_id: str | None, log: Callable[[str], None]):
    def fetch(part: Path) -> None:
        try:
            gdrive_download(file_id or _drive_file_id(folder, filename), part, log=log)
        except DownloadError:
            raise
        except Exception as error:  # gdown: FileURLRetrievalError (quota, permissions), requests errors
            raise DownloadError(f"Google Drive folder {folder}: {error}") from error
    return fetch


def fetch_official_segmenter(downloads: Path, out_dir: Path, num_classes: int, num_heads=(1, 2, 5, 8),
                             sr_ratios=(8, 4, 2, 1), folder: str = SEGMIF_DRIVE_FOLDER,
                             filename: str = SEGMIF_CHECKPOINT_FILE, file_id: str | None = None,
                             base_url: str | None = None, log: Callable[[str], None] = print) -> dict:
    """Download SegMiF's segmentation checkpoint and convert it into the transformers folder ``out_dir``.

    The file is found by name in the Drive folder ``folder`` (a URL or an id), or taken by ``file_id``
    directly; ``base_url`` (a mirror, a test server) fetches ``<base_url>/<filename>`` over plain HTTP.
    """
    manual = manual_segmenter(folder, filename)
    if base_url:
        url = f"{base_url.rstrip('/')}/{filename}"
        fetch = lambda part: http_download(url, part, log=log)  # noqa: E731
    else:
        url = f"https://drive.google.com/uc?id={file_id}" if file_id else f"{folder} ({filename})"
        fetch = _drive_fetch(folder, filename, file_id, log)
    path, digest = download_recorded(downloads, filename, url, fetch, manual, log=log)
    report = convert(path, out_dir, num_heads, sr_ratios, num_classes, manual)
    return {"source": "official", "url": url, "sha256": digest, "file": str(path), "conversion": report}


def convert(path: Path, out_dir: Path, num_heads, sr_ratios, num_classes: int | None, manual: str) -> dict:
    """SegMiF ``.pth`` -> transformers folder, through pipeline.downstream.segmif_convert (imported here)."""
    try:
        from pipeline.downstream.segmif_convert import ConversionError, convert_segmif_checkpoint
    except ImportError as error:
        raise WeightsError(f"cannot convert {path}: the SegMiF converter is unavailable ({error}).\n{manual}") from error
    try:
        return convert_segmif_checkpoint(path, out_dir, num_heads=tuple(num_heads), sr_ratios=tuple(sr_ratios),
                                         num_classes=num_classes)
    except ConversionError as error:
        raise WeightsError(f"{path} is not a SegMiF segmentation checkpoint of this size: {error}\n{manual}") from error
