"""`ssvif metrics`: score any method's fused images against their infrared/visible sources.

    ssvif metrics --ir DIR --vis DIR --fused DIR [--out FILE.json] [--per-image FILE.csv] [--workers N]

Files pair by stem (PNG, JPEG, BMP, TIFF). Without --out the mean JSON goes to stdout;
with --out the per-image CSV defaults to FILE with the suffix .csv.
"""
from __future__ import annotations

from pathlib import Path

import click


def _by_stem(directory: Path) -> dict[str, Path]:
    from pipeline.metrics.protocol import IMAGE_SUFFIXES

    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            if path.stem in found:
                raise click.UsageError(f"{directory}: two images share the stem {path.stem!r} "
                                       f"({found[path.stem].name}, {path.name}); keep one.")
            found[path.stem] = path
    if not found:
        raise click.UsageError(f"{directory}: no images ({', '.join(IMAGE_SUFFIXES)}).")
    return found


def pair_directories(ir_dir: Path, vis_dir: Path, fused_dir: Path) -> list:
    """Triples for the stems present in all three folders; any unpaired file is an error."""
    from pipeline.metrics.scoring import Triple

    ir, vis, fused = _by_stem(ir_dir), _by_stem(vis_dir), _by_stem(fused_dir)
    stems = set(ir) | set(vis) | set(fused)
    problems = []
    for name, found in (("--ir", ir), ("--vis", vis), ("--fused", fused)):
        missing = sorted(stems - set(found))
        if missing:
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            problems.append(f"{name} has no image for {missing[:10]}{more}")
    if problems:
        raise click.UsageError("unpaired files: " + "; ".join(problems) + ". Every stem needs ir, vis and fused.")
    return [Triple(s, fused[s], ir[s], vis[s]) for s in sorted(stems)]


@click.command("metrics")
@click.option("--ir", "ir_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--vis", "vis_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--fused", "fused_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="mean JSON (default: stdout)")
@click.option("--per-image", type=click.Path(dir_okay=False, path_type=Path), help="per-image CSV (default: --out with .csv)")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="images scored at once  [default: the CPU cores available]")
def metrics(ir_dir: Path, vis_dir: Path, fused_dir: Path, out: Path | None, per_image: Path | None,
            workers: int | None) -> None:
    """Score fused images: EN, MI, VIF, Qabf, SSIM, MSS, dE (docs/metrics.md protocol)."""
    from pipeline.atomic import atomic_write_json, atomic_write_text, dumps_json
    from pipeline.metrics.protocol import ImageError
    from pipeline.cpus import available_cpus
    from pipeline.metrics.scoring import rows_to_csv, score_triples, summarise

    triples = pair_directories(ir_dir, vis_dir, fused_dir)
    jpeg = [t.fused.name for t in triples if t.fused.suffix.lower() in (".jpg", ".jpeg")]
    if jpeg:
        click.echo(f"warning: {len(jpeg)} fused image(s) are JPEG (e.g. {jpeg[0]}): lossy re-saving "
                   "shifts every metric; save fused outputs as PNG.", err=True)
    try:
        rows = score_triples(triples, workers=workers or available_cpus())
    except (ImageError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    summary = summarise(rows)
    if per_image is None and out is not None:
        per_image = out.with_suffix(".csv")
    if per_image is not None:
        atomic_write_text(per_image, rows_to_csv(rows))
    if out is not None:
        atomic_write_json(out, summary)
    else:
        click.echo(dumps_json(summary), nl=False)
