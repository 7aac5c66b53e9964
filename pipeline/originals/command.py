"""`ssvif convert-original`: an author-released checkpoint -> a model file for `ssvif fuse`."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline.originals.sources import RELEASES, describe

_WHERE = "\n".join(f"  {arch}: {describe(arch)}" for arch in RELEASES)


@click.command(name="convert-original", help=f"""Convert ARCH's released CHECKPOINT to the project's
model file (name, channels 1, widths, state_dict), which `ssvif fuse --checkpoint` reads.

\b
The official files:
{_WHERE}

Every missing, unexpected or wrongly shaped key is named; nothing is written then.""")
@click.argument("arch", type=click.Choice(sorted(RELEASES)))
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="model file to write (e.g. swinfusion-original.pt)")
def convert_original(arch: str, checkpoint: Path, out: Path) -> None:
    from pipeline.originals.convert import ConversionError, write_model_file

    try:
        path = write_model_file(arch, checkpoint, out)
    except ConversionError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {path} ({arch}, 1 channel): ssvif fuse --checkpoint {path} --ir DIR --vis DIR --out DIR")
