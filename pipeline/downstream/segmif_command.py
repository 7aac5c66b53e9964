"""`ssvif convert-segmif`: SegMiF's released segmentation checkpoint -> a transformers SegFormer folder.

    ssvif convert-segmif segmif.pth --out data/init/segmif-b3 [--num-classes 15]
                         [--num-heads 1,2,5,8] [--sr-ratios 8,4,2,1]

The folder is what `<profile>.segment.init_checkpoint` in params.yaml accepts.
"""
from __future__ import annotations

from pathlib import Path

import click


def _ints(ctx, param, value: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give four comma-separated integers, e.g. 1,2,5,8") from None
    if len(numbers) != 4:
        raise click.BadParameter(f"{value!r}: MiT has 4 stages, give 4 comma-separated integers")
    return numbers


@click.command("convert-segmif")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder to write (replaced atomically when it exists)")
@click.option("--num-heads", default="1,2,5,8", show_default=True, callback=_ints,
              help="attention heads per stage (not stored in a checkpoint; MiT-B3's by default)")
@click.option("--sr-ratios", default="8,4,2,1", show_default=True, callback=_ints,
              help="sequence-reduction ratios per stage (checked against the checkpoint's attn.sr kernels)")
@click.option("--num-classes", type=click.IntRange(min=1), default=None,
              help="re-initialise the classifier for this many classes (default: keep the checkpoint's)")
def convert_segmif(checkpoint: Path, out: Path, num_heads, sr_ratios, num_classes: int | None) -> None:
    """Convert a SegMiF/WeTr checkpoint (CHECKPOINT) into a SegFormer save_pretrained folder."""
    from pipeline.downstream.segmif_convert import ConversionError, convert_segmif_checkpoint

    try:
        record = convert_segmif_checkpoint(checkpoint, out, num_heads, sr_ratios, num_classes)
    except ConversionError as err:
        raise click.ClickException(
            f"{checkpoint}: {err}. Is it a SegMiF/WeTr segmentation checkpoint (encoder.*, decoder.*)? "
            f"Check --num-heads/--sr-ratios against the model it was trained as.") from err
    except OSError as err:
        raise click.ClickException(f"{checkpoint}: converted, but {out} cannot be written ({err}); "
                                   f"choose another --out") from err
    report, config = record["report"], record["config"]
    if not report["weights_only_load"]:
        click.echo("warning: the file needed full unpickling (torch.load weights_only=False)", err=True)
    for key in report["dropped"]:
        click.echo(f"dropped WeTr's unused {key}")
    for key in report["filled"]:
        click.echo(f"filled absent {key} with 0")
    if report["classifier_reinitialised"]:
        change = report["classifier_reinitialised"]
        click.echo(f"re-initialised the classifier: {change['from']} -> {change['to']} classes ({change['init']}, "
                   f"seed {change['seed']})")
    click.echo(f"converted {report['tensors']} tensors: hidden sizes {config['hidden_sizes']}, "
               f"depths {config['depths']}, heads {config['num_attention_heads']}, "
               f"decoder {config['decoder_hidden_size']}, {config['num_labels']} classes")
    if report["non_default_settings"]:
        click.echo(f"warning: {', '.join(report['non_default_settings'])} differ from what the segment stage builds "
                   f"(pipeline.downstream.fused_segmenter.segformer_config); load the folder with from_pretrained", err=True)
    click.echo(f"wrote {out} (config.json, model.safetensors, conversion.json)")
