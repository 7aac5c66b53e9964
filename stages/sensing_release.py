"""sensing@released: EMMA's released pseudo-sensing networks A_i, A_v, for every dataset's original EMMA runs.

    python -m stages.sensing_release --out data/sensing/released [--downloads data/work/downloads]

`<profile>.sensing.source` says where they come from: official (Ai.pth, Av.pth downloaded from EMMA's
repository, their sha256 recorded at the first download and checked afterwards) or local (your copies,
`<profile>.sensing.local.ai` and `.av`). Either way the state dicts are checked against UNet5 at the
released widths and written, with sensing.json, as the folder `stages.train --sensing` reads. Nothing
is trained: with synthetic or retrain the sensing@<dataset> stages (stages.sensing) train instead.
"""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import layout

# Not the training settings: changing epochs or widths leaves the released pair as it is.
PARAMS: list[str] = ["profile", "{profile}.sensing.source", "{profile}.sensing.variant", "{profile}.sensing.local"]


@click.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="data/sensing/released")
@click.option("--downloads", type=click.Path(path_type=Path), default=Path(layout.DOWNLOADS), show_default=True)
@click.option("--base-url", envvar="SSVIF_ORIGINALS_BASE", default=None,
              help="a mirror with the repositories' layout (tests: a local server)")
@click.option("--drive-folder", envvar="SSVIF_EMMA_SENSING_DRIVE", default=None,
              help="a Google Drive folder (URL or id) holding Ai.pth and Av.pth, instead of EMMA's repository")
def main(out: Path, downloads: Path, base_url: str | None, drive_folder: str | None) -> None:
    from pipeline.atomic import atomic_dir
    from pipeline.data.download import file_digest
    from pipeline.originals import sensing as sn
    from pipeline.originals import sensing_release as sr
    from pipeline.params import ParamsError, get, load_params, profile_section

    params = load_params()
    try:
        source = sn.sensing_source(profile_section(params, "sensing"))
    except ValueError as error:
        raise ParamsError(str(error)) from error
    if source == "official":
        from pipeline.originals.official import OriginalsError

        try:  # a network error stops here with the manual alternative (source: local)
            fetched = sr.fetch_released(downloads, base_url=base_url, drive_folder=drive_folder, log=click.echo)
        except OriginalsError as error:
            raise click.ClickException(str(error)) from error
        files = {net: path for net, (path, _) in fetched.items()}
        where = drive_folder if drive_folder and not base_url else None  # a mirror stands in for the release
        release = {net: {"url": where or sr.RELEASES[net].url, "sha256": digest} for net, (_, digest) in fetched.items()}
    elif source == "local":
        files, release = {}, {}
        for net, r in sr.RELEASES.items():
            key = f"{params['profile']}.sensing.local.{net}"
            files[net] = Path(str(get(params, key) or ""))
            if not files[net].is_file():
                raise ParamsError(f"params.yaml: {key}={str(files[net])!r} is not a file: give the path of your copy of "
                                  f"{r.filename} ({r.url}).")
            release[net] = {"file": files[net].name, "sha256": file_digest(files[net])}
    else:
        raise ParamsError(f"params.yaml: {params['profile']}.sensing.source={source!r} trains A_i, A_v per dataset "
                          "(stages.sensing); sensing@released runs only with official or local "
                          "(run `python -m stages.dag`).")
    with atomic_dir(out) as tmp:
        try:
            sr.write_released(tmp, files, {"source": source, "release": release})
        except sr.SensingReleaseError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"sensing@released: {source} Ai.pth, Av.pth -> {out}")


if __name__ == "__main__":
    main()
