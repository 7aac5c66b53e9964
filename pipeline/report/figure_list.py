"""Captions of the figures the figures stage writes, by file (pipeline.layout.FIGURE_FILES); the README links them."""
from __future__ import annotations

from pipeline.layout import FIGURE_FILES

CAPTIONS = {
    "segmentation": "Fig. 3: segmentation labels and predictions per method (FMB, MSRS)",
    "fusion": "Fig. 4: source images and fused images per method (FMB, MSRS)",
    "detection": "Figs. 5/6: detections per method on M3FD",
    "training_curves": "Training losses per epoch of the headline runs (stage switch marked)",
    "w_csc": "Weight w_csc of L_csc over epochs for each weighting method (Table III ii)",
    "alpha_cf": "Projection coefficient alpha_cf per stage-II epoch of the headline FMB run (Sec. IV-F)",
}
# (file name, caption) in the README's order.
FIGURES: tuple[tuple[str, str], ...] = tuple((FIGURE_FILES[k], caption) for k, caption in CAPTIONS.items())
