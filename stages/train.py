"""train@<run>: train one run of params `runs` -> data/runs/<run>/{model.pt, config.json} + history.csv.

python -m stages.train --run NAME --raw data/raw/<ds> --split data/splits/<ds>.json
    --out data/runs/NAME --history reports/runs/NAME/history.csv [--work data/work/train]
    [--sensing data/sensing/<ds> | data/sensing/released] [--stage-one data/stage_one/<unit>]

An original EMMA run with `<profile>.sensing.variant: learned` needs --sensing: the folder of
`stages.sensing` (A_i, A_v trained on its dataset, `<profile>.sensing.source` synthetic or retrain) or of
`stages.sensing_release` (EMMA's released pair, official or local), frozen in its loss; with `ideal` it
trains as before and ignores it.

A run with a shared stage I (pipeline.train.stage_one) continues from its unit's state (`stages.stage_one`)
with --stage-one: the bytes of training it alone, without repeating stage I; config.json then names the unit
(`stage_one_unit`). A file of another group is refused, naming the folder to pass.

Resumes from data/work/train/<run>-<config digest>/last.pt after an interruption. With params
`<profile>.gpus: N` > 1 the command starts itself again as N processes under torchrun: each takes
an equal share of every global batch, gradients are averaged over them (the one-process gradient of
that batch, up to float rounding) and rank 0 writes.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline import layout
from pipeline.originals.sources import SENSED

def params_for(run_name: str, run: dict) -> list[str]:
    """The params keys run `run_name` reads (cheap: the DAG generator calls it)."""
    model = f"{{profile}}.models.{run['model']}"
    if run["framework"] == "original":
        keys = ["profile", "seed", f"runs.{run_name}", "{profile}.original", "{profile}.original_schedule", model,
                "{profile}.lr_scale", "{profile}.lr_max", "{profile}.lr_schedule", "{profile}.threads",
                "{profile}.gpus"]
        return keys + (["{profile}.sensing"] if run["model"] == SENSED else [])
    keys = ["profile", "seed", f"runs.{run_name}", "loss", "weightings", "ssvif_lr", "{profile}.train",
            "{profile}.segformer", model, "{profile}.lr_scale", "{profile}.lr_max", "{profile}.lr_schedule",
            "{profile}.threads", "{profile}.gpus"]
    return keys + (["weighting"] if run.get("headline") else [])


def settings(params: dict, run_name: str, seed: int | None = None):
    """RunSettings of `run_name` from params (also used by tests and benchmarks); `seed` defaults to params `seed`."""
    from pipeline.train.run import RunSettings
    from pipeline.params import ParamsError, get, profile_section, run_weighting

    run = get(params, f"runs.{run_name}")
    seed = int(params["seed"] if seed is None else seed)
    common = dict(name=run_name, run=run, widths=profile_section(params, f"models.{run['model']}"), seed=seed,
                  lr_scale=_positive(params, f"{params['profile']}.lr_scale"),
                  lr_max=_cap(params, f"{params['profile']}.lr_max"),
                  lr_schedule=dict(params[params["profile"]].get("lr_schedule") or {}))
    if run["framework"] == "original":
        # only EMMA's framework has sensing networks; a params.yaml without the block keeps the ideal sensors
        sensing = params[params["profile"]].get("sensing", {}) if run["model"] == "emma" else {}
        schedule = params[params["profile"]].get("original_schedule", {})  # absent: off, as before the block
        return RunSettings(train=profile_section(params, "original"), sensing=dict(sensing), schedule=dict(schedule),
                           **common)
    train = profile_section(params, "train")
    if "lr" in train:  # the rule replaced it: a leftover (e.g. `-S quick.train.lr=...`) must not be ignored silently
        raise ParamsError(f"params.yaml: {params['profile']}.train.lr is not read: SSVIF trains at ssvif_lr x "
                          f"{params['profile']}.lr_scale, as every framework at its paper's rate; set those instead")
    return RunSettings(train=train, segformer=profile_section(params, "segformer"),
                       loss=get(params, "loss"), weightings=get(params, "weightings"),
                       weighting=run_weighting(params, run_name), ssvif_lr=_positive(params, "ssvif_lr"), **common)


def _cap(params: dict, key: str) -> float | None:
    """`<profile>.lr_max` as a positive number, or None (null: no cap); a missing or bad one names the key."""
    from pipeline.params import get

    return None if get(params, key) is None else _positive(params, key)


def _positive(params: dict, key: str) -> float:
    """A learning-rate param (`ssvif_lr`, `<profile>.lr_scale`) as a positive number; the error names the key."""
    from pipeline.params import ParamsError, get
    from pipeline.train.learning_rate import positive_number

    try:
        return positive_number(get(params, key), key)
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}") from error


def split_doc_of(split: Path, s) -> dict:
    """The split file of run `s`'s dataset (another dataset's is refused, naming the file to pass)."""
    doc = json.loads(split.read_text())
    if doc.get("dataset") != s.run["dataset"]:
        raise click.ClickException(
            f"{split} is the split of {doc.get('dataset')!r}, but params.yaml runs.{s.name}.dataset is "
            f"{s.run['dataset']!r}: pass --split {layout.split_file(s.run['dataset'])} (as dvc.yaml does)")
    return doc


def process_keys(ddp, threads: int) -> dict:
    """What the float sums depend on besides the settings: the process count (several processes) and the thread
    count; recorded in the outputs and part of the work dir's name, so nothing resumes across them."""
    return {**({"world_size": ddp.world_size} if ddp.distributed else {}), "threads": threads}


def _stage_one(s, run_name: str, folder: Path | None, split_doc: dict, keys: dict):
    """(settings naming the unit, its stage-I state or None): a member run given its unit's folder."""
    from dataclasses import replace

    from pipeline.train.checkpoint import load_stage_one_state
    from pipeline.train.stage_one import record, unit_name

    if folder is None:
        return s, None
    unit = unit_name(s.name, s.run, None if run_name == s.name else s.seed)  # `<run>-s<seed>`: its seed's unit
    if unit is None:
        raise click.ClickException(f"--stage-one: run {run_name} has no shared stage I (an original framework, or "
                                   "two_stage false with CSC): drop --stage-one")
    try:
        state = load_stage_one_state(folder / layout.STAGE_ONE_STATE, record(s, split_doc, **keys), "cpu")
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(f"--stage-one {folder}: run {run_name}: {error}; pass --stage-one "
                                   f"{layout.stage_one_dir(unit)} (as dvc.yaml does)") from error
    return replace(s, stage_one_unit=unit), state


def _sensing(s, sensing_dir: Path | None):
    """(settings, (A_i, A_v) or None): a learned-sensing EMMA run loads the folder and records its digests."""
    from dataclasses import replace

    if not s.learned_sensing:
        if sensing_dir is not None and not (s.framework == "original" and s.run["model"] == "emma"):
            raise click.ClickException(f"--sensing: run {s.name} is not an original EMMA run (nothing uses it)")
        return s, None
    if sensing_dir is None:
        raise click.ClickException(f"run {s.name}: sensing.variant is learned: pass --sensing "
                                   f"data/sensing/{s.run['dataset']} (stages.sensing) or data/sensing/released "
                                   "(stages.sensing_release), as dvc.yaml does")
    from pipeline.originals.sensing import file_digests, load_sensing, run_record

    try:
        a_i, a_v, info = load_sensing(sensing_dir)
        record = run_record(s.sensing, s.run["dataset"], info)
    except (FileNotFoundError, ValueError, TypeError) as error:
        raise click.ClickException(f"--sensing {sensing_dir}: run {s.name}: {error}") from error
    return replace(s, sensing={**record, "files": file_digests(sensing_dir)}), (a_i, a_v)


@click.command()
@click.option("--run", "run_name", required=True,
              help="a run name of params.yaml `runs`; `<run>-s<seed>` trains it with that seed (pipeline.seeds)")
@click.option("--raw", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--split", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--history", type=click.Path(path_type=Path), required=True)
@click.option("--work", type=click.Path(path_type=Path), default=Path(layout.work_dir("train")), show_default=True)
@click.option("--sensing", "sensing_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="EMMA's A_i, A_v (stages.sensing) for an original EMMA run with sensing.variant learned")
@click.option("--stage-one", "stage_one_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="the run's shared stage I (stages.stage_one) to continue from")
def main(run_name: str, raw: Path, split: Path, out: Path, history: Path, work: Path, sensing_dir: Path | None,
         stage_one_dir: Path | None) -> None:
    from pipeline.params import load_params
    from pipeline.runtime import pin_threads, processes

    params = load_params()
    threads = pin_threads(params)
    ddp = processes(params, "stages.train")  # gpus > 1: this command again as that many torchrun processes
    from pipeline import distributed as dist
    from pipeline.atomic import atomic_dir, atomic_torch_save, atomic_write_json, atomic_write_text
    from pipeline.data.registry import get_dataset
    from pipeline.train.history import history_csv
    from pipeline.train.determinism import deterministic_kernels
    from pipeline.train.run import train_run

    from pipeline.seeds import split_seeded

    s = settings(params, *split_seeded(run_name, params["seed"]))
    split_doc = split_doc_of(split, s)
    s, sensing = _sensing(s, sensing_dir)
    keys = process_keys(ddp, threads)
    s, stage_one = _stage_one(s, run_name, stage_one_dir, split_doc, keys)
    deterministic_kernels()
    resume_key = json.dumps(split_doc, sort_keys=True) + json.dumps(keys, sort_keys=True)
    work_dir = work / f"{run_name}-{s.digest(resume_key)}"
    if dist.is_writer():
        click.echo(f"train {run_name}: {s.framework} {s.run['model']} on {s.run['dataset']}; work dir {work_dir}", err=True)
    result = train_run(s, get_dataset(s.run["dataset"]), raw, split_doc, work_dir,
                       device=dist.device_for(ddp) if ddp.distributed else None,
                       log=lambda line: click.echo(f"[{run_name}] {line}", err=True), sensing=sensing,
                       stage_one=stage_one)
    if not dist.is_writer():  # rank 0 writes the run
        return
    with atomic_dir(out) as tmp:
        atomic_torch_save(tmp / layout.RUN_MODEL, result["checkpoint"])
        atomic_write_json(tmp / layout.RUN_CONFIG, {**result["config"], **keys})
    atomic_write_text(history, history_csv(result["history"]))


if __name__ == "__main__":
    main()
