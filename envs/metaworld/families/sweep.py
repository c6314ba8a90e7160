"""SawyerSweepEnvV3: sweep a puck off the table's edge, to a goal level with its start in y."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded
from .caging import xz_caging

OBJ_RADIUS = 0.02
PAD_SUCCESS = 0.05
TARGET_RADIUS = 0.05  # compute_reward's local _TARGET_RADIUS, also its success radius
GOAL = np.array([0.5, 0.65, 0.01])  # the class's goal; the task replaces its y


def sweep_caging(
    now: Physics, obj: np.ndarray, obj_init: np.ndarray, init_tcp: np.ndarray, grip_success: float, xz_success: float
) -> np.ndarray:
    """The sweeping classes' own _gripper_caging_reward (N,): the pads cage the object in y by signed
    distances (their margins from the pads' "initial" positions, which the env keeps as live views of
    MuJoCo's body positions since __init__, so the pads' positions now), the fingertips approach it
    in x and z; past a caging of 0.95 a tighter caging in y (to `grip_success`) adds, whatever the grip."""
    obj_y, left_y, right_y = obj[:, 1], now.left_pad[:, 1], now.right_pad[:, 1]
    right_margin = np.abs(np.abs(obj_y - right_y) - PAD_SUCCESS)
    left_margin = np.abs(np.abs(obj_y - left_y) - PAD_SUCCESS)
    to_right, to_left = obj_y - right_y, left_y - obj_y
    caging_y = hamacher_product(
        tolerance(to_right, OBJ_RADIUS, PAD_SUCCESS, right_margin),
        tolerance(to_left, OBJ_RADIUS, PAD_SUCCESS, left_margin),
    )
    gripping_y = hamacher_product(
        tolerance(to_right, OBJ_RADIUS, grip_success, right_margin),
        tolerance(to_left, OBJ_RADIUS, grip_success, left_margin),
    )
    caging = hamacher_product(caging_y, xz_caging(now, obj, obj_init, init_tcp, xz_success))
    result: np.ndarray = (caging + np.where(caging > 0.95, gripping_y, 0.0)) / 2
    return result


def swept_reward(grasped: np.ndarray, in_place: np.ndarray, to_target: np.ndarray) -> np.ndarray:
    """Both classes' v2 reward from the caging, the closeness to the target and the distance to it."""
    reward: np.ndarray = np.where(
        to_target < TARGET_RADIUS, 10.0, 2 * grasped + 6 * hamacher_product(grasped, in_place)
    )
    return reward


class Sweep(TaskFamily):
    """A puck (free body "obj" at qpos 9:12) placed at the task's x and y on the table."""

    name = "sweep"
    model_file = "sawyer_xyz/sawyer_sweep_v3.xml"
    fields = ("object",)
    low = (-0.1, 0.6, 0.02)
    high = (0.1, 0.7, 0.02)

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        scratch.reset_hand()
        obj_init = np.array([rand_vec[0], rand_vec[1], 0.02])  # the z of init_config's obj_init_pos
        target = GOAL.copy()
        target[1] = rand_vec[1]
        scratch.set_object(obj_init)
        scratch.model.site("goal").pos = target  # only drawn, never read
        return {"obj_init": obj_init, "target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        """The body's position and MuJoCo's own quaternion (w first), as the class observes them."""
        return padded(now.body("obj"), now.body_quat("obj"))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        obj, target, obj_init = observations[:, 4:7], episode["target"], episode["obj_init"]
        to_target = distance(obj, target)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(obj_init, target))
        grasped = sweep_caging(
            now, obj, obj_init, episode["init_tcp"], grip_success=OBJ_RADIUS + 0.01, xz_success=0.005
        )
        return swept_reward(grasped, in_place, to_target), to_target <= TARGET_RADIUS
