"""SawyerButtonPressTopdownEnvV3: press a button down into its box from above."""

from __future__ import annotations

import mujoco
import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded

BUTTON_TOP = np.array([0.0, 0.0, 0.193])  # _get_pos_objects: from the button body's origin to its top
SUCCESS_DEPTH = 0.024  # how near the hole's height the button's top counts as pressed
NEAR = 0.03  # how near the fingertips must be for the pressing to count


class ButtonPressTopdown(TaskFamily):
    """The button box ("box", its button "button" sliding on qpos 9) put where the task's only field
    says; the target is the box's "hole" site, the press measured in z from its "buttonStart" site."""

    name = "button-press-topdown"
    model_file = "sawyer_xyz/sawyer_button_press_topdown.xml"
    fields = ("box",)
    low = (-0.1, 0.8, 0.115)
    high = (0.1, 0.9, 0.115)
    # hand_init_pos is float32 there: the mocap is held at (0, 0.4, 0.2) so rounded
    hand_init = (0.0, float(np.float32(0.4)), float(np.float32(0.2)))
    model_fields = ("body_pos",)  # the box's placement, each simulation its own

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """The hand's reset, the box moved in the model, then kinematics recomputed (the first
        frame and the sites read from them)."""
        scratch.reset_hand()
        scratch.model.body("box").pos = rand_vec
        mujoco.mj_forward(scratch.model, scratch.data)
        target = scratch.site("hole")
        press_margin = np.array(abs(target[2] - scratch.site("buttonStart")[2]))
        return {"target": target, "press_margin": press_margin, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.body("button") + BUTTON_TOP, now.body_quat("button"))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The reach's margin is measured from the button's top now (not at the start), as the source does."""
        button, tcp = observations[:, 4:7], now.tcp
        tcp_to_button = distance(button, tcp)
        depth_left = np.abs(episode["target"][:, 2] - button[:, 2])
        near = tolerance(tcp_to_button, 0.0, 0.01, margin=distance(button, episode["init_tcp"]))
        pressed = tolerance(depth_left, 0.0, 0.005, margin=episode["press_margin"])
        reward = 5 * hamacher_product(1 - observations[:, 3], near)
        reward = np.where(tcp_to_button <= NEAR, reward + 5 * pressed, reward)
        return reward, depth_left <= SUCCESS_DEPTH
