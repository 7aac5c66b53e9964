"""EN and MI from 8-bit histograms (docs/metrics.md)."""
from __future__ import annotations

import math

import numpy as np


def _entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a histogram of counts."""
    p = counts.astype(np.float64) / counts.sum()
    return float(-(p * np.log2(np.where(p > 0, p, 1.0))).sum())


def histogram(x: np.ndarray) -> np.ndarray:
    """Integer-valued 0..255 array -> (256,) counts."""
    return np.bincount(x.astype(np.intp).ravel(), minlength=256)


def joint_histogram(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Two same-shape arrays, values 0..255 -> (65536,) joint counts of (x, y)."""
    return np.bincount((x.astype(np.intp) * 256 + y.astype(np.intp)).ravel(), minlength=65536)


def entropy(f: np.ndarray) -> float:
    """EN: entropy in bits of the 256-bin histogram of gray F."""
    return _entropy_bits(histogram(f))


def mutual_information(f: np.ndarray, x: np.ndarray) -> float:
    """MI(F, X) = H(X) + H(F) - H(X, F) in bits."""
    return _entropy_bits(histogram(f)) + _entropy_bits(histogram(x)) - _entropy_bits(joint_histogram(f, x))


def mi_sum_bits(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """MI = MI(F, A) + MI(F, B) in bits (the toolkit's unit)."""
    return mutual_information(f, a) + mutual_information(f, b)


def bits_to_nats(bits: float) -> float:
    """CDDFuse's sklearn MI is in nats: nats = bits * ln 2."""
    return bits * math.log(2)
