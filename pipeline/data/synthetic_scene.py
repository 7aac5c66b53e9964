"""Procedural street scenes with exact labels, rendered as a visible/infrared pair.

A scene is drawn once in terms of scene *elements* (sky, building, road, person, car,
...); each dataset maps elements to its own classes (``ELEMENT_CLASSES``). All drawing
is vectorised numpy on the bounding box of each shape. The visible image has colour
and texture; at night it is dark (people findable only in infrared; M3FD's vehicles and lamps,
which reflect or emit light, still show) and in fog washed
out. The infrared image is thermal: people, engines and lamps hot, background cooler,
blurred, with sensor noise and no colour. Some classes differ only by colour (bus and
truck; guardrail and car_stop), so the task needs both modalities.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

ELEMENTS = ("sky", "building", "road", "sidewalk", "vegetation", "terrain", "pole", "lamp", "sign", "person",
            "car", "truck", "bus", "motorcycle", "bicycle", "curb", "car_stop", "guardrail", "cone", "bump")
E = {name: i for i, name in enumerate(ELEMENTS)}

# Element -> class name per dataset (None: the dataset's background / not a box).
ELEMENT_CLASSES: dict[str, dict[str, str | None]] = {
    "msrs": {"car": "car", "person": "person", "bicycle": "bike", "motorcycle": "bike", "curb": "curve",
             "car_stop": "car_stop", "guardrail": "guardrail", "cone": "color_cone", "bump": "bump"},
    "fmb": {"road": "Road", "sidewalk": "Sidewalk", "building": "Building", "lamp": "Lamp", "sign": "Sign",
            "vegetation": "Vegetation", "sky": "Sky", "person": "Person", "car": "Car", "truck": "Truck",
            "bus": "Bus", "motorcycle": "Motorcycle", "bicycle": "Bicycle", "pole": "Pole"},
    "m3fd": {"person": "People", "car": "Car", "bus": "Bus", "motorcycle": "Motorcycle", "lamp": "Lamp",
             "truck": "Truck"},
}

# Objects per scene: element -> (min, max) count, per dataset.
OBJECT_COUNTS: dict[str, dict[str, tuple[int, int]]] = {
    "msrs": {"car": (1, 4), "person": (0, 4), "bicycle": (0, 2), "cone": (0, 3), "car_stop": (1, 2),
             "guardrail": (1, 2), "pole": (1, 2)},
    "fmb": {"car": (0, 4), "person": (0, 4), "truck": (0, 1), "bus": (0, 1), "motorcycle": (0, 2),
            "bicycle": (0, 2), "pole": (1, 3), "sign": (0, 2)},
    "m3fd": {"car": (1, 5), "person": (1, 5), "truck": (0, 1), "bus": (0, 1), "motorcycle": (0, 2),
             "pole": (1, 3)},
}

# Day-time temperature (0 cold .. 1 hot) of each element: people, engines and lamps hot.
TEMPERATURE = {"sky": 0.06, "building": 0.42, "road": 0.5, "sidewalk": 0.46, "vegetation": 0.3, "terrain": 0.36,
               "pole": 0.36, "lamp": 0.7, "sign": 0.4, "person": 0.86, "car": 0.58, "truck": 0.62, "bus": 0.62,
               "motorcycle": 0.72, "bicycle": 0.38, "curb": 0.5, "car_stop": 0.44, "guardrail": 0.44,
               "cone": 0.4, "bump": 0.52}
HOT_PARTS = 0.8  # wheels and engines
# Objects stay warm at night; the background cools by this much.
NIGHT_COOLING = 0.1
WARM = {"person", "car", "truck", "bus", "motorcycle", "lamp"}

# Visible colours (RGB 0-255). Bus/truck and guardrail/car_stop share shape and temperature:
# colour alone tells them apart.
COLOURS = {"sky": (135, 180, 230), "road": (82, 82, 88), "sidewalk": (165, 155, 142), "vegetation": (52, 122, 44),
           "terrain": (122, 108, 78), "pole": (95, 95, 100), "lamp": (235, 232, 200), "sign": (30, 80, 200),
           "truck": (35, 140, 65), "bus": (240, 190, 25), "motorcycle": (25, 25, 30), "bicycle": (200, 40, 40),
           "curb": (200, 200, 195), "car_stop": (222, 190, 30), "guardrail": (175, 175, 188), "cone": (245, 110, 20),
           "bump": (230, 200, 30)}
CAR_COLOURS = ((170, 30, 30), (180, 180, 186), (28, 28, 34), (40, 60, 150), (228, 228, 228))
BUILDING_COLOURS = ((150, 120, 100), (120, 120, 125), (180, 170, 150), (110, 90, 80))
CLOTHES = ((200, 40, 40), (40, 40, 150), (60, 60, 60), (220, 220, 220), (40, 120, 40))
# Where objects stand, as a fraction of the ground from the horizon (0) to the image bottom (1).
# M3FD's real objects are seldom tiny at 1024x768; at quick sizes its far objects would be a few
# pixels, so its synthetic objects stand nearer.
GROUND_DEPTH = {"default": (0.12, 1.0), "m3fd": (0.4, 1.0), "fmb": (0.3, 1.0), "msrs": (0.3, 1.0)}
# Object sizes (height as a share of the image at the bottom row, width / height) and, per dataset,
# the ones that differ (none today: see the README's quick-profile choices for what was tried on MSRS).
SIZES = {"person": (0.5, 0.42), "car": (0.3, 2.0), "truck": (0.48, 2.2), "bus": (0.48, 2.2),
         "motorcycle": (0.26, 1.6), "bicycle": (0.26, 1.6), "cone": (0.12, 0.6), "car_stop": (0.24, 2.5),
         "guardrail": (0.24, 2.5), "pole": (1.0, 0.05), "sign": (1.0, 0.05)}
SIZE_OVERRIDES: dict[str, dict[str, tuple[float, float]]] = {}
# Street-lamp head height as a share of the pole; M3FD's lamps are a detection class, drawn larger.
LAMP_HEAD = {"default": 0.07, "m3fd": 0.1}
# Per-dataset visible colours: M3FD's motorcycles are painted (black ones vanish on the road).
COLOUR_OVERRIDES = {"m3fd": {"motorcycle": (190, 50, 35)}}
# Fog: the share of fog light at the image bottom (drawn from this range; more with distance).
FOG = {"default": (0.55, 0.75), "m3fd": (0.4, 0.6)}
# At night the visible image is dark, except what reflects headlights and street light: the share of
# its day-time brightness each element keeps (M3FD: vehicles' lights and paint under street light;
# lamps shine). People reflect nothing: they stay dark.
NIGHT_REFLECT = {"m3fd": {"car": 0.35, "truck": 0.35, "bus": 0.35, "motorcycle": 0.3, "lamp": 1.0}}
MIN_BOX_PIXELS = 12  # an instance with fewer visible pixels (after occlusion or cropping) gets no box
CONDITIONS = ("day", "night", "fog")
CONDITION_P = (0.45, 0.35, 0.2)


@dataclass
class Scene:
    """A rendered pair. vis (H, W, 3) uint8 RGB; ir (H, W) uint8; elements (H, W) uint8 element ids;
    boxes: [(element, xmin, ymin, xmax, ymax)] of every visible instance (pixels, inclusive-exclusive)."""

    vis: np.ndarray
    ir: np.ndarray
    elements: np.ndarray
    condition: str
    boxes: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    # Instance map (H, W) int16 (0 = none) and the element of each instance id: boxes of a crop.
    instances: np.ndarray | None = None
    kinds: tuple[str, ...] = ()


class _Canvas:
    """Element, colour, temperature and instance maps drawn together so labels stay exact."""

    def __init__(self, height: int, width: int):
        self.h, self.w = height, width
        self.elements = np.zeros((height, width), np.uint8)
        self.vis = np.zeros((height, width, 3), np.float32)
        self.temp = np.zeros((height, width), np.float32)
        self.inst = np.zeros((height, width), np.int16)
        self.instances: list[str] = [""]

    def paint(self, mask, element: str, colour, temp: float, sl=np.s_[:, :], instance: int = 0):
        """Paint ``mask`` (broadcast to the window ``sl`` of the image, the whole image by default)."""
        mask = np.broadcast_to(mask, self.elements[sl].shape)
        self.elements[sl][mask] = E[element]
        self.vis[sl][mask] = colour
        self.temp[sl][mask] = temp
        self.inst[sl][mask] = instance

    def window(self, x0: float, y0: float, x1: float, y1: float):
        """Clipped integer window and the object's local coordinates u, v in [0, 1] over it."""
        xa, xb = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)), self.w)
        ya, yb = max(int(np.floor(y0)), 0), min(int(np.ceil(y1)), self.h)
        if xb - xa < 1 or yb - ya < 1:
            return None
        u = ((np.arange(xa, xb, dtype=np.float32) + 0.5 - x0) / (x1 - x0))[None, :]
        v = ((np.arange(ya, yb, dtype=np.float32) + 0.5 - y0) / (y1 - y0))[:, None]
        return np.s_[ya:yb, xa:xb], u, v


def _ellipse(u, v, cu, cv, ru, rv):
    return ((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2 < 1


def _shape(kind: str, u, v):
    """(body mask, detail mask) of an object in its local box; detail = wheels/windows (dark, hot)."""
    if kind == "person":
        body = (_ellipse(u, v, 0.5, 0.09, 0.2, 0.09) | ((np.abs(u - 0.5) < 0.26) & (v > 0.17) & (v < 0.6))
                | ((v >= 0.6) & ((np.abs(u - 0.36) < 0.1) | (np.abs(u - 0.64) < 0.1))))
        return body, _ellipse(u, v, 0.5, 0.09, 0.2, 0.09)
    if kind == "car":
        wheels = _ellipse(u, v, 0.22, 0.84, 0.1, 0.16) | _ellipse(u, v, 0.78, 0.84, 0.1, 0.16)
        cabin = (v > 0.08) & (v <= 0.46) & (np.abs(u - 0.5) < 0.28 + 0.18 * (v - 0.08) / 0.38)
        body = ((v > 0.45) & (v < 0.86) & (u > 0.01) & (u < 0.99)) | cabin | wheels
        windows = (v > 0.16) & (v < 0.42) & (np.abs(u - 0.5) < 0.22 + 0.14 * (v - 0.16) / 0.26)
        return body, wheels | windows
    if kind in ("truck", "bus"):
        wheels = _ellipse(u, v, 0.18, 0.9, 0.07, 0.1) | _ellipse(u, v, 0.82, 0.9, 0.07, 0.1)
        body = ((v < 0.9) & (u > 0.0) & (u < 1.0)) | wheels
        windows = (v > 0.1) & (v < 0.4) & (u > 0.05) & (u < 0.3)
        return body, wheels | windows
    if kind in ("motorcycle", "bicycle"):
        r = 0.2
        rings = [((u - cu) / r) ** 2 + ((v - 0.72) / (r * 1.6)) ** 2 for cu in (0.2, 0.8)]
        wheels = (rings[0] < 1) | (rings[1] < 1)
        if kind == "bicycle":
            wheels = wheels & ~((rings[0] < 0.5) | (rings[1] < 0.5))
        frame = (np.abs(v - 0.55 + 0.0 * u) < 0.07) & (u > 0.2) & (u < 0.8) | ((np.abs(u - 0.5) < 0.06) & (v > 0.2))
        engine = (np.abs(u - 0.5) < 0.18) & (v > 0.45) & (v < 0.75) if kind == "motorcycle" else np.zeros_like(frame)
        return wheels | frame | engine, engine
    if kind == "cone":
        body = (np.abs(u - 0.5) < 0.5 * v) & (v > 0.0) & (v < 1.0)
        return body, body & (np.abs(v - 0.55) < 0.1)
    if kind in ("car_stop", "guardrail"):
        body = ((v > 0.15) & (v < 0.75)) | ((v >= 0.75) & ((np.abs(u - 0.12) < 0.05) | (np.abs(u - 0.88) < 0.05)))
        return body, np.zeros_like(body)
    raise KeyError(kind)


def _lowfreq(rng: np.random.Generator, h: int, w: int, cells: int = 12) -> np.ndarray:
    """Smooth noise in [0, 1] (H, W): a small random grid upsampled bilinearly."""
    grid = rng.random((max(h // cells, 2), max(w // cells, 2)), dtype=np.float32)
    return np.asarray(Image.fromarray(grid, mode="F").resize((w, h), Image.BILINEAR))


def _background(c: _Canvas, rng: np.random.Generator, horizon: int, cx: float, slope: float, dataset: str):
    h, w = c.h, c.w
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    sky_shade = np.clip(1.1 - 0.4 * yy / max(horizon, 1), 0.6, 1.1)
    c.paint(True, "sky", 0, TEMPERATURE["sky"])
    c.vis[:] = np.asarray(COLOURS["sky"], np.float32) * sky_shade[..., None]
    # Skyline: buildings of random widths and heights; gaps of trees between some of them.
    widths = rng.integers(w // 10, w // 4, size=16)
    edges = np.cumsum(np.concatenate([[0], widths]))
    idx = np.searchsorted(edges, np.arange(w), side="right") - 1
    tops = rng.integers(int(horizon * 0.15), max(int(horizon * 0.8), int(horizon * 0.15) + 1), size=17)[idx]
    kinds = rng.random(17)[idx]
    shades = rng.integers(0, len(BUILDING_COLOURS), size=17)[idx]
    above = yy < horizon + 2
    build = above & (yy >= tops[None, :]) & (kinds[None, :] < 0.75)
    colour = np.asarray(BUILDING_COLOURS, np.float32)[shades][None, :, :] * np.ones((h, 1, 1), np.float32)
    c.paint(build, "building", 0, TEMPERATURE["building"])
    c.vis[build] = colour[build]
    windows = build & ((xx % 9) < 4) & ((yy % 11) < 5) & (yy > tops[None, :] + 3)
    c.vis[windows] = (60, 78, 98)
    c.temp[windows] = TEMPERATURE["building"] - 0.04
    trees = above & (kinds[None, :] >= 0.75) & (yy >= tops[None, :] + 8 * _lowfreq(rng, h, w, 6))
    c.paint(trees, "vegetation", COLOURS["vegetation"], TEMPERATURE["vegetation"])
    # Ground: road (a trapezoid towards the vanishing point), sidewalks beside it, terrain or grass.
    depth = np.clip((yy - horizon) / max(h - horizon, 1), 0, 1)
    half = 4 + slope * (yy - horizon)
    ground = yy >= horizon
    grass = ground & (_lowfreq(rng, h, w, 24) > 0.55)
    c.paint(ground, "terrain", COLOURS["terrain"], TEMPERATURE["terrain"])
    c.paint(grass, "vegetation", COLOURS["vegetation"], TEMPERATURE["vegetation"])
    side = ground & (np.abs(xx - cx) < half * 1.45)
    c.paint(side, "sidewalk", COLOURS["sidewalk"], TEMPERATURE["sidewalk"])
    road = ground & (np.abs(xx - cx) < half)
    c.paint(road, "road", COLOURS["road"], TEMPERATURE["road"])
    lane = road & (np.abs(xx - cx) < 0.5 + 0.02 * half) & ((np.maximum(yy - horizon, 0) ** 0.7 % 6) < 3)
    c.vis[lane] = (235, 235, 235)
    if dataset == "msrs":
        if rng.random() < 0.7:  # curbs along both road edges
            curb = ground & (np.abs(np.abs(xx - cx) - half) < 1 + 0.04 * half)
            c.paint(curb, "curb", COLOURS["curb"], TEMPERATURE["curb"])
        if rng.random() < 0.5:  # a striped speed bump across the road
            yb = horizon + (h - horizon) * rng.uniform(0.3, 0.9)
            bump = road & (np.abs(yy - yb) < 1 + 0.05 * (yb - horizon))
            c.paint(bump, "bump", COLOURS["bump"], TEMPERATURE["bump"])
            c.vis[bump & ((xx // 6) % 2 == 0)] = (30, 30, 30)
    return depth


def _place(rng, kind, horizon, h, w, cx, slope, dataset):
    """Bounding box (x0, y0, x1, y1) of an object standing on the ground, sized by perspective."""
    yb = horizon + (h - horizon) * rng.uniform(*GROUND_DEPTH.get(dataset, GROUND_DEPTH["default"]))
    d = (yb - horizon) / (h - horizon)
    half = 4 + slope * (yb - horizon)
    size = SIZE_OVERRIDES.get(dataset, {}).get(kind, SIZES[kind])
    oh = max(d * size[0] * h, 6.0)
    ow = max(oh * size[1], 3.0)
    if kind in ("car", "truck", "bus", "motorcycle", "bicycle"):
        x = cx + half * rng.uniform(-0.75, 0.75)
    elif kind in ("pole", "sign", "car_stop", "guardrail"):
        x = cx + half * rng.choice([-1, 1]) * rng.uniform(1.1, 1.4)
    elif kind == "cone":
        x = cx + half * rng.choice([-1, 1]) * rng.uniform(0.8, 1.0)
    else:
        x = rng.uniform(0, w) if rng.random() < 0.5 else cx + half * rng.choice([-1, 1]) * rng.uniform(0.9, 1.5)
    return x - ow / 2, yb - oh, x + ow / 2, yb


def _draw_object(c: _Canvas, rng, kind: str, box, lamps: list, dataset: str = "default"):
    x0, y0, x1, y1 = box
    if kind in ("pole", "sign"):
        pole_w = max(2.0, (y1 - y0) * 0.04)
        xm = (x0 + x1) / 2
        win = c.window(xm - pole_w / 2, y0, xm + pole_w / 2, y1)
        if win:
            sl, u, v = win
            c.paint(True, "pole", COLOURS["pole"], TEMPERATURE["pole"], sl)
        head_h = (y1 - y0) * LAMP_HEAD.get(dataset, LAMP_HEAD["default"])
        if kind == "pole":  # street lamp: a hot head on the pole
            hb = (xm - 2.2 * head_h, y0 - head_h * 0.3, xm + 0.6 * head_h, y0 + head_h * 0.7)
            c.instances.append("lamp")
            win = c.window(*hb)
            if win:
                sl, u, v = win
                c.paint(_ellipse(u, v, 0.5, 0.5, 0.5, 0.5), "lamp", COLOURS["lamp"], TEMPERATURE["lamp"], sl,
                        len(c.instances) - 1)
                lamps.append(((hb[0] + hb[2]) / 2, (hb[1] + hb[3]) / 2, head_h))
        else:
            sb = (xm - 1.2 * head_h, y0 + head_h, xm + 1.2 * head_h, y0 + 3 * head_h)
            win = c.window(*sb)
            if win:
                sl, u, v = win
                c.paint(True, "sign", COLOURS["sign"],
                        TEMPERATURE["sign"], sl)
        return
    win = c.window(x0, y0, x1, y1)
    if not win:
        return
    sl, u, v = win
    body, detail = _shape(kind, u, v)
    if kind == "car":
        colour = CAR_COLOURS[rng.integers(len(CAR_COLOURS))]
    elif kind == "person":
        colour = CLOTHES[rng.integers(len(CLOTHES))]
    else:
        colour = COLOUR_OVERRIDES.get(dataset, {}).get(kind, COLOURS[kind])
    c.instances.append(kind)
    c.paint(body, kind, colour, TEMPERATURE[kind], sl, len(c.instances) - 1)
    dark = np.asarray((40, 40, 45) if kind != "person" else (205, 160, 130), np.float32)
    c.vis[sl][detail] = dark
    if kind != "cone":
        c.temp[sl][detail & body] = HOT_PARTS if kind != "person" else 0.92


def render_scene(dataset: str, rng: np.random.Generator, height: int, width: int,
                 condition: str | None = None) -> Scene:
    """Render one scene of ``dataset`` (``msrs``, ``fmb``, ``m3fd``) at (height, width)."""
    h, w = height, width
    condition = condition or CONDITIONS[rng.choice(len(CONDITIONS), p=CONDITION_P)]
    c = _Canvas(h, w)
    horizon = int(h * rng.uniform(0.35, 0.5))
    cx = w * rng.uniform(0.35, 0.65)
    slope = rng.uniform(0.6, 1.1) * w / (2 * (h - horizon))
    depth = _background(c, rng, horizon, cx, slope, dataset)
    objects = [(k, _place(rng, k, horizon, h, w, cx, slope, dataset))
               for k, (lo, hi) in OBJECT_COUNTS[dataset].items() for _ in range(rng.integers(lo, hi + 1))]
    objects.sort(key=lambda o: o[1][3])  # far (higher up) first: nearer objects occlude them
    lamps: list = []
    for kind, box in objects:
        _draw_object(c, rng, kind, box, lamps, dataset)
    # Visible: texture, then the condition (night: dark, lamps glow; fog: washed out with distance).
    vis = c.vis * (0.82 + 0.3 * _lowfreq(rng, h, w, 8))[..., None]
    vis += rng.normal(0, 3, size=(h, w, 1)).astype(np.float32)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    temp = c.temp.copy()
    if condition == "night":
        day = vis
        vis = vis * rng.uniform(0.06, 0.14)
        reflect = NIGHT_REFLECT.get(dataset)
        if reflect:
            share = np.zeros(len(ELEMENTS), np.float32)
            for element, value in reflect.items():
                share[E[element]] = value
            vis = vis + share[c.elements][..., None] * day
        for lx, ly, lr in lamps:
            glow = np.exp(-((xx - lx) ** 2 + (yy - ly) ** 2) / (2 * (3 * lr + 4) ** 2))
            vis += glow[..., None] * np.asarray((150, 135, 95), np.float32)
        vis += rng.normal(0, 4, size=(h, w, 1)).astype(np.float32)
        warm = np.isin(c.elements, [E[k] for k in WARM])
        temp = np.where(warm, temp, temp - NIGHT_COOLING)
    elif condition == "fog":
        far = np.where(yy < horizon, 1.0, 1.0 - depth)
        t = np.clip(rng.uniform(*FOG.get(dataset, FOG["default"])) + 0.25 * far, 0, 0.95)
        vis = vis * (1 - t[..., None]) + t[..., None] * np.asarray((205, 205, 210), np.float32)
    # Infrared: thermal texture, optics blur, sensor noise (random + fixed column pattern).
    temp = temp + 0.04 * (_lowfreq(rng, h, w, 10) - 0.5)
    if condition == "fog":
        temp = 0.85 * temp + 0.075  # fog lowers thermal contrast slightly
    temp = gaussian_filter(temp, sigma=max(h / 192, 0.8))
    temp += rng.normal(0, 0.012, size=(h, w)).astype(np.float32) + rng.normal(0, 0.008, size=(1, w)).astype(np.float32)
    ir = np.clip(temp * 255 + 0.5, 0, 255).astype(np.uint8)
    vis_u8 = np.clip(vis + 0.5, 0, 255).astype(np.uint8)
    kinds = tuple(c.instances)
    return Scene(vis_u8, ir, c.elements, condition, visible_boxes(c.inst, kinds), c.inst, kinds)


def visible_boxes(instances: np.ndarray, kinds: tuple[str, ...]) -> list[tuple[str, int, int, int, int]]:
    """[(element, xmin, ymin, xmax, ymax)] of every instance with at least MIN_BOX_PIXELS pixels in
    ``instances`` (an instance map, or a crop of one): the boxes of what remains visible."""
    boxes = []
    for i, kind in enumerate(kinds[1:], start=1):
        ys, xs = np.nonzero(instances == i)
        if ys.size >= MIN_BOX_PIXELS:
            boxes.append((kind, int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    return boxes


def class_lut(dataset: str, classes: tuple[str, ...]) -> np.ndarray:
    """uint8 lookup element id -> class index (0 = background) for a segmentation dataset."""
    lut = np.zeros(len(ELEMENTS), np.uint8)
    for element, name in ELEMENT_CLASSES[dataset].items():
        lut[E[element]] = classes.index(name)
    return lut
