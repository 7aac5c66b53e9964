"""M3FD VOC XML boxes -> YOLO txt labels, classes mapped BY NAME in the official order.

M3FD's README order is People, Car, Bus, Motorcycle, Lamp, Truck; other orders circulate
in public code, so the class index always comes from the name (docs/datasets.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from pipeline.data.voc import Box, read_voc

M3FD_CLASSES = ("People", "Car", "Bus", "Motorcycle", "Lamp", "Truck")


def yolo_lines(width: int, height: int, boxes: Sequence[Box], class_names: Sequence[str] = M3FD_CLASSES,
               source: str | Path = "<boxes>") -> list[str]:
    """VOC boxes (absolute pixels, edges) -> ``"cls xc yc w h"`` lines normalised to [0, 1] (6 decimals).

    Boxes are clipped to the image; boxes empty after clipping are dropped. An unknown class
    name raises ValueError naming ``source``.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"{source}: image size {width}x{height} is not positive.")
    index = {name: i for i, name in enumerate(class_names)}
    lines = []
    for name, x0, y0, x1, y1 in boxes:
        if name not in index:
            raise ValueError(f"{source}: unknown class {name!r}; valid classes: {', '.join(class_names)}.")
        x0, x1 = sorted((min(max(x0, 0.0), width), min(max(x1, 0.0), width)))
        y0, y1 = sorted((min(max(y0, 0.0), height), min(max(y1, 0.0), height)))
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        xc, yc, w, h = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height
        lines.append(f"{index[name]} {xc:.6f} {yc:.6f} {w:.6f} {h:.6f}")
    return lines


def convert_annotation(xml_path: str | Path, class_names: Sequence[str] = M3FD_CLASSES) -> tuple[int, int, str]:
    """One VOC XML file -> (width, height, YOLO txt content)."""
    width, height, boxes = read_voc(xml_path)
    lines = yolo_lines(width, height, boxes, class_names, source=xml_path)
    return width, height, "".join(line + "\n" for line in lines)
