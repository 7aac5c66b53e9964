"""Sequence-aware M3FD split: whole groups per part, 8:1:1, seeded, and no near-duplicate leak."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.data.grouped_split import (grouped_split, leaked, m3fd_split, near_duplicates, nearest_distances,
                                         sequence_groups, thumbnail)
from pipeline.data.registry import DATASETS
from pipeline.data.splits import make_split


def _sequences(lengths, seed=0, size=(48, 64)):
    """{stem: RGB frame}: one random smooth scene per sequence, its frames that scene plus a little noise
    and a one-pixel pan; stems numbered contiguously across sequences, as M3FD's are."""
    rng = np.random.default_rng(seed)
    frames, n = {}, 0
    for length in lengths:
        scene = cv2.resize(rng.uniform(0, 255, (6, 8, 3)).astype(np.float32), (size[1] + 8, size[0]),
                           interpolation=cv2.INTER_CUBIC)
        for i in range(length):
            frame = scene[:, i:i + size[1]] + rng.normal(0, 3, (*size, 3))
            frames[f"{n:05d}"] = np.clip(frame, 0, 255).astype(np.uint8)
            n += 1
    return frames


def _group_of(groups):
    return {s: i for i, g in enumerate(groups) for s in g}


def test_groups_follow_number_gaps_and_content():
    assert sequence_groups(["00003", "00001", "00002", "00007", "00008"]) == [["00001", "00002", "00003"],
                                                                            ["00007", "00008"]]
    assert sequence_groups(["00001", "00003"], max_gap=2) == [["00001", "00003"]]
    frames = _sequences([3, 4, 2])
    thumbs = {s: thumbnail(im) for s, im in frames.items()}
    assert [len(g) for g in sequence_groups(frames, thumbs)] == [3, 4, 2]  # contiguous stems, split by content
    with pytest.raises(ValueError):
        sequence_groups(["00001", "abc"])


def test_real_m3fd_samples_group_by_scene(shared_dir):
    folder = shared_dir / "samples" / "m3fd" / "M3FD_Detection" / "Vis"
    if not folder.is_dir():
        pytest.skip("no M3FD samples")
    thumbs = {p.stem: thumbnail(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)) for p in folder.glob("*.png")}
    # 00000-00005 are one street scene a moment apart; 00111-00112 another (and a number gap).
    assert sequence_groups(thumbs, thumbs, max_gap=10_000) == [[f"{i:05d}" for i in range(6)], ["00111", "00112"]]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_whole_groups_and_proportions(seed):
    rng = np.random.default_rng(seed)
    groups, n = [], 0
    for length in rng.integers(1, 9, 200):  # 200 groups of 1-8 frames
        groups.append([f"{i:05d}" for i in range(n, n + length)])
        n += length
    split = grouped_split(groups, seed)
    side = {s: p for p, stems in split.items() for s in stems}
    assert sorted(side) == sorted(s for g in groups for s in g)
    assert all(len({side[s] for s in g}) == 1 for g in groups)  # no group on two sides
    for part, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(len(split[part]) - share * n) <= 8  # within one (largest) group of the target
    assert grouped_split(groups, seed) == split
    assert grouped_split(list(reversed(groups)), seed) == split  # independent of the groups' order
    assert grouped_split(groups, seed + 100) != split


def test_bad_fractions_and_overlapping_groups_are_refused():
    with pytest.raises(ValueError, match="fractions"):
        grouped_split([["00001"]], 0, (0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="disjoint"):
        grouped_split([["00001", "00002"], ["00002"]], 0)


def test_random_split_leaks_near_duplicates_and_grouped_does_not():
    frames = _sequences([5] * 40, seed=3)
    thumbs = {s: thumbnail(im) for s, im in frames.items()}
    groups = sequence_groups(frames, thumbs)
    assert len(groups) == 40
    images = lambda stems: [frames[s] for s in stems]  # noqa: E731
    # The project's default M3FD split: random per stem.
    random = make_split(DATASETS["m3fd"], {"all": list(frames)}, seed=0, val_fraction=0.1)
    grouped = grouped_split(groups, seed=0)
    leaked = near_duplicates(images(random["train"]), images(random["test"]))
    assert leaked >= len(random["test"]) // 2
    assert near_duplicates(images(grouped["train"]), images(grouped["test"])) == 0
    assert near_duplicates(images(grouped["train"]), images(grouped["val"])) == 0
    # Frames of one sequence are near each other, other sequences far: the threshold sits in between.
    assert nearest_distances(images(grouped["train"]), images(grouped["test"])).min() > 25
    assert len(grouped["test"]) == len(grouped["val"]) == 20


def test_m3fd_split_random_is_the_default_split_unchanged():
    """`random` keeps make_split's stems and rule (frozen here on a fixed name list, seed 0) and adds the
    method and the near-duplicate count; the groups only count, never move a stem."""
    frames = _sequences([4] * 10, seed=1)
    thumbs = {s: thumbnail(im) for s, im in frames.items()}
    stems = sorted(frames)
    split = m3fd_split(DATASETS["m3fd"], stems, thumbs, 0, (0.8, 0.1, 0.1), "random")
    default = make_split(DATASETS["m3fd"], {"all": stems}, seed=0, val_fraction=0.1)
    assert {k: v for k, v in split.items() if k not in ("method", "near_duplicates")} == default
    assert split["val"] == ["00014", "00018", "00022", "00036"]  # make_split's output before the option
    assert split["test"] == ["00005", "00008", "00020", "00038"]
    assert split["method"] == "random" and split["near_duplicates"]["groups"] == 10
    assert split["near_duplicates"]["test_in_train"] == 4  # every test frame's sequence has train frames


def test_m3fd_split_grouped_keeps_sequences_whole():
    frames = _sequences([3, 5, 2, 6, 4, 1, 7, 2, 5, 5] * 3, seed=2)
    thumbs = {s: thumbnail(im) for s, im in frames.items()}
    split = m3fd_split(DATASETS["m3fd"], sorted(frames), thumbs, 0, (0.8, 0.1, 0.1), "grouped")
    groups = sequence_groups(frames, thumbs)
    side = {s: p for p in ("train", "val", "test") for s in split[p]}
    assert len(groups) == 30 and all(len({side[s] for s in g}) == 1 for g in groups)
    assert split["method"] == "grouped" and split["rule"].startswith("M3FD grouped")
    assert split["near_duplicates"]["test_in_train"] == split["near_duplicates"]["val_in_train"] == 0
    assert leaked(groups, split, "train") == len(split["train"])


def test_m3fd_split_unknown_method_names_key_and_values():
    with pytest.raises(ValueError, match=r"m3fd_split.method='sequence'.*random, grouped"):
        m3fd_split(DATASETS["m3fd"], ["00000"], {"00000": np.zeros((24, 32), np.float32)}, 0, (0.8, 0.1, 0.1),
                   "sequence")
    with pytest.raises(ValueError, match="split.m3fd_fractions"):
        m3fd_split(DATASETS["m3fd"], ["00000"], {"00000": np.zeros((24, 32), np.float32)}, 0, (0.8, 0.2, 0.1),
                   "grouped")
