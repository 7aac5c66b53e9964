"""The `ssvif` command: the project's parts for direct use.

    ssvif metrics --ir DIR --vis DIR --fused DIR [--out FILE]   score any method's images
    ssvif fuse --checkpoint CKPT --ir DIR --vis DIR --out DIR   fuse your own pairs
    ssvif convert-segmif CHECKPOINT --out DIR                   SegMiF's segmentation weights -> SegFormer folder
    ssvif convert-original ARCH CHECKPOINT --out FILE           an author-released fusion checkpoint -> model file for fuse

Subcommands live beside the code they drive and are imported only when called,
so `ssvif --help` stays fast.
"""
from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command
_COMMANDS = {
    "metrics": "pipeline.metrics.command:metrics",
    "fuse": "pipeline.fuse.command:fuse",
    "convert-segmif": "pipeline.downstream.segmif_command:convert_segmif",
    "convert-original": "pipeline.originals.command:convert_original",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, name):
        if name not in _COMMANDS:
            return None
        module, attr = _COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="ssvif-repro")
def main() -> None:
    """SSVIF reproducibility pipeline: metrics and fusion for visible-infrared images."""


if __name__ == "__main__":
    main()
