"""SawyerShelfPlaceEnvV3: pick a block up and put it on a shelf."""

from __future__ import annotations

import mujoco
import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded, quaternions
from .caging import gripper_caging_reward_as_scalars

TARGET_RADIUS = 0.05  # compute_reward's local _TARGET_RADIUS
SUCCESS_RADIUS = 0.07
SHELF_DROP = 0.3  # the shelf stands this far below the task's goal field
FRONT = 3 * TARGET_RADIUS  # the depth in front of the target where a low block is penalised
LOW = 0.24  # below this height the block is under the shelf's top
HALF_WIDTH = 0.15  # the x range about the target that the penalties cover


class ShelfPlace(TaskFamily):
    """A block (free body "obj", geom "objGeom", qpos 9:12) at the task's first field's x and y, at the
    height it stands at after the hand's reset; the shelf ("shelf") under the second field."""

    name = "shelf-place"
    model_file = "sawyer_xyz/sawyer_shelf_placing.xml"
    low = (-0.1, 0.5, 0.019, -0.1, 0.8, 0.299)
    high = (0.1, 0.6, 0.021, 0.1, 0.9, 0.301)
    min_apart = 0.1
    # hand_init_pos is float32 there: the mocap is held at (0, 0.6, 0.2) so rounded
    hand_init = (0.0, float(np.float32(0.6)), float(np.float32(0.2)))
    model_fields = ("body_pos",)  # the shelf's placement, each simulation its own

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """The block's height is read after the hand's reset (kinematics of the state before its last
        step); the target is the goal site's place in the shelf plus the shelf's, from the model."""
        scratch.reset_hand()
        obj_init = np.append(rand_vec[:2], scratch.body("obj")[2])
        shelf = rand_vec[3:] - np.array([0.0, 0.0, SHELF_DROP])
        scratch.model.body("shelf").pos = shelf
        mujoco.mj_forward(scratch.model, scratch.data)
        target = scratch.model.site("goal").pos + scratch.model.body("shelf").pos
        scratch.set_object(obj_init)
        scratch.data.site("goal").xpos = target  # _set_pos_site: until the next kinematics only
        return {"obj_init": obj_init, "target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.body("obj"), quaternions(now.geom_matrix("objGeom")))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The reward's product takes the closeness before the penalties for a block low in front of
        the shelf or behind the target; only the lifted bonus sees them. Where the caging came in the
        action's precision the product and the bonus stay in it, except a bonus from a penalised
        closeness (a numpy float64 there)."""
        obj, target, obj_init = observations[:, 4:7], episode["target"], episode["obj_init"]
        to_target = distance(obj, target)
        tcp_to_obj = distance(obj, now.tcp)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(obj_init, target))
        grasped, single = gripper_caging_reward_as_scalars(
            actions, now, obj, obj_init, episode["init_tcp"],
            obj_radius=0.02, pad_success=0.05, reach_radius=0.01, xz_success=0.01,
        )  # fmt: skip
        kind = actions.dtype.type if np.issubdtype(actions.dtype, np.floating) else np.float64
        rounded = hamacher_product(grasped.astype(kind), in_place.astype(kind)).astype(np.float64)
        reward = np.where(single, rounded, hamacher_product(grasped, in_place))
        x, y, z = obj[:, 0], obj[:, 1], obj[:, 2]
        beside = (z > 0.0) & (z < LOW) & (target[:, 0] - HALF_WIDTH < x) & (x < target[:, 0] + HALF_WIDTH)
        front = target[:, 1] - FRONT
        in_front = beside & (front < y) & (y < target[:, 1])
        y_scaling = np.where(in_front, (y - front) / FRONT, 0.0)
        z_scaling = np.where(in_front, (LOW - z) / LOW, 0.0)
        penalised = np.clip(in_place - hamacher_product(y_scaling, z_scaling), 0.0, 1.0)
        in_place = np.where(in_front, penalised, in_place)
        in_place = np.where(beside & (y > target[:, 1]), 0.0, in_place)
        lifted = (tcp_to_obj < 0.025) & (observations[:, 3] > 0) & (z - 0.01 > obj_init[:, 2])
        bonus = 1.0 + 5.0 * in_place
        rounded_sum = (reward.astype(kind) + bonus.astype(kind)).astype(np.float64)
        lifted_reward = np.where(single & ~in_front, rounded_sum, reward + bonus)
        reward = np.where(lifted, lifted_reward, reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= SUCCESS_RADIUS
