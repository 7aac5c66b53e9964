"""A seeded instance (`--run <run>-s<seed>`, pipeline.seeds) trains with that seed and fuses from its own model."""
from __future__ import annotations

import json

from .test_stages_train_fuse import _invoke, project  # noqa: F401  (project is a fixture)


def test_seeded_run_trains_with_its_seed_and_fuses(project, monkeypatch):  # noqa: F811
    from stages import fuse, train

    base = "original-seafusion-fmb"
    models = {}
    for run in (base, f"{base}-s1"):
        out = project / "seeded" / run
        _invoke(train.main, ["--run", run, "--raw", project / "raw", "--split", project / "split.json", "--out", out,
                             "--history", out / "history.csv", "--work", project / "work-seeded"], project, monkeypatch)
        config = json.loads((out / "config.json").read_text())
        assert config["seed"] == (1 if run.endswith("-s1") else 0), config
        models[run] = (out / "model.pt").read_bytes()
    assert models[base] != models[f"{base}-s1"]
    fused = project / "seeded-fused"
    _invoke(fuse.main, ["--run", f"{base}-s1", "--model", project / "seeded" / f"{base}-s1" / "model.pt",
                        "--raw", project / "raw", "--split", project / "split.json", "--out", fused], project, monkeypatch)
    assert any(fused.iterdir())
