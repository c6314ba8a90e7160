"""SawyerPushEnvV3: push a puck along the table to a goal."""

from __future__ import annotations

import numpy as np

from ..physics import Physics
from ..rewards import distance, tolerance
from .base import TARGET_RADIUS, Episode
from .caging import gripper_caging_reward
from .reach import SawyerObject


class Push(SawyerObject):
    name = "push"
    model_file = "sawyer_xyz/sawyer_push_v3.xml"
    low = (-0.1, 0.6, 0.02, -0.1, 0.8, 0.01)
    high = (0.1, 0.7, 0.02, 0.1, 0.9, 0.02)

    def placement(self, rand_vec: np.ndarray, resting_height: float) -> tuple[np.ndarray, np.ndarray]:
        """Both at the height the puck rests at after the hand's reset, x and y from the task."""
        return np.append(rand_vec[:2], resting_height), np.append(rand_vec[3:5], resting_height)

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        obj, tcp, target = now.body("obj"), now.tcp, episode["target"]
        tcp_to_obj = distance(obj, tcp)
        to_target = distance(obj, target)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(episode["obj_init"], target))
        caging = gripper_caging_reward(
            actions, now, obj, episode["obj_init"], episode["init_tcp"],
            obj_radius=0.015, pad_success=0.05, reach_radius=0.01, xz_success=0.005, density="high",
        )  # fmt: skip
        reward = 2 * caging
        near = (tcp_to_obj < 0.02) & (now.gripper_open > 0)
        reward = np.where(near, reward + (1.0 + reward + 5.0 * in_place), reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= TARGET_RADIUS
