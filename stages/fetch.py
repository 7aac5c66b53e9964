"""fetch@<dataset>: data/raw/<dataset>/ in the official layout, from the source in params `data.source`.

python -m stages.fetch --dataset msrs --out data/raw/msrs [--downloads data/work/downloads] [--base-url URL]

synthetic: procedural generator (sizes from `<profile>.synthetic.<dataset>`); official: published archives
(cached and resumed in --downloads, verified, then extracted); local: `data.local.<dataset>` validated and linked.
--base-url (or SSVIF_DOWNLOAD_BASE) fetches every archive from <URL>/<file name> instead (a mirror).
"""
from __future__ import annotations

import click

from pipeline import layout
from pipeline.data.registry import DATASETS

PARAMS = ["profile", "seed", "data.source", "data.local.{dataset}", "data.allow_unofficial_mirror",
          "{profile}.synthetic.{dataset}", "{profile}.threads"]


@click.command()
@click.option("--dataset", required=True, type=click.Choice(list(DATASETS)))
@click.option("--out", required=True, type=click.Path(), help="data/raw/<dataset>")
@click.option("--conditions", "conditions_out", required=True, type=click.Path(dir_okay=False),
              help="data/conditions/<dataset>.json: day/night/fog of every stem, where known")
@click.option("--downloads", default=layout.DOWNLOADS, show_default=True, type=click.Path(),
              help="cache of downloaded archives (not a DVC output: partial downloads resume)")
@click.option("--base-url", envvar="SSVIF_DOWNLOAD_BASE", default=None, help="mirror serving <URL>/<archive name>")
def main(dataset: str, out: str, conditions_out: str, downloads: str, base_url: str | None) -> None:
    from pipeline.params import get, load_params, profile_section

    from pipeline.runtime import pin_threads

    params = load_params()
    pin_threads(params)
    from pipeline.atomic import atomic_write_json
    from pipeline.data.conditions import conditions_document, conditions_from_names
    from pipeline.data.dataset_sources import fetch_official, fetch_synthetic, link_local
    from pipeline.data.download import DownloadError
    from pipeline.data.extract import UnsafeArchiveError
    from pipeline.data.manifest import ManifestError
    from pipeline.data.registry import get_dataset
    from pipeline.data.validate import DatasetError, list_stems

    spec = get_dataset(dataset)
    source = get(params, "data.source")
    try:
        if source == "synthetic":
            summary, conditions = fetch_synthetic(spec, out, int(params["seed"]),
                                                  profile_section(params, f"synthetic.{dataset}"))
        else:
            if source == "official":
                summary = fetch_official(spec, out, downloads, base_url=base_url,
                                         allow_unofficial=bool(get(params, "data.allow_unofficial_mirror")))
            else:
                summary = link_local(spec, get(params, f"data.local.{dataset}"), out)
            conditions = conditions_from_names(dataset, [s for g in list_stems(spec, out).values() for s in g])
    except (DownloadError, DatasetError, ManifestError, UnsafeArchiveError) as error:
        raise click.ClickException(f"fetch {dataset} ({source}) failed: {error}") from error
    document = conditions_document(dataset, source, conditions)
    atomic_write_json(conditions_out, document)
    click.echo(f"fetch {dataset} ({source}): {summary}; conditions {document['counts']}")


if __name__ == "__main__":
    main()
