"""SawyerSweepIntoGoalEnvV3: sweep a puck across the table into a hole."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, tolerance
from .base import Episode
from .reach import SawyerObject
from .sweep import OBJ_RADIUS, TARGET_RADIUS, sweep_caging, swept_reward

HOLE = np.array([0.0, 0.84, 0.02])  # the class's goal: the target whatever the task's goal field says
MIN_APART = 0.15


class SweepInto(SawyerObject):
    """The puck placed at the task's x and y, at the height it rests at after the hand's reset; the
    rand_vec's goal field is drawn but never used, the redraw rule compares the puck with the hole."""

    name = "sweep-into"
    model_file = "sawyer_xyz/sawyer_table_with_hole.xml"
    low = (-0.1, 0.6, 0.02, -0.001, 0.8399, 0.0199)
    high = (0.1, 0.7, 0.02, 0.001, 0.8401, 0.0201)

    def acceptable(self, rand_vec: np.ndarray) -> bool:
        return bool(np.linalg.norm(rand_vec[:2] - HOLE[:2]) >= MIN_APART)

    def placement(self, rand_vec: np.ndarray, resting_height: float) -> tuple[np.ndarray, np.ndarray]:
        return np.append(rand_vec[:2], resting_height), HOLE.copy()

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        episode = super().reset(scratch, rand_vec)
        scratch.model.site("goal").pos = HOLE  # the same every episode, and only drawn
        return episode

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The target is the hole at the puck's own height now, in the margin as well."""
        obj, obj_init = observations[:, 4:7], episode["obj_init"]
        target = np.hstack((episode["target"][:, :2], obj[:, 2:3]))
        to_target = distance(obj, target)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(obj_init, target))
        grasped = sweep_caging(
            now, obj, obj_init, episode["init_tcp"], grip_success=OBJ_RADIUS + 0.005, xz_success=0.01
        )
        return swept_reward(grasped, in_place, to_target), to_target <= TARGET_RADIUS
