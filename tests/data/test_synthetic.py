"""The synthetic generator: official layouts, determinism, validity, and a task needing both modalities."""
from __future__ import annotations

import re

import numpy as np
import pytest

from pipeline.data.registry import DATASETS
from pipeline.data.synthetic import generate_dataset
from pipeline.data.synthetic_scene import COLOURS, E, TEMPERATURE, _shape, class_lut, render_scene
from pipeline.data.validate import validate_dataset
from pipeline.data.voc import read_voc


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_official_layouts_and_names(tiny_cache):
    msrs, fmb, m3fd = (tiny_cache / n for n in ("msrs", "fmb", "m3fd"))
    for split in ("train", "test"):
        assert {p.name for p in (msrs / split).iterdir()} >= {"ir", "vi", "Segmentation_labels"}
        assert {p.name for p in (fmb / split).iterdir()} == {"Visible", "Infrared", "Label", "color"}
        assert all(re.fullmatch(r"\d{5}[DN]\.png", p.name) for p in (msrs / split / "ir").iterdir())
    assert (msrs / "test" / "Segmentation_visualize").is_dir()
    assert sorted(p.name for p in (m3fd / "M3FD_Detection").iterdir()) == ["Annotation", "Ir", "Vis"]
    assert sorted(p.stem for p in (m3fd / "M3FD_Detection" / "Ir").iterdir()) == [f"{i:05d}" for i in range(6)]


@pytest.mark.parametrize("name", ["msrs", "fmb", "m3fd"])
def test_output_passes_validation(tiny_cache, name):
    stems = validate_dataset(DATASETS[name], tiny_cache / name)
    assert sum(len(s) for s in stems.values()) == 6


@pytest.mark.parametrize("name", ["msrs", "m3fd"])
def test_deterministic_by_seed(tiny_cache, tiny_sizes, tmp_path, name):
    generate_dataset(DATASETS[name], tmp_path / "same", seed=0, size=tiny_sizes[name])
    generate_dataset(DATASETS[name], tmp_path / "other", seed=1, size=tiny_sizes[name])
    reference = _files(tiny_cache / name)
    assert _files(tmp_path / "same") == reference
    other = _files(tmp_path / "other")
    assert other.keys() != reference.keys() or other != reference


def test_m3fd_boxes_are_exact(tiny_cache):
    root = tiny_cache / "m3fd" / "M3FD_Detection"
    total = 0
    for xml in root.glob("Annotation/*.xml"):
        width, height, boxes = read_voc(xml)
        total += len(boxes)
        assert all(name in DATASETS["m3fd"].classes for name, *_ in boxes)
    assert total > 0
    rng = np.random.default_rng(5)
    scene = render_scene("m3fd", rng, 96, 128)
    for kind, x0, y0, x1, y1 in scene.boxes:  # each box is tight around pixels of its element
        inside = scene.elements[y0:y1, x0:x1] == E[kind]
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


def test_labels_are_the_drawn_elements():
    scene = render_scene("fmb", np.random.default_rng(3), 64, 96)
    label = class_lut("fmb", DATASETS["fmb"].classes)[scene.elements]
    sky = DATASETS["fmb"].classes.index("Sky")
    assert np.array_equal(label == sky, scene.elements == E["sky"])
    assert label.max() < DATASETS["fmb"].num_classes


def test_night_objects_found_in_infrared_not_visible():
    vis_contrast, ir_contrast = [], []
    for seed in range(4):
        scene = render_scene("fmb", np.random.default_rng(seed), 96, 128, condition="night")
        obj = np.isin(scene.elements, [E[k] for k in ("person", "car", "bus", "truck")])
        ground = np.isin(scene.elements, [E[k] for k in ("road", "sidewalk", "terrain", "vegetation")])
        lum = scene.vis.mean(axis=2)
        vis_contrast.append(abs(lum[obj].mean() - lum[ground].mean()))
        ir_contrast.append(abs(scene.ir[obj].astype(float).mean() - scene.ir[ground].mean()))
    assert np.mean(ir_contrast) > 50 and np.mean(vis_contrast) < 0.25 * np.mean(ir_contrast)


def test_some_classes_differ_only_by_colour():
    u = np.linspace(0, 1, 40)[None, :]
    v = np.linspace(0, 1, 30)[:, None]
    for a, b in (("bus", "truck"), ("guardrail", "car_stop")):
        assert all(np.array_equal(x, y) for x, y in zip(_shape(a, u, v), _shape(b, u, v)))
        assert TEMPERATURE[a] == TEMPERATURE[b] and COLOURS[a] != COLOURS[b]


def test_infrared_has_no_colour(tiny_cache):
    from PIL import Image
    ir = np.asarray(Image.open(next((tiny_cache / "m3fd" / "M3FD_Detection" / "Ir").glob("*.png"))))
    assert ir.ndim == 3 and (ir[..., 0] == ir[..., 1]).all() and (ir[..., 1] == ir[..., 2]).all()


@pytest.mark.parametrize("name", ["m3fd"])
def test_night_reflectors_show_but_people_stay_dark(name):
    """At night M3FD's vehicles reflect light in the visible image; people never do."""
    person, lit, ground = [], [], []
    shown = ("car", "truck", "bus")
    for seed in range(6):
        scene = render_scene(name, np.random.default_rng(seed), 96, 128, condition="night")
        lum = scene.vis.mean(axis=2)
        for values, kinds in ((person, ("person",)), (lit, shown), (ground, ("road", "sidewalk", "terrain"))):
            mask = np.isin(scene.elements, [E[k] for k in kinds])
            if mask.any():
                values.append(lum[mask].mean())
        people = scene.elements == E["person"]
        if people.any():  # people stay far hotter than the ground in infrared
            assert scene.ir[people].mean() - scene.ir[np.isin(scene.elements, [E["road"], E["sidewalk"]])].mean() > 50
    assert np.mean(lit) > 1.5 * np.mean(person) and np.mean(person) < 1.5 * np.mean(ground) + 5


def test_m3fd_is_sequences_of_near_duplicates(tmp_path):
    """Consecutive frames of a synthetic M3FD sequence are near-duplicates (one scene panned, fresh
    noise), of one size; a new sequence is another scene. Frame bytes never depend on the count."""
    from pipeline.data.grouped_split import GROUP_THRESHOLD, read_thumbnails
    from pipeline.data.io import read_visible
    from pipeline.data.synthetic import m3fd_sequences

    size = {"count": 30, "height": 48, "width": 64}
    generate_dataset(DATASETS["m3fd"], tmp_path / "a", seed=0, size=size)
    generate_dataset(DATASETS["m3fd"], tmp_path / "b", seed=0, size={**size, "count": 13})
    vis = tmp_path / "a" / "M3FD_Detection" / "Vis"
    sequences = m3fd_sequences(0, 30)
    assert [s for seq in sequences for s in seq] == [f"{i:05d}" for i in range(30)]
    assert 1 < len(sequences) < 30 and max(map(len, sequences)) > 2
    thumbs = read_thumbnails({p.stem: p for p in vis.glob("*.png")})
    for seq in sequences:
        assert len({read_visible(vis / f"{s}.png").shape for s in seq}) == 1
        for a, b in zip(seq, seq[1:]):
            distance = np.abs(thumbs[a] - thumbs[b]).mean()
            assert 0 < distance < GROUP_THRESHOLD / 2
            assert (vis / f"{a}.png").read_bytes() != (vis / f"{b}.png").read_bytes()
    for xml in (tmp_path / "a" / "M3FD_Detection" / "Annotation").glob("*.xml"):
        width, height, boxes = read_voc(xml)
        assert all(0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height for _, x0, y0, x1, y1 in boxes)
    first = _files(tmp_path / "b")
    assert first and all(_files(tmp_path / "a")[k] == v for k, v in first.items())
