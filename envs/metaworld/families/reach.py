"""SawyerReachEnvV3: bring the fingertips to a goal in the air; the object only stands by."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, tolerance
from .base import TARGET_RADIUS, Episode, TaskFamily, padded, quaternions


class SawyerObject(TaskFamily):
    """Reach, push and pick-place: one free object ("obj", geom "objGeom") at qpos 9:12, placed
    from the rand_vec's first field, and a goal at least 0.15 away from it in x and y."""

    low = (-0.1, 0.6, 0.02, -0.1, 0.8, 0.05)
    high = (0.1, 0.7, 0.02, 0.1, 0.9, 0.3)
    min_apart = 0.15

    def placement(self, rand_vec: np.ndarray, resting_height: float) -> tuple[np.ndarray, np.ndarray]:
        """(object's start, target) of a task: its fields as they are."""
        return rand_vec[:3].copy(), rand_vec[3:].copy()

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        scratch.reset_hand()
        obj_init, target = self.placement(rand_vec, float(scratch.body("obj")[2]))
        scratch.set_object(obj_init)
        return {"obj_init": obj_init, "target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.body("obj"), quaternions(now.geom_matrix("objGeom")))


class Reach(SawyerObject):
    name = "reach"
    model_file = "sawyer_xyz/sawyer_reach_v3.xml"

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        to_target = distance(now.tcp, episode["target"])
        in_place = tolerance(
            to_target, 0.0, TARGET_RADIUS, margin=distance(np.array(self.hand_init), episode["target"])
        )
        return 10 * in_place, to_target <= TARGET_RADIUS
