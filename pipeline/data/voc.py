"""Pascal VOC XML annotations (M3FD): read and write absolute pixel boxes."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from pipeline.atomic import atomic_write_text

Box = tuple[str, float, float, float, float]  # (class_name, xmin, ymin, xmax, ymax) in pixels


class AnnotationError(ValueError):
    """A VOC XML file is malformed."""


def _number(node: ET.Element, tag: str, path) -> float:
    child = node.find(tag)
    if child is None or child.text is None:
        raise AnnotationError(f"{path}: <{tag}> is missing; the annotation file is malformed, replace it.")
    try:
        return float(child.text.strip())
    except ValueError as error:
        raise AnnotationError(f"{path}: <{tag}> is not a number ({child.text!r}).") from error


def read_voc(path: str | os.PathLike) -> tuple[int, int, list[Box]]:
    """Parse a VOC XML file: ``(width, height, [(class_name, xmin, ymin, xmax, ymax), ...])``.

    Coordinates are absolute pixels as written in the file (VOC's 1-based convention is not shifted).
    """
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as error:
        raise AnnotationError(f"{path}: cannot parse the XML ({error}); replace the file.") from error
    size = root.find("size")
    if size is None:
        raise AnnotationError(f"{path}: <size> is missing; the annotation file is malformed, replace it.")
    width, height = int(_number(size, "width", path)), int(_number(size, "height", path))
    boxes: list[Box] = []
    for obj in root.iter("object"):
        name = obj.findtext("name")
        box = obj.find("bndbox")
        if not name or box is None:
            raise AnnotationError(f"{path}: an <object> lacks <name> or <bndbox>.")
        boxes.append((name.strip(), *(_number(box, t, path) for t in ("xmin", "ymin", "xmax", "ymax"))))
    return width, height, boxes


def voc_xml(filename: str, width: int, height: int, boxes: list[Box], folder: str = "M3FD_Detection") -> str:
    """VOC XML text in the layout of the M3FD annotations (integer pixel boxes)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = folder
    ET.SubElement(root, "filename").text = filename
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    for name, x0, y0, x1, y1 in boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        bnd = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), (x0, y0, x1, y1)):
            ET.SubElement(bnd, tag).text = str(int(round(value)))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def write_voc(path: str | os.PathLike, width: int, height: int, boxes: list[Box]) -> Path:
    """Write a VOC XML annotation atomically."""
    path = Path(path)
    return atomic_write_text(path, voc_xml(path.with_suffix(".png").name, width, height, boxes))
