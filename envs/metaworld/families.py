"""The Meta-World task families rlmaml offers: where a task puts the object and the goal,
and the v2 reward and success of each, on arrays (one row per sub-env).

Written from the definitions of Meta-World 3.1.1's SawyerReachEnvV3, SawyerPushEnvV3 and
SawyerPickPlaceEnvV3. A task is Meta-World's `rand_vec` split in two: `object` (3) and `goal`
(3), drawn uniformly from the family's boxes. Reach and pick-place use both as they are;
push keeps their x and y and sets both heights to where the puck rests after the reset.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .rewards import distance, hamacher_product, tolerance

TARGET_RADIUS = 0.05  # Meta-World's SawyerXYZEnv.TARGET_RADIUS
MIN_OBJECT_TO_GOAL = 0.15  # Meta-World's resets redraw until object and goal are this far apart in x, y


@dataclass(frozen=True)
class Readout:
    """What the reward needs of a step's physics, per sub-env (N rows)."""

    tcp: np.ndarray  # (N, 3) between the two fingertips
    gripper_open: np.ndarray  # (N,) the fingers' distance apart over 0.1, clipped to [0, 1] (observation 3)
    obj: np.ndarray  # (N, 3) the object's position (observation 4:7)
    left_pad: np.ndarray  # (N, 3)
    right_pad: np.ndarray  # (N, 3)


@dataclass(frozen=True)
class Start:
    """What a family's reward remembers of the reset: per sub-env, where the object started
    and the goal; per family, where the fingertips were after the hand's reset."""

    obj: np.ndarray  # (N, 3)
    target: np.ndarray  # (N, 3)
    tcp: np.ndarray  # (3,)

    def take(self, rows: np.ndarray) -> Start:
        """The sub-envs `rows` of this start."""
        return Start(self.obj[rows], self.target[rows], self.tcp)


class Family(ABC):
    """One Meta-World environment class as a task family."""

    name: str  # rlmaml's name, e.g. "pick-place"
    model_file: str  # under metaworld's assets
    object_low: tuple[float, float, float]
    object_high: tuple[float, float, float]
    goal_low: tuple[float, float, float]
    goal_high: tuple[float, float, float]
    hand_init = np.array([0.0, 0.6, 0.2])  # where the hand's reset takes the mocap
    mocap_low = np.array([-0.5, 0.40, 0.05])  # the families' hand_low, which bounds the mocap
    mocap_high = np.array([0.5, 1.0, 0.5])
    success_radius = TARGET_RADIUS

    def placement(self, objects: np.ndarray, goals: np.ndarray, resting_height: float) -> tuple[np.ndarray, np.ndarray]:
        """(object's start, target) per sub-env from the tasks' object and goal fields (N, 3)."""
        return objects.copy(), goals.copy()

    @abstractmethod
    def reward_and_success(self, now: Readout, start: Start, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The v2 reward (N,) and whether the step succeeds (N,) bool; `actions` as the env got them."""


class Reach(Family):
    name = "reach"
    model_file = "sawyer_xyz/sawyer_reach_v3.xml"
    object_low, object_high = (-0.1, 0.6, 0.02), (0.1, 0.7, 0.02)
    goal_low, goal_high = (-0.1, 0.8, 0.05), (0.1, 0.9, 0.3)

    def reward_and_success(self, now: Readout, start: Start, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_target = distance(now.tcp, start.target)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(self.hand_init, start.target))
        return 10 * in_place, to_target <= self.success_radius


def grasp_reward(caging_y: np.ndarray, now: Readout, start: Start, actions: np.ndarray) -> np.ndarray:
    """Meta-World's caging-and-gripping reward (its dense form), from how well the pads cage the
    object in y: the fingertips over the object in x and z, softly and-ed with that, then the
    grip asked for (the action's clipped fourth number) once the caging exceeds 0.97."""
    xz, xz_success = [0, 2], 0.005
    xz_margin = distance(start.obj[:, xz], start.tcp[xz]) - xz_success
    caging_xz = tolerance(distance(now.tcp[:, xz], now.obj[:, xz]), 0.0, xz_success, xz_margin)
    caging = hamacher_product(caging_y, caging_xz)
    effort = np.minimum(np.maximum(0, actions[:, -1]), 1).astype(np.float64)
    gripping = np.where(caging > 0.97, effort, 0.0)
    reward: np.ndarray = (hamacher_product(caging, gripping) + caging) / 2
    return reward


class Push(Family):
    name = "push"
    model_file = "sawyer_xyz/sawyer_push_v3.xml"
    object_low, object_high = (-0.1, 0.6, 0.02), (0.1, 0.7, 0.02)
    goal_low, goal_high = (-0.1, 0.8, 0.01), (0.1, 0.9, 0.02)

    def placement(self, objects: np.ndarray, goals: np.ndarray, resting_height: float) -> tuple[np.ndarray, np.ndarray]:
        heights = np.full((len(objects), 1), resting_height)
        return np.hstack((objects[:, :2], heights)), np.hstack((goals[:, :2], heights))

    def caging(self, now: Readout, start: Start, actions: np.ndarray) -> np.ndarray:
        """SawyerXYZEnv._gripper_caging_reward as push calls it (high density): margins from
        the puck's start."""
        obj_radius, pad_success = 0.015, 0.05
        pads_y = np.stack((now.left_pad[:, 1], now.right_pad[:, 1]), axis=1)
        pads_to_obj = np.abs(pads_y - now.obj[:, 1:2])
        margins = np.abs(np.abs(pads_y - start.obj[:, 1:2]) - pad_success)
        sides = tolerance(pads_to_obj, obj_radius, pad_success, margins)
        return grasp_reward(hamacher_product(sides[:, 0], sides[:, 1]), now, start, actions)

    def reward_and_success(self, now: Readout, start: Start, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tcp_to_obj = distance(now.obj, now.tcp)
        to_target = distance(now.obj, start.target)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(start.obj, start.target))
        reward = 2 * self.caging(now, start, actions)
        near = (tcp_to_obj < 0.02) & (now.gripper_open > 0)
        reward = np.where(near, reward + (1.0 + reward + 5.0 * in_place), reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= self.success_radius


class PickPlace(Family):
    name = "pick-place"
    model_file = "sawyer_xyz/sawyer_pick_place_v3.xml"
    object_low, object_high = (-0.1, 0.6, 0.02), (0.1, 0.7, 0.02)
    goal_low, goal_high = (-0.1, 0.8, 0.05), (0.1, 0.9, 0.3)
    success_radius = 0.07

    def caging(self, now: Readout, start: Start, actions: np.ndarray) -> np.ndarray:
        """SawyerPickPlaceEnvV3._gripper_caging_reward: its own version. Its margins read the
        pads' "initial" positions, which its reset stores as live views of MuJoCo's body
        positions (gymnasium's get_body_com): so they are the pads' positions now, as here."""
        pad_success, obj_radius = 0.05, 0.015
        obj_y = now.obj[:, 1]
        right_margin = np.abs(np.abs(obj_y - now.right_pad[:, 1]) - pad_success)
        left_margin = np.abs(np.abs(obj_y - now.left_pad[:, 1]) - pad_success)
        right = tolerance(obj_y - now.right_pad[:, 1], obj_radius, pad_success, right_margin)
        left = tolerance(now.left_pad[:, 1] - obj_y, obj_radius, pad_success, left_margin)
        return grasp_reward(hamacher_product(left, right), now, start, actions)

    def reward_and_success(self, now: Readout, start: Start, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        to_target = distance(now.obj, start.target)
        tcp_to_obj = distance(now.obj, now.tcp)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=distance(start.obj, start.target))
        reward = hamacher_product(self.caging(now, start, actions), in_place)
        lifted = (tcp_to_obj < 0.02) & (now.gripper_open > 0) & (now.obj[:, 2] - 0.01 > start.obj[:, 2])
        reward = np.where(lifted, reward + (1.0 + 5.0 * in_place), reward)
        reward = np.where(to_target < TARGET_RADIUS, 10.0, reward)
        return reward, to_target <= self.success_radius


FAMILIES: dict[str, Family] = {family.name: family for family in (Reach(), Push(), PickPlace())}


def family_named(name: str) -> Family:
    """The family called `name`; ValueError listing the families on offer."""
    if name not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {name!r}")
    return FAMILIES[name]
