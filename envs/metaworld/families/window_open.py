"""SawyerWindowOpenEnvV3: slide a window open sideways by its handle."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import hamacher_product, tolerance
from .base import TARGET_RADIUS, Episode, TaskFamily, no_quaternion, padded
from .caging import reach_term

SLIDE = np.array([0.2, 0.0, 0.0])  # the target: the window's start moved this far along x
HANDLE_RADIUS = 0.02


class WindowOpen(TaskFamily):
    """The window of sawyer_window_horizontal.xml ("window", sliding on joint "window_slide"),
    its handle the site "handleOpenStart"."""

    name = "window-open"
    model_file = "sawyer_xyz/sawyer_window_horizontal.xml"
    fields = ("window",)
    low = (-0.1, 0.7, 0.16)
    high = (0.1, 0.9, 0.16)
    hand_init = (0.0, float(np.float32(0.4)), float(np.float32(0.2)))  # hand_init_pos is float32 there
    model_fields = ("body_pos",)  # the window's placement, each simulation its own

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """reset_model moves the window in the model and zeroes its slide without recomputing
        kinematics: the handle's "initial" position, and the first frame, are those the hand's
        reset left (in this run, the window already where the run before put it)."""
        scratch.reset_hand()
        target = rand_vec + SLIDE
        scratch.model.body("window").pos = rand_vec
        handle_init = scratch.site("handleOpenStart")
        scratch.data.qpos[int(scratch.model.joint("window_slide").qposadr[0])] = 0.0
        return {"obj_init": rand_vec.copy(), "target": target, "handle_init": handle_init, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.site("handleOpenStart"), no_quaternion(now.n))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        handle, target = now.site("handleOpenStart"), episode["target"]
        to_target = np.abs(handle[:, 0] - target[:, 0])
        in_place_margin = np.abs(np.abs(episode["obj_init"][:, 0] - target[:, 0]) - TARGET_RADIUS)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=in_place_margin)
        reach = reach_term(now, handle, episode["handle_init"], episode["init_tcp"], HANDLE_RADIUS)
        return 10 * hamacher_product(reach, in_place), to_target <= TARGET_RADIUS
