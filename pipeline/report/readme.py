"""The generated reports/README.md: provenance, digests, scorecard and links.

No dates and no git commit hash: the committed README must be byte-reproducible
(a commit hash would always name the commit before the one holding the README).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.layout import CODE_GLOBS, PARAMS_FILE, code_files
from pipeline.report.seed_stats import scorecard_note


def code_digest(root: str | Path) -> str:
    """sha256 over the code (pipeline.layout.CODE_GLOBS), sorted by path: each path, NUL, bytes, NUL."""
    root = Path(root)
    h = hashlib.sha256()
    for path in code_files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _missing_rows(tables: list) -> list[str]:
    """The rows printing "not run", each with the params.yaml entry that would fill it (nothing if none)."""
    missing = [(t.spec.number, name, settings) for t in tables for name, settings in t.missing_rows()]
    if not missing:
        return []
    lines = ["", "### Rows not run", "",
             "No run in params.yaml has the settings these rows need, so their reproduced cells print "
             "\"not run\". Rows find their run by its settings, not its name: to fill one, add its entry "
             "to params.yaml (any unused run name), then run `python -m stages.dag` and `dvc repro`.", ""]
    for number, name, settings in missing:
        lines += [f"- Table {number}, row \"{name}\":", "", "  ```yaml"]
        lines += [f"  {line}" for line in settings.params_snippet().splitlines()]
        lines += ["  ```"]
    return lines


def _starting_points(starts: dict[str, dict | None]) -> list[str]:
    """One provenance line per downstream starting point (from the segment/detect JSONs' `init`)."""
    lines = []
    for name, init in starts.items():
        if init is None:
            lines.append(f"- {name}: not run")
        else:
            extra = "; ".join(f"{k} {init[k]}" for k in ("kind", "trained_on", "url", "sha256") if init.get(k))
            lines.append(f"- {name}: `{init.get('source')}`" + (f" ({extra})" if extra else ""))
    return lines


def m3fd_split_line(split: dict) -> str:
    """One provenance line: the M3FD split's method, sizes and test frames with a near-duplicate in train
    (the split file's `near_duplicates`, pipeline/data/grouped_split.py; a file without `method` is the
    random split of before the option)."""
    sizes = "/".join(str(len(split[p])) for p in ("train", "val", "test"))
    line = (f"- M3FD split: `{split.get('method', 'random')}` (seed {split['seed']}; train/val/test {sizes}; "
            "`m3fd_split.method` in params.yaml)")
    near = split.get("near_duplicates")
    if near:
        line += (f"; test images with a near-duplicate in train: {near['test_in_train']} of {len(split['test'])} "
                 f"(same sequence group as a train frame; {near['groups']} groups)")
    return line


def render_readme(*, profile: str, source: str, weighting: str, code_sha: str, params_sha: str,
                  tables: list, table_links: dict[str, list[str]], figure_links: list[tuple[str, str]],
                  gradient: dict | None, tolerance: float, starts: dict[str, dict | None] | None = None,
                  sanity_link: str, originals: str = "synthetic", protocol_link: str = "",
                  m3fd_split: dict | None = None) -> str:
    """Markdown text; ``tables`` are built tables, links are relative to the README."""
    lines = ["# Reproduced results of SSVIF", ""]
    if profile == "quick" or source == "synthetic":
        lines += [
            "## ⚠️ THESE NUMBERS ARE NOT THE PAPER'S",
            "",
            f"**They come from the `{profile}` profile on `{source}` data: "
            + ("tiny models trained for a few steps on procedurally generated images. " if source == "synthetic" else "")
            + "They test that the pipeline runs end to end; they say nothing about the method.** "
            "Run `dvc exp run -S profile=paper -S data.source=official` for the paper's setting.",
            "",
        ]
    lines += [
        "## Provenance",
        "",
        f"- profile: `{profile}`; data source: `{source}`; headline weighting: `{weighting}`",
        f"- Original rows: `{originals}` ("
        + ("the authors' released models, one per architecture on every dataset, as the paper" if originals in
           ("official", "local") else "each original retrained with its own framework on each dataset by this "
           "project, not the authors' released models the paper evaluates") + ")",
        *([m3fd_split_line(m3fd_split)] if m3fd_split else []),
        *([f"- how every number is computed, and where each choice comes from: [protocol]({protocol_link})"]
          if protocol_link else []),
        f"- code digest: `{code_sha}` (sha256 over {' and '.join(CODE_GLOBS)} sorted by path, "
        "each as path, NUL, file bytes, NUL)",
        f"- params digest: `{params_sha}` (sha256 of {PARAMS_FILE}'s bytes)",
        "- no dates or commit hashes here on purpose: this file is regenerated byte for byte from the same code and params.",
        "",
        *(["## Downstream starting points", "",
           "Every segmentation fine-tune and YOLO retraining starts from these weights (`weights@<target>`):", "",
           *_starting_points(starts), ""] if starts else []),
        "## Scorecard",
        "",
        f"A reproduced cell is within tolerance when |reproduced − paper| ≤ {tolerance:.0%} of the paper's value.",
        "",
        *scorecard_note(tables),
        "| table | within tolerance | compared cells | files |",
        "| --- | --- | --- | --- |",
    ]
    for table in tables:
        within, total = table.scorecard()
        links = " ".join(f"[{Path(p).suffix[1:]}]({p})" for p in table_links[table.spec.id])
        lines.append(f"| {table.spec.number}: {table.spec.title} | {within} | {total} | {links} |")
    lines += _missing_rows(tables)
    lines += ["", "## Gradient analysis (Sec. IV-F)", ""]
    if gradient is None:
        lines.append("No headline FMB run: nothing to report.")
    elif gradient["alpha_cf_mean_stage2"] is None:
        lines.append(f"Run `{gradient['run']}` logged no stage-II alpha_cf "
                     f"(stage II never started); the paper reports {gradient['alpha_cf_published']:.2e}.")
    else:
        lines.append(f"Mean alpha_cf over {gradient['stage2_epochs']} stage-II epochs of `{gradient['run']}`: "
                     f"{gradient['alpha_cf_mean_stage2']:.3e} (paper: {gradient['alpha_cf_published']:.2e}).")
    lines += ["", "## Sanity report", "",
              f"[{Path(sanity_link).name}]({sanity_link}): expectations that hold by construction of the synthetic data, measured, "
              "with a day / night / fog breakdown."]
    lines += ["", "## Figures", ""]
    lines += [f"- [{caption}]({link})" for link, caption in figure_links]
    return "\n".join(lines) + "\n"
