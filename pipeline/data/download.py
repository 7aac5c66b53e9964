"""Resumable, checksum-verified downloads into a cache folder.

A transfer writes ``<name>.part`` (resumed with an HTTP Range request after an interruption)
and is renamed to ``<name>`` only after its checksum matches, so a file with the final name
is always complete. A mismatching file is deleted. Google Drive files go through gdown.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from pipeline.data.registry import Archive

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed; the message says what to do instead."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its published checksum (the file was deleted)."""


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def expected_digest(archive: Archive) -> tuple[str, str] | None:
    """(algorithm, hex digest) published for an archive, sha256 preferred; None when there is none."""
    if archive.sha256:
        return "sha256", archive.sha256.lower()
    if archive.md5:
        return "md5", archive.md5.lower()
    return None


def verify(path: Path, archive: Archive) -> None:
    """Raise ChecksumError (and delete ``path``) when it does not match the published checksum."""
    expected = expected_digest(archive)
    if expected is None:
        return
    actual = file_digest(path, expected[0])
    if actual != expected[1]:
        path.unlink(missing_ok=True)
        raise ChecksumError(f"{archive.filename}: {expected[0]} {actual} differs from the published "
                            f"{expected[1]}; the file was deleted. Re-run to download it again; if it keeps "
                            "failing, the source changed: download it by hand and compare.")


def http_download(url: str, part: Path, timeout: float = 30.0, retries: int = 3,
                  log: Callable[[str], None] = print) -> None:
    """Download ``url`` into ``part``, resuming from its current size with HTTP Range."""
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                resumed = have > 0 and response.status == 206
                if have and not resumed:
                    log(f"{url}: the server ignored the resume request; starting over")
                length = response.headers.get("Content-Length")
                expected = int(length) if length is not None else None
                received = 0
                with open(part, "ab" if resumed else "wb") as f:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        f.write(block)
                        received += len(block)
                if expected is not None and received < expected:
                    raise http.client.IncompleteRead(b"", expected - received)
            return
        except urllib.error.HTTPError as error:
            if error.code == 416 and have:  # range beyond the end: the part file is already complete
                return
            last = error
            if 400 <= error.code < 500:
                break
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, OSError) as error:
            last = error
        log(f"{url}: attempt {attempt}/{retries} interrupted ({last}); {part.stat().st_size if part.exists() else 0} "
            "bytes kept for resuming")
    kept = f" (the partial file {part} is kept and resumed)" if part.exists() else ""
    raise DownloadError(f"cannot download {url}: {last}. Check the network connection and re-run{kept}.")


def gdrive_download(file_id: str, part: Path, log: Callable[[str], None] = print) -> None:
    """Download a Google Drive file with gdown (handles the confirmation page; resumes ``part``)."""
    import gdown

    try:
        result = gdown.download(id=file_id, output=str(part), quiet=False, resume=True)
    except Exception as error:  # gdown raises several types, quota errors included
        raise DownloadError(f"Google Drive download of id {file_id} failed: {error}") from error
    if result is None:
        raise DownloadError(f"Google Drive download of id {file_id} failed (quota exceeded, 'too many users', "
                            "or no network)")


def fetch_archive(archive: Archive, downloads: str | os.PathLike, base_url: str | None = None,
                  manual: str = "", log: Callable[[str], None] = print) -> Path:
    """Path of the verified archive in ``downloads``, downloading it if needed.

    ``base_url`` replaces the archive's source: the file is fetched from ``<base_url>/<filename>``
    (a mirror, or a local test server). A file already in ``downloads`` under its final name
    (for example placed there by hand) is verified and reused.
    """
    downloads = Path(downloads)
    downloads.mkdir(parents=True, exist_ok=True)
    final = downloads / archive.filename
    if final.exists():
        try:
            verify(final, archive)
            return final
        except ChecksumError as error:  # a corrupt cached or hand-placed file: fetch it again
            log(str(error))
    part = downloads / f"{archive.filename}.part"
    if archive.note:
        log(f"NOTE {archive.filename}: {archive.note}")
    try:
        if base_url:
            http_download(f"{base_url.rstrip('/')}/{archive.filename}", part, log=log)
        elif archive.gdrive_id:
            gdrive_download(archive.gdrive_id, part, log=log)
        elif archive.url:
            http_download(archive.url, part, log=log)
        else:
            raise DownloadError(f"{archive.filename} has no scriptable source")
    except DownloadError as error:
        raise DownloadError(f"{error}\nManual alternative: {manual}\nOr put the file at {final} and re-run "
                            "(it is verified).") from error
    if not part.exists():
        raise DownloadError(f"{archive.filename}: the download produced no file. {manual}")
    verify(part, archive)
    os.replace(part, final)
    return final
