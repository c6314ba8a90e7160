"""SawyerBasketballEnvV3: pick a ball up and drop it through a hoop."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded
from .caging import gripper_caging_reward_as_scalars

TARGET_RADIUS = 0.08  # the class's TARGET_RADIUS, also its success radius
TARGET_HEIGHT = 0.3  # the reward's target is the goal site's x and y at this height
Z_EMPHASIS = np.array([1.0, 1.0, 2.0])
BALL_HEIGHT = float(np.float32(0.03))  # obj_init_pos's z, float32 in init_config
NEAR = 0.035


class Basketball(TaskFamily):
    """The ball (free body "bsktball", qpos 9:12) at the first field's x and y, the hoop
    ("basket_goal") at the second field, its goal site ("goal") on the hoop's ring ("hooplink").

    reset_model keeps a live view of the goal site's world position as its target, and writes that
    position into the site's place in the model; but the site was compiled at its body's origin, so
    MuJoCo places it at the body's origin whatever its place says (mjSAMEFRAME_BODY): the target
    is the ring's position now, and the write changes nothing the episode reads."""

    name = "basketball"
    model_file = "sawyer_xyz/sawyer_basketball.xml"
    fields = ("ball", "basket")
    low = (-0.1, 0.6, 0.0299, -0.1, 0.85, 0.0)
    high = (0.1, 0.7, 0.0301, 0.1, 0.9 + 1e-7, 0.0)
    min_apart = 0.15
    # hand_init_pos is float32 there: the mocap is held at (0, 0.6, 0.2) so rounded
    hand_init = (0.0, float(np.float32(0.6)), float(np.float32(0.2)))
    model_fields = ("body_pos", "site_pos")  # the hoop's placement (and the site's, unread), each simulation its own

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        scratch.reset_hand()
        ball = np.array([rand_vec[0], rand_vec[1], BALL_HEIGHT])
        scratch.model.body("basket_goal").pos = rand_vec[3:]
        scratch.set_object(ball)
        scratch.model.site("goal").pos = scratch.data.site("goal").xpos
        return {"obj_init": ball, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.body("bsktball"), now.body_quat("bsktball"))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The target (and the margin from the ball's start to it) follows the goal site now. Where
        the caging came in the action's precision (and the ball is not held) the product and the bonus
        stay in it."""
        obj, obj_init = observations[:, 4:7], episode["obj_init"]
        target = np.hstack((now.site("goal")[:, :2], np.full((len(obj), 1), TARGET_HEIGHT)))
        to_target = np.linalg.norm((obj - target) * Z_EMPHASIS, axis=1)
        margin = np.linalg.norm((obj_init - target) * Z_EMPHASIS, axis=1)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=margin)
        grasped, single = gripper_caging_reward_as_scalars(
            actions, now, obj, obj_init, episode["init_tcp"],
            obj_radius=0.025, pad_success=0.06, reach_radius=0.01, xz_success=0.005, density="high",
        )  # fmt: skip
        lifted = (distance(obj, now.tcp) < NEAR) & (observations[:, 3] > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
        grasped = np.where(lifted, 1.0, grasped)
        kind = actions.dtype.type if np.issubdtype(actions.dtype, np.floating) else np.float64
        rounded = hamacher_product(grasped.astype(kind), in_place.astype(kind)).astype(np.float64)
        reward = np.where(single & ~lifted, rounded, hamacher_product(grasped, in_place))
        reward = np.where(lifted, reward + (1.0 + 5.0 * in_place), reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= TARGET_RADIUS
