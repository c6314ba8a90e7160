"""SawyerDrawerCloseEnvV3: push an open drawer shut."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import TARGET_RADIUS, Episode, no_quaternion, padded
from .drawer_open import Drawer

OPENED = 0.15  # SawyerDrawerCloseEnvV3.maxDist: how far out the drawer starts
# The class sets _TARGET_RADIUS = 0.04 but reads TARGET_RADIUS, SawyerXYZEnv's 0.05.
SUCCESS_RADIUS = TARGET_RADIUS + 0.015
HANDLE_REACH_RADIUS = 0.005


class DrawerClose(Drawer):
    name = "drawer-close"
    handle_offset = np.array([0.0, -0.16, 0.05])

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """The drawer pulled out: its own _set_obj_xyz sets qpos 9 alone, keeping the velocities."""
        self.place(scratch, rand_vec)
        target = rand_vec + np.array([0.0, -0.16, 0.09])
        qpos = scratch.data.qpos.copy()
        qpos[9] = -OPENED
        scratch.set_state(qpos, scratch.data.qvel.copy())
        obj_init = self.handle(scratch.physics())[0]
        return {"target": target, "obj_init": obj_init, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(self.handle(now), no_quaternion(now.n))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        obj, target, obj_init = observations[:, 4:7], episode["target"], episode["obj_init"]
        to_target = distance(obj, target)
        in_place_margin = np.abs(distance(obj_init, target) - TARGET_RADIUS)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=in_place_margin)
        reach_margin = np.abs(distance(obj_init, episode["init_tcp"]) - HANDLE_REACH_RADIUS)
        reach = tolerance(distance(obj, now.tcp), 0.0, HANDLE_REACH_RADIUS, reach_margin, sigmoid="gaussian")
        done = to_target <= SUCCESS_RADIUS
        return np.where(done, 10.0, self.gripped_in_place(reach, in_place, actions[:, -1])), done

    @staticmethod
    def gripped_in_place(reach: np.ndarray, in_place: np.ndarray, grip: np.ndarray) -> np.ndarray:
        """10 * hamacher(hamacher(reach, grip clipped to [0, 1]), in_place) as Meta-World's scalars
        compute it: a grip in (0, 1] stays the action's numpy scalar, so both products and the
        scaling run in the action's precision (float32 for float32 actions); outside, min and max
        hand back Python's 0 or 1 and they run in float64."""
        precise = (10 * hamacher_product(hamacher_product(reach, np.clip(grip, 0, 1)), in_place)).astype(np.float64)
        kind = grip.dtype.type if np.issubdtype(grip.dtype, np.floating) else np.float64
        rounded = kind(10) * hamacher_product(hamacher_product(reach.astype(kind), grip), in_place.astype(kind))
        result: np.ndarray = np.where((grip > 0) & (grip <= 1), rounded.astype(np.float64), precise)
        return result
