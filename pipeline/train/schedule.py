"""The stage schedule of Sec. III-C: when stage II (Eq. 2's L_fus + w_csc L_csc) begins.

The one place of the stage-II rule: the trainer asks :meth:`StageSchedule.next_stage` for the
stage of every epoch, and the run record (config.json) quotes :data:`STAGE_SCHEDULE_NOTE`.
"""
from __future__ import annotations

from dataclasses import dataclass

STAGE_SCHEDULE_NOTE = (
    "stage I trains the fusion model alone with L_fus (Fig. 2 (a)); head H and SegFormer S join in stage II, "
    "which starts after the first epoch whose mean L_fus rises (or after train.stage_one_max_epochs epochs when > 0)"
)


def stage_two_starts(fusion_means: list[float]) -> bool:
    """Sec. III-C: stage I ends when the epoch-mean L_fus first rises, L^j > L^{j-1}."""
    return len(fusion_means) >= 2 and fusion_means[-1] > fusion_means[-2]


@dataclass(frozen=True)
class StageSchedule:
    """Stage 1 or 2 of each epoch, from the completed epochs alone (so a resumed run agrees).

    csc=False: stage I throughout (no L_csc). two_stage=False: stage II from the first epoch
    (the "w/o 2-stage" ablation). Otherwise stage I until the paper's rule fires, or until
    `stage_one_max_epochs` stage-I epochs (0: no limit); stage II never ends.
    """

    csc: bool
    two_stage: bool
    stage_one_max_epochs: int = 0

    @classmethod
    def of(cls, config) -> "StageSchedule":
        return cls(config.csc, config.two_stage, config.stage_one_max_epochs)

    @property
    def final_stage(self) -> int:
        """The stage the run ends in: model selection and early stopping act within it."""
        return 2 if self.csc else 1

    def next_stage(self, history: list[dict]) -> int:
        """Stage of the epoch after the completed `history` rows (each with "stage", "loss_fus")."""
        if not self.csc:
            return 1
        if not self.two_stage or (history and history[-1]["stage"] == 2):
            return 2
        means = [row["loss_fus"] for row in history]  # all stage-I epochs
        limit = self.stage_one_max_epochs
        return 2 if stage_two_starts(means) or (limit and len(means) >= limit) else 1
