"""SawyerDrawerOpenEnvV3: pull a drawer out of a nightstand by its handle; and the drawer
both it and drawer-close (SawyerDrawerCloseEnvV3) share."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, tolerance
from .base import Episode, TaskFamily, padded

MAX_PULL = 0.2  # SawyerDrawerOpenEnvV3.maxDist: how far the drawer opens
XY_EMPHASIS = np.array([3.0, 3.0, 1.0])  # the reach's error weights, x and y above z
SUCCESS_ERROR = 0.03


class Drawer(TaskFamily):
    """The nightstand of sawyer_drawer.xml ("drawer", its sliding "drawer_link" on joint
    "goal_slidey", qpos 9), put where the task's only field says; the objects part observes
    the handle, a fixed offset from the sliding body."""

    model_file = "sawyer_xyz/sawyer_drawer.xml"
    fields = ("drawer",)
    low = (-0.1, 0.9, 0.0)
    high = (0.1, 0.9, 0.0)
    # hand_init_pos is float32 there: the hand's reset holds the mocap at (0, 0.6, 0.2) so rounded
    hand_init = (0.0, float(np.float32(0.6)), float(np.float32(0.2)))
    model_fields = ("body_pos",)  # the nightstand's placement, each simulation its own
    handle_offset = np.array([0.0, -0.16, 0.0])  # from drawer_link's origin to the handle

    def place(self, scratch: Scratch, rand_vec: np.ndarray) -> None:
        """The start both reset_models share: the hand's reset, then the nightstand moved in the
        model (kinematics not recomputed: the first frame reads them as the hand's reset left them)."""
        scratch.reset_hand()
        scratch.model.body("drawer").pos = rand_vec

    def handle(self, now: Physics) -> np.ndarray:
        """_get_pos_objects: the handle's position (N, 3)."""
        position: np.ndarray = now.body("drawer_link") + self.handle_offset
        return position


class DrawerOpen(Drawer):
    name = "drawer-open"

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        self.place(scratch, rand_vec)
        target = rand_vec + np.array([0.0, -0.16 - MAX_PULL, 0.09])
        return {"target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(self.handle(now), now.body_quat("drawer_link"))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        gripper, handle, target = observations[:, :3], observations[:, 4:7], episode["target"]
        handle_error = distance(handle, target)
        opening = tolerance(handle_error, 0.0, 0.02, margin=MAX_PULL)
        # the closed drawer's handle, which the reach's margin is measured from
        handle_init = target + np.array([0.0, MAX_PULL, 0.0])
        reach_error = np.linalg.norm((handle - gripper) * XY_EMPHASIS, axis=1)
        reach_margin = np.linalg.norm((handle_init - episode["init_tcp"]) * XY_EMPHASIS, axis=1)
        caging = tolerance(reach_error, 0.0, 0.01, margin=reach_margin)
        return 5.0 * (caging + opening), handle_error <= SUCCESS_ERROR
