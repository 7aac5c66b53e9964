"""Seconds per image of each fusion metric on one core: pipeline.metrics (numpy + OpenCV,
separable filters on cache-sized strips) vs a plain per-image numpy/scipy implementation of
the same definitions (kept here, the way the reference evaluators compute them: direct 2-D
convolutions, one image at a time).

    python benchmarks/metrics_speed.py [--images 16] [--baseline-images 2]

Prints one table for the VIFB pairs (../shared/golden/vifb, skipped if absent) and one for
random-texture 480x640 images. CPU timings depend on the machine's load: state it.
`benchmarks/metrics_command.py` times the whole `ssvif metrics` command (all cores, start-up).
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
from scipy.signal import convolve2d

from pipeline.malloc import reuse_freed_memory
from pipeline.metrics.fusion import METRICS, prepare_inputs
from pipeline.metrics.protocol import read_rgb8

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "golden" / "vifb"
GROUPS = {"EN": ["EN"], "MI": ["MI", "MI_nats"], "VIF": ["VIF"], "Qabf": ["Qabf"],
          "SSIM": ["SSIM", "SSIM_L255"], "MSS": ["MSS", "MSS_L255"], "dE": ["dE"]}


# ---- the straightforward baseline: one image at a time, numpy/scipy/skimage/colour ----
def _en(f):
    h = np.bincount(f.astype(np.int64).ravel(), minlength=256) / f.size
    return -np.sum(h[h > 0] * np.log2(h[h > 0]))


def _mi(f, x):
    j = np.histogram2d(f.ravel(), x.ravel(), bins=256, range=[[0, 256], [0, 256]])[0] / f.size
    pf, px = j.sum(1), j.sum(0)
    nz = j > 0
    return np.sum(j[nz] * np.log2(j[nz] / np.outer(pf, px)[nz]))


def _gauss2d(n, sigma):
    x = np.arange(n) - (n - 1) / 2
    h = np.exp(-(x[:, None] ** 2 + x[None] ** 2) / (2 * sigma**2))
    return h / h.sum()


def _vif(ref, dist):
    num = den = 0.0
    for s in range(1, 5):
        n = 2 ** (5 - s) + 1
        w = _gauss2d(n, n / 5)
        if s > 1:
            ref, dist = convolve2d(ref, w, "valid")[::2, ::2], convolve2d(dist, w, "valid")[::2, ::2]
        m1, m2 = convolve2d(ref, w, "valid"), convolve2d(dist, w, "valid")
        s1 = np.maximum(convolve2d(ref * ref, w, "valid") - m1 * m1, 0)
        s2 = np.maximum(convolve2d(dist * dist, w, "valid") - m2 * m2, 0)
        s12 = convolve2d(ref * dist, w, "valid") - m1 * m2
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        g[s1 < 1e-10], sv[s1 < 1e-10], s1[s1 < 1e-10] = 0, s2[s1 < 1e-10], 0
        g[s2 < 1e-10], sv[s2 < 1e-10] = 0, 0
        sv[g < 0], g[g < 0] = s2[g < 0], 0
        sv[sv <= 1e-10] = 1e-10
        num += np.sum(np.log10(1 + g * g * s1 / (sv + 2)))
        den += np.sum(np.log10(1 + s1 / 2))
    v = num / den
    return 1.0 if math.isnan(v) else v


def _sobel(x):
    gx = convolve2d(x, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "same")
    gy = convolve2d(x, np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]), "same")
    a = np.full_like(x, math.pi / 2)
    a[gx != 0] = np.arctan(gy[gx != 0] / gx[gx != 0])
    return np.hypot(gx, gy), a


def _qabf(f, a, b):
    gf, af = _sobel(f)
    total = weight = 0.0
    for x in (a, b):
        gx, ax = _sobel(x)
        ratio = np.where(gx > gf, gf / np.where(gx > gf, gx, 1), np.where(gx < gf, gx / np.where(gx < gf, gf, 1), gf))
        q = 0.9994 / (1 + np.exp(-15 * (ratio - 0.5))) * 0.9879 / (1 + np.exp(-22 * (1 - np.abs(ax - af) / (math.pi / 2) - 0.8)))
        total, weight = total + np.sum(q * gx), weight + np.sum(gx)
    return total / weight


def _mss(x, y, data_range):
    w = _gauss2d(11, 1.5)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for level in range(5):
        m1, m2 = convolve2d(x, w, "valid"), convolve2d(y, w, "valid")
        s1 = convolve2d(x * x, w, "valid") - m1**2
        s2 = convolve2d(y * y, w, "valid") - m2**2
        s12 = convolve2d(x * y, w, "valid") - m1 * m2
        cs = (2 * s12 + c2) / (s1 + s2 + c2)
        if level < 4:
            vals.append(max(cs.mean(), 0))
            x, y = (np.pad(z, [(0, z.shape[0] % 2), (0, z.shape[1] % 2)]) for z in (x, y))
            x, y = (z.reshape(z.shape[0] // 2, 2, z.shape[1] // 2, 2).mean((1, 3)) for z in (x, y))
        else:
            vals.append(max((((2 * m1 * m2 + c1) / (m1**2 + m2**2 + c1)) * cs).mean(), 0))
    return float(np.prod(np.array(vals) ** np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])))


def baseline(f_rgb, a, b_rgb, f, b):
    """All metrics for one image, plain numpy/scipy; returns {group: seconds}."""
    from skimage.metrics import structural_similarity
    import colour

    t = {}
    lab = lambda im: colour.XYZ_to_Lab(colour.sRGB_to_XYZ(im / 255.0))  # noqa: E731
    jobs = {
        "EN": lambda: _en(f),
        "MI": lambda: _mi(f, a) + _mi(f, b),
        "VIF": lambda: _vif(a, f) + _vif(b, f),
        "Qabf": lambda: _qabf(f, a, b),
        "SSIM": lambda: [structural_similarity(f, x, data_range=r) for x in (a, b) for r in (2, 255)],
        "MSS": lambda: [_mss(x, f, r) for x in (a, b) for r in (1, 255)],
        "dE": lambda: colour.delta_E(lab(b_rgb), lab(f_rgb), method="CIE 2000").mean(),
    }
    for name, job in jobs.items():
        start = time.perf_counter()
        job()
        t[name] = time.perf_counter() - start
    return t


# ---- the project's implementation ----
def project(fused, ir, vis):
    """Seconds of each metric group for one image (gray/colour preparation counted in 'prepare')."""
    t = {}
    start = time.perf_counter()
    x = prepare_inputs(fused, ir, vis)
    t["prepare"] = time.perf_counter() - start
    for group, names in GROUPS.items():
        start = time.perf_counter()
        for name in names:
            METRICS[name](x)
        t[group] = time.perf_counter() - start
    return t, x


def _textured(h, w, seed):
    """Smooth random texture + noise, (h, w, 3) uint8: no flat regions the metrics would skip."""
    rng = np.random.default_rng(seed)
    low = cv2.resize(rng.random((h // 8, w // 8, 3)), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(np.round((0.8 * low + 0.2 * rng.random((h, w, 3))) * 255), 0, 255).astype(np.uint8)


def _report(title, fast, fast_images, slow, slow_images):
    print(f"\n{title}")
    print(f"{'metric':8s} {'project s/img':>14s} {'baseline s/img':>15s} {'speed-up':>9s}")
    rows = list(GROUPS) + ["prepare"]
    for name in rows:
        f = fast.get(name, 0.0) / fast_images
        s = slow.get(name, float("nan")) / slow_images if slow else float("nan")
        print(f"{name:8s} {f:14.4f} {s:15.4f} {s / f if f > 0 else float('nan'):9.1f}")
    f_all = sum(fast.values()) / fast_images
    s_all = sum(slow.values()) / slow_images if slow else float("nan")
    print(f"{'ALL':8s} {f_all:14.4f} {s_all:15.4f} {s_all / f_all:9.1f}")


def _add(total, part):
    for k, v in part.items():
        total[k] = total.get(k, 0.0) + v


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=16, help="480x640 images for the project's timing")
    p.add_argument("--baseline-images", type=int, default=2)
    args = p.parse_args()
    cv2.setNumThreads(1)
    reuse_freed_memory()  # as `ssvif metrics` and the fusion_metrics stage run
    print("one core (OpenCV 1 thread), one image at a time")

    if SHARED.is_dir():
        stems = sorted(q.stem for q in (SHARED / "vis").glob("*.jpg"))
        fast, slow, n_slow = {}, {}, 0
        for s in stems:
            t, x = project(read_rgb8(SHARED / "fused" / "SeAFusion" / f"{s}.jpg"),
                           read_rgb8(SHARED / "ir" / f"{s}.jpg"), read_rgb8(SHARED / "vis" / f"{s}.jpg"))
            _add(fast, t)
            if n_slow < args.baseline_images:
                _add(slow, baseline(x.fused_rgb, x.ir, x.vis_rgb, x.fused, x.vis))
                n_slow += 1
        _report(f"VIFB SeAFusion, {len(stems)} pairs (mixed sizes)", fast, len(stems), slow, n_slow)

    fast, slow = {}, {}
    for i in range(args.images):
        t, x = project(_textured(480, 640, 3 * i), _textured(480, 640, 3 * i + 1)[..., 0], _textured(480, 640, 3 * i + 2))
        _add(fast, t)
        if i < args.baseline_images:
            _add(slow, baseline(x.fused_rgb, x.ir, x.vis_rgb, x.fused, x.vis))
    _report(f"480x640, {args.images} images", fast, args.images, slow, args.baseline_images)


if __name__ == "__main__":
    main()
