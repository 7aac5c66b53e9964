"""original@<model>: the authors' released fusion model behind the Original rows, as a project model file.

    python -m stages.original --model swinfusion --out data/originals/swinfusion [--downloads data/work/downloads]

`<profile>.originals.source` says where it comes from: official (downloaded from the authors'
repository, its sha256 recorded at the first download and checked afterwards) or local (your copy,
`<profile>.originals.local.<model>`). Either way the checkpoint is converted to the project's model
(pipeline/originals/convert.py) and written with its provenance; the Original rows then fuse with it
on every dataset, as the paper does (no training). With `synthetic` or `retrain` this stage is not
in the DAG: the original-<model>-<dataset> runs train instead.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline import layout

PARAMS: list[str] = ["profile", "{profile}.originals"]
MODEL_FILE = layout.RUN_MODEL  # the same file name as a trained run's model: fuse@ reads either


@click.command()
@click.option("--model", "arch", required=True, help="swinfusion | seafusion | emma")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="data/originals/<model>")
@click.option("--downloads", type=click.Path(path_type=Path), default=Path(layout.DOWNLOADS), show_default=True)
@click.option("--base-url", envvar="SSVIF_ORIGINALS_BASE", default=None,
              help="a mirror with the repositories' layout (tests: a local server)")
def main(arch: str, out: Path, downloads: Path, base_url: str | None) -> None:
    from pipeline.atomic import atomic_dir
    from pipeline.originals.convert import ConversionError, write_model_file
    from pipeline.originals.official import fetch_original, release, validate_source
    from pipeline.params import ParamsError, get, load_params, profile_section

    params = load_params()
    cfg = profile_section(params, "originals")
    source = validate_source(cfg.get("source"))
    if source == "official":
        checkpoint = fetch_original(arch, downloads, base_url=base_url, log=click.echo)
    elif source == "local":
        key = f"{params['profile']}.originals.local.{arch}"
        checkpoint = Path(str(get(params, key) or ""))
        if not checkpoint.is_file():
            raise ParamsError(f"params.yaml: {key}={str(checkpoint)!r} is not a file: give the path of your copy of "
                              f"{release(arch).filename} ({release(arch).url}).")
    else:
        raise ParamsError(f"params.yaml: {params['profile']}.originals.source={source!r} trains the originals; "
                          "original@<model> runs only with official or local (run `python -m stages.dag`).")
    with atomic_dir(out) as tmp:
        try:
            write_model_file(arch, checkpoint, tmp / MODEL_FILE)
        except ConversionError as err:
            raise click.ClickException(str(err)) from err
        provenance = {"model": arch, "source": source, "checkpoint": checkpoint.name, "url": release(arch).url}
        (tmp / "provenance.json").write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n")
    click.echo(f"original@{arch}: {source} checkpoint converted -> {out / MODEL_FILE}")


if __name__ == "__main__":
    main()
