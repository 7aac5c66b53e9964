"""Safe archive extraction: no absolute paths, no `..`, no links that leave the target."""
from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the extraction folder."""


def _check_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (path.parts and ":" in path.parts[0]) \
            or ".." in path.parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} would be written outside the target folder "
                                 "(absolute path or '..'); the archive is rejected, nothing was extracted.")
    return path


def _check_link(archive: Path, name: str, link: str) -> None:
    target = PurePosixPath(link)
    resolved = (PurePosixPath(name).parent / target).parts
    depth = 0
    for part in resolved:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            break
    if target.is_absolute() or depth < 0:
        raise UnsafeArchiveError(f"{archive}: link {name!r} -> {link!r} leaves the target folder; rejected.")


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> list[str]:
    """Extract a zip or tar archive into ``target`` after checking every member; returns member names.

    All members are checked before anything is written, so a rejected archive leaves ``target`` empty.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            for info in infos:
                _check_name(archive, info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    _check_link(archive, info.filename, z.read(info).decode("utf-8", "replace"))
            z.extractall(target)
            return [i.filename for i in infos]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            for m in members:
                _check_name(archive, m.name)
                if m.issym():
                    _check_link(archive, m.name, m.linkname)
                elif m.islnk():
                    _check_name(archive, m.linkname)
                elif not (m.isfile() or m.isdir()):
                    raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a device or fifo; rejected.")
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12: the library's own guard as well
                t.extractall(target, members=members, filter="data")
            else:
                t.extractall(target, members=members)
            return [m.name for m in members]
    raise UnsafeArchiveError(f"{archive} is neither a zip nor a tar archive (corrupt download?); delete it "
                             "and re-run.")


def find_content(root: Path, marker: tuple[str, ...]) -> Path:
    """The shallowest directory under ``root`` holding every folder in ``marker`` (breadth first)."""
    level = [root]
    while level:
        for folder in sorted(level):
            if all((folder / m).is_dir() for m in marker):
                return folder
        level = [c for folder in sorted(level) for c in sorted(folder.iterdir()) if c.is_dir() and not c.is_symlink()]
    raise FileNotFoundError(f"no folder holding {', '.join(marker)} in the extracted archive {root}")


def place(content: Path, destination: Path) -> None:
    """Move an extracted folder to its place in the dataset root (merging into an existing folder)."""
    if not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(content, destination)
        return
    for child in sorted(content.iterdir()):
        if (destination / child.name).exists():
            raise FileExistsError(f"{destination / child.name} comes from two archives")
        shutil.move(str(child), destination / child.name)
