"""SawyerLeverPullEnvV3: lift a lever, pivoting about its axle, until it points straight up."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded, quaternions

LEVER_RADIUS = 0.2
SHOULDER_OFFSET = np.array([0.0, 0.055, 0.07])  # from the hand to the arm's part that should get under the lever
SHOULDER_SCALE = np.array([4.0, 1.0, 4.0])  # y errors count less: the arm comes in from below the lever


class LeverPull(TaskFamily):
    name = "lever-pull"
    model_file = "sawyer_xyz/sawyer_lever_pull.xml"
    fields = ("lever",)
    low = (-0.1, 0.7, 0.0)
    high = (0.1, 0.8, 0.0)
    hand_init = (0.0, float(np.float32(0.4)), float(np.float32(0.2)))  # float32 in Meta-World
    hand_low = (-0.5, 0.40, -0.15)
    hand_high = (0.5, 1.0, 0.5)
    model_fields = ("body_pos", "site_pos")  # the lever's placement; the goal site along with it

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        scratch.reset_hand()
        obj_init = rand_vec.copy()
        # no mj_forward follows: the first observation sees the lever where it stood before the move
        scratch.model.body("lever").pos = obj_init
        lever_init = obj_init + np.array([0.12, -LEVER_RADIUS, 0.25])
        target = obj_init + np.array([0.12, 0.0, 0.25 + LEVER_RADIUS])
        scratch.model.site("goal").pos = target
        return {"lever_init": lever_init, "target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.site("leverStart"), quaternions(now.geom_matrix("objGeom")))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        hand, lever = observations[:, :3], observations[:, 4:7]
        lever_init, target = episode["lever_init"], episode["target"]
        shoulder_to_lever = (hand + SHOULDER_OFFSET - lever) * SHOULDER_SCALE
        shoulder_to_lever_init = (episode["init_tcp"] + SHOULDER_OFFSET - lever_init) * SHOULDER_SCALE
        ready_to_lift = tolerance(
            np.linalg.norm(shoulder_to_lever, axis=1), 0.0, 0.02, margin=np.linalg.norm(shoulder_to_lever_init, axis=1)
        )
        in_place = tolerance(distance(lever, target), 0.0, 0.04, margin=distance(lever_init, target))
        lever_error = np.abs(-now.joint("LeverAxis") - np.pi / 2.0)
        return 10.0 * hamacher_product(ready_to_lift, in_place), lever_error <= np.pi / 24
