"""SawyerPickPlaceEnvV3: pick a puck up and hold it at a goal in the air."""

from __future__ import annotations

import numpy as np

from ..physics import Physics
from ..rewards import distance, hamacher_product, tolerance
from .base import TARGET_RADIUS, Episode
from .caging import caging_and_gripping
from .reach import SawyerObject

SUCCESS_RADIUS = 0.07


class PickPlace(SawyerObject):
    name = "pick-place"
    model_file = "sawyer_xyz/sawyer_pick_place_v3.xml"

    def caging(self, now: Physics, episode: Episode, actions: np.ndarray) -> np.ndarray:
        """SawyerPickPlaceEnvV3._gripper_caging_reward, its own version. Its margins read the
        pads' "initial" positions, which its reset stores as live views of MuJoCo's body
        positions (gymnasium's get_body_com): so they are the pads' positions now, as here."""
        pad_success, obj_radius, xz_success = 0.05, 0.015, 0.005
        obj = now.body("obj")
        obj_y = obj[:, 1]
        right_margin = np.abs(np.abs(obj_y - now.right_pad[:, 1]) - pad_success)
        left_margin = np.abs(np.abs(obj_y - now.left_pad[:, 1]) - pad_success)
        right = tolerance(obj_y - now.right_pad[:, 1], obj_radius, pad_success, right_margin)
        left = tolerance(now.left_pad[:, 1] - obj_y, obj_radius, pad_success, left_margin)
        caging_y = hamacher_product(left, right)
        return caging_and_gripping(
            caging_y, actions, now, obj, episode["obj_init"], episode["init_tcp"],
            reach_radius=0.01, xz_success=xz_success, density="high",
        )  # fmt: skip

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        obj, target, obj_init = now.body("obj"), episode["target"], episode["obj_init"]
        to_target = distance(obj, target)
        tcp_to_obj = distance(obj, now.tcp)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(obj_init, target))
        reward = hamacher_product(self.caging(now, episode, actions), in_place)
        lifted = (tcp_to_obj < 0.02) & (now.gripper_open > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
        reward = np.where(lifted, reward + (1.0 + 5.0 * in_place), reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= SUCCESS_RADIUS
