"""`ssvif fuse`: fuse your own infrared/visible pairs with a trained model.pt.

    ssvif fuse --checkpoint data/runs/<run>/model.pt --ir DIR --vis DIR --out DIR

Pairs are matched by file stem (`ir/0001.png` with `vis/0001.jpg`); every output is an
8-bit RGB PNG `<stem>.png` (single-channel models take the colour of the visible image).
"""
from __future__ import annotations

from pathlib import Path

import click

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def match_pairs(ir_dir: Path, vis_dir: Path) -> list[tuple[str, Path, Path]]:
    """(stem, ir, vis) for every stem in both folders; unpaired or duplicate stems are an error."""

    def index(folder: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if path.stem in found:
                raise click.UsageError(f"{folder}: two images share the stem {path.stem!r} ({found[path.stem].name}, {path.name})")
            found[path.stem] = path
        return found

    ir, vis = index(ir_dir), index(vis_dir)
    if not ir:
        raise click.UsageError(f"{ir_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    only_ir, only_vis = sorted(set(ir) - set(vis)), sorted(set(vis) - set(ir))
    if only_ir or only_vis:
        raise click.UsageError(
            f"unpaired images: infrared only {only_ir[:5]}{'...' if len(only_ir) > 5 else ''}, "
            f"visible only {only_vis[:5]}{'...' if len(only_vis) > 5 else ''}; pairs are matched by file stem"
        )
    return [(stem, ir[stem], vis[stem]) for stem in sorted(ir)]


@click.command()
@click.option("--checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="model.pt written by `python -m stages.train`")
@click.option("--ir", "ir_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--vis", "vis_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--device", default=None, help="cuda, cpu, ... (default: cuda when available)")
def fuse(checkpoint: Path, ir_dir: Path, vis_dir: Path, out: Path, device: str | None) -> None:
    """Fuse the infrared/visible pairs of two folders with a trained checkpoint."""
    from pipeline.atomic import atomic_dir
    from pipeline.fuse.images import fuse_pairs
    from pipeline.models.model_file import load_fusion_checkpoint

    pairs = match_pairs(ir_dir, vis_dir)
    try:
        model, channels = load_fusion_checkpoint(checkpoint, device)
    except (ValueError, KeyError) as err:
        raise click.UsageError(f"{checkpoint}: {err}") from err
    with atomic_dir(out) as tmp:
        try:
            count = fuse_pairs(model, channels, pairs, tmp, log=lambda line: click.echo(line, err=True))
        except ValueError as err:
            raise click.ClickException(str(err)) from err
    click.echo(f"fused {count} pairs into {out}")
