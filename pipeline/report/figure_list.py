"""Names and captions of the figures the figures stage writes (the README links them)."""
from __future__ import annotations

FIGURES: tuple[tuple[str, str], ...] = (
    ("fig3_segmentation.png", "Fig. 3: segmentation labels and predictions per method (FMB, MSRS)"),
    ("fig4_fusion.png", "Fig. 4: source images and fused images per method (FMB, MSRS)"),
    ("fig5_detection.png", "Figs. 5/6: detections per method on M3FD"),
    ("training_curves.png", "Training losses per epoch of the headline runs (stage switch marked)"),
    ("w_csc.png", "Weight w_csc of L_csc over epochs for each weighting method (Table III ii)"),
    ("alpha_cf.png", "Projection coefficient alpha_cf per stage-II epoch of the headline FMB run (Sec. IV-F)"),
)
