"""SawyerDoorCloseEnvV3: push an open door shut."""

from __future__ import annotations

import numpy as np

from ..physics import Physics
from ..rewards import distance, tolerance
from .base import TARGET_RADIUS, Episode
from .door_open import SUCCESS_RADIUS, Door


def _float32(*values: float) -> tuple[float, float, float]:
    """Meta-World gives this class's hand start as float32: the same numbers, rounded so."""
    x, y, z = (float(v) for v in np.array(values, dtype=np.float32))
    return x, y, z


class DoorClose(Door):
    name = "door-close"
    hand_init = _float32(-0.5, 0.6, 0.2)
    target_offset = (0.2, -0.2, 0.0)
    start_angle = -1.5708  # the door starts open

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        obj, target = observations[:, 4:7], episode["target"]
        tcp_to_target = distance(now.tcp, target)
        obj_to_target = distance(obj, target)
        in_place = tolerance(
            obj_to_target, 0.0, TARGET_RADIUS, margin=distance(episode["obj_init"], target), sigmoid="gaussian"
        )
        # the hand's margin is measured from its start to where the handle is now
        hand_margin = distance(np.array(self.hand_init), obj) + 0.1
        hand_in_place = tolerance(tcp_to_target, 0.0, 0.25 * TARGET_RADIUS, margin=hand_margin, sigmoid="gaussian")
        reward = 3 * hand_in_place + 6 * in_place
        reward = np.where(obj_to_target < TARGET_RADIUS, 10.0, reward)
        return reward, obj_to_target <= SUCCESS_RADIUS
