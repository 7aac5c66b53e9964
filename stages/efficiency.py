"""Table IV: parameters, MACs and peak inference memory of the fusion models at 256x256.

    python -m stages.efficiency --out reports/metrics/efficiency.json

Reads the PAPER widths whatever the profile (Table IV is about the paper's models). Original
frameworks take 1-channel input, SSVIF 3 channels. No timings: same params, same bytes.
Memory: ``mem_MB`` is the device-independent live-tensor tracker; on a CUDA device
``cuda_mem_MB`` is the CUDA allocator's peak beside it (the paper's "Mem (MB)" is most likely
that: a GPU measurement), "n/a" on CPU.
"""
from __future__ import annotations

import click

PARAMS: list[str] = ["paper.models"]
SIZE = 256  # Table IV input size


@click.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="JSON output (Table IV).")
def main(out: str) -> None:
    import torch

    from pipeline.atomic import atomic_write_json
    from pipeline.models.complexity import CUDA_MEMORY_MEASURE, MEMORY_MEASURE, efficiency_table
    from pipeline.params import get, load_params

    params = load_params()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    table = efficiency_table(get(params, "paper.models"), SIZE, device)
    table.update(device=device, memory_measure=MEMORY_MEASURE, cuda_memory_measure=CUDA_MEMORY_MEASURE, size=SIZE,
                 macs_counter="torch.utils.flop_counter.FlopCounterMode (conv, linear, attention matmuls); MACs = FLOPs / 2")
    atomic_write_json(out, table)
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
