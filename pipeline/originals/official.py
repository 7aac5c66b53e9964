"""The authors' released fusion checkpoints behind the paper's "Original" rows (Sec. IV-B, Table III).

The paper compares with "the default models provided in their publicly available code repositories"
(Sec. IV-B); its Table III "Original" rows repeat Table II's SwinF./EMMA/SeAF. rows, i.e. those
released models, not retrained ones. The three checkpoints are committed in the authors' GitHub
repositories and fetched from raw.githubusercontent.com at a branch.

Nothing publishes a checksum: :func:`fetch_original` reuses the downstream weights' machinery
(:func:`pipeline.downstream.weights_official.download_recorded`: HTTP Range resume of ``<name>.part``, atomic
rename, sha256 recorded at the first download, trust on first use, and checked on every later download
or cached copy; a mismatch deletes the file). The files and their manifest live in
``<downloads>/originals/`` (manifest: ``weights-manifest.json`` there, {filename: sha256}).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.data.download import DownloadError, http_download
from pipeline.downstream.weights_official import WeightsError, download_recorded
from pipeline.originals.sources import LOCAL_KEY, RELEASES, SOURCE_KEY, SOURCES, Release, validate_source  # noqa: F401

SUBDIR = "originals"
LFS_POINTER = b"version https://git-lfs"


class OriginalsError(WeightsError):
    """A released checkpoint cannot be obtained or a source is invalid; the message gives the way out."""


def release(arch: str) -> Release:
    if arch not in RELEASES:
        raise OriginalsError(f"no released checkpoint for {arch!r}; known: {', '.join(RELEASES)}")
    return RELEASES[arch]


def manual(arch: str) -> str:
    """What to do by hand when the download fails."""
    r = release(arch)
    return (f"Manual alternative: download {r.url} yourself (or clone https://github.com/{r.repo}: the file is "
            f"{r.path}), then set `{SOURCE_KEY}: local` and `{LOCAL_KEY.replace('<arch>', arch)}: "
            f"/path/to/{r.filename}`.")


def cached_name(arch: str) -> str:
    """File name in the downloads folder: the arch keeps a generic release name (10000_E.pth) unambiguous."""
    return f"{arch}-{release(arch).filename}"


def _fetch(url: str, log: Callable[[str], None]) -> Callable[[Path], None]:
    def fetch(part: Path) -> None:
        http_download(url, part, log=log)
        with open(part, "rb") as f:
            head = f.read(len(LFS_POINTER))
        if head == LFS_POINTER:  # a Git LFS pointer is text, not the weights: never record it
            part.unlink()
            raise DownloadError(f"{url} is a Git LFS pointer, not the checkpoint; the file was deleted")
    return fetch


def fetch_release(r: Release, filename: str, downloads_dir: str | Path, manual_text: str, base_url: str | None = None,
                  fetch: Callable[[Path], None] | None = None, where: str | None = None,
                  log: Callable[[str], None] = print) -> tuple[Path, str]:
    """``<downloads_dir>/originals/<filename>`` (a released file ``r``) and its sha256, downloaded if needed.

    ``base_url`` replaces ``https://raw.githubusercontent.com/<repo>/<branch>`` (a mirror with the
    repository's layout, or a test server); ``fetch`` (writes the ``.part`` file) replaces the HTTP download,
    and ``where`` then names where it downloads from in messages.
    """
    url = where or (f"{base_url.rstrip('/')}/{r.path}" if base_url else r.url)
    try:
        return download_recorded(Path(downloads_dir) / SUBDIR, filename, url, fetch or _fetch(url, log),
                                 manual_text, log=log)
    except WeightsError as error:
        raise OriginalsError(str(error)) from error


def fetch_original(arch: str, downloads_dir: str | Path, base_url: str | None = None,
                   log: Callable[[str], None] = print) -> Path:
    """Path of ``arch``'s released checkpoint in ``<downloads_dir>/originals/``, downloaded if needed
    (``base_url``: see :func:`fetch_release`)."""
    return fetch_release(release(arch), cached_name(arch), downloads_dir, manual(arch), base_url, log=log)[0]
