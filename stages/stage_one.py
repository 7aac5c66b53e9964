"""stage_one@<unit>: the shared stage I of a group of runs -> data/stage_one/<unit>/stage_one.pt.

python -m stages.stage_one --unit UNIT --raw data/raw/<ds> --split data/splits/<ds>.json
    --out data/stage_one/UNIT [--work data/work/stage_one]

UNIT is the name pipeline.train.stage_one gives its member runs (`<model>-<dataset>-<channels>ch-l<lambda_color>`,
`-s<seed>` for a further training seed). Its settings come from its representative member: the first member
run in params.yaml `runs` order. It reads only what stage I reads (never n_classes or weighting), trains the
fusion model alone until a two-stage run would switch to stage II (or `epochs`), and writes the state each member
continues from (`stages.train --stage-one`). Resumes from data/work/stage_one/<unit>-<digest>/last.pt.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click

from pipeline import layout


def params_for(rep_name: str, rep_run: dict) -> list[str]:
    """The params keys of the unit whose representative is run `rep_name` (cheap: the DAG generator calls it)."""
    from pipeline.train.stage_one import KEY_FIELDS, TRAIN_FIELDS

    plain = ["profile", "seed", *[f"runs.{rep_name}.{f}" for f in KEY_FIELDS], "loss", "ssvif_lr"]
    scoped = [f"{{profile}}.train.{f}" for f in TRAIN_FIELDS]
    return plain + scoped + [f"{{profile}}.models.{rep_run['model']}", "{profile}.lr_scale", "{profile}.lr_max",
                             "{profile}.lr_schedule", "{profile}.threads", "{profile}.gpus"]


def representative(params: dict, unit: str) -> tuple[str, int | None]:
    """(the unit's representative run, its seed or None for the first): the first member in `runs` order."""
    from pipeline.seeds import split_seeded
    from pipeline.train.stage_one import units

    base, seed = split_seeded(unit, params["seed"])
    reps = units(params["runs"])
    if base not in reps:
        raise click.ClickException(f"--unit {unit}: no run of params.yaml `runs` trains this stage I (units: "
                                   f"{', '.join(reps) or 'none'}); after editing runs, run `python -m stages.dag`")
    return reps[base], None if base == unit else seed


@click.command()
@click.option("--unit", required=True, help="a stage-I unit (pipeline.train.stage_one.unit_name), `-s<seed>` seeded")
@click.option("--raw", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--split", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--work", type=click.Path(path_type=Path), default=Path(layout.work_dir("stage_one")), show_default=True)
def main(unit: str, raw: Path, split: Path, out: Path, work: Path) -> None:
    from pipeline.params import load_params
    from pipeline.runtime import pin_threads, processes

    params = load_params()
    threads = pin_threads(params)
    ddp = processes(params, "stages.stage_one")  # gpus > 1: this command again as that many torchrun processes
    from pipeline import distributed as dist
    from pipeline.atomic import atomic_dir
    from pipeline.data.registry import get_dataset
    from pipeline.train.checkpoint import save_stage_one_state
    from pipeline.train.determinism import deterministic_kernels
    from pipeline.train.run import train_stage_one
    from pipeline.train.stage_one import record
    from stages.train import process_keys, settings, split_doc_of

    rep, seed = representative(params, unit)
    s = settings(params, rep, seed)
    split_doc = split_doc_of(split, s)
    rec = record(s, split_doc, **process_keys(ddp, threads))
    deterministic_kernels()
    work_dir = work / f"{unit}-{hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:12]}"
    if dist.is_writer():
        click.echo(f"stage_one {unit}: {s.run['model']} on {s.run['dataset']} (settings of run {rep}); "
                   f"work dir {work_dir}", err=True)
    state = train_stage_one(s, get_dataset(s.run["dataset"]), raw, split_doc, work_dir,
                            device=dist.device_for(ddp) if ddp.distributed else None,
                            log=lambda line: click.echo(f"[stage_one {unit}] {line}", err=True))
    if dist.is_writer():  # rank 0 writes the unit
        with atomic_dir(out) as tmp:
            save_stage_one_state(tmp / layout.STAGE_ONE_STATE, rec, state)


if __name__ == "__main__":
    main()
