"""sha256 manifests of extracted datasets: written on the first download, verified afterwards."""
from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.atomic import atomic_write_json
from pipeline.data.download import file_digest


class ManifestError(ValueError):
    """Extracted files differ from the manifest of the first download."""


def build_manifest(root: str | os.PathLike) -> dict[str, str]:
    """{relative posix path: sha256} of every file under ``root`` (links followed)."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): file_digest(p)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def check_manifest(manifest: dict[str, str], path: str | os.PathLike) -> None:
    """Compare with the manifest stored at ``path``; store it there when there is none yet."""
    path = Path(path)
    if not path.exists():
        atomic_write_json(path, manifest)
        return
    stored = json.loads(path.read_text())
    missing = sorted(set(stored) - set(manifest))
    extra = sorted(set(manifest) - set(stored))
    changed = sorted(k for k in set(stored) & set(manifest) if stored[k] != manifest[k])
    if missing or extra or changed:
        parts = [f"{label}: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}"
                 for label, names in (("missing", missing), ("unexpected", extra), ("changed", changed)) if names]
        raise ManifestError(f"extracted files differ from the manifest {path} of the first download ("
                            + "; ".join(parts) + "). If the source really changed, delete the manifest and the "
                            "cached archive and re-run; otherwise the archive is corrupt: delete it and re-run.")
