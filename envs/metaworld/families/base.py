"""What a Meta-World task family is to rlmaml: the draws of its reset, the reset itself, the
objects its observation shows, and its v2 reward and success, on arrays (one row per simulation).

A family is written from its Meta-World 3.1.1 class (SawyerXYZEnv subclass): `reset` runs on a
`Scratch` exactly as that class's reset_model does (hand reset included) and returns the
episode's constants the reward reads; `objects` is its _get_pos_objects / _get_quat_objects;
`reward_and_success` its compute_reward and evaluate_state's success, given the clipped
observation as Meta-World gives it. A task is the family's `rand_vec`, split into named
three-number fields.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..physics import Physics, Scratch

TARGET_RADIUS = 0.05  # SawyerXYZEnv.TARGET_RADIUS
OBJECTS_WIDTH = 14  # Meta-World's _obs_obj_max_len: two objects' position and quaternion
Episode = dict[str, np.ndarray]  # a family's per-episode constants, (N, ...) each


class TaskFamily(ABC):
    """One Meta-World environment class as a task family."""

    name: str  # rlmaml's name, Meta-World's without "-v3", e.g. "door-open"
    model_file: str  # under metaworld's assets
    fields: tuple[str, ...] = ("object", "goal")  # names of the rand_vec's 3-number parts, in order
    low: tuple[float, ...]  # the _random_reset_space that rand_vec is drawn from
    high: tuple[float, ...]
    min_apart: float | None = None  # reset_model redraws until fields 0 and 1 lie this far apart in x, y
    hand_init: tuple[float, float, float] = (0.0, 0.6, 0.2)
    hand_low: tuple[float, float, float] = (-0.5, 0.40, 0.05)  # the box that clips the mocap
    hand_high: tuple[float, float, float] = (0.5, 1.0, 0.5)
    model_fields: tuple[str, ...] = ()  # MjModel arrays its reset writes that physics or readings use

    def draw(self, draws: np.random.RandomState) -> np.ndarray:
        """One run of reset_model's draws from Meta-World's global generator (_get_state_rand_vec,
        again while the placement is refused)."""
        low, high = np.array(self.low), np.array(self.high)
        rand_vec: np.ndarray = draws.uniform(low, high, size=low.size)
        while not self.acceptable(rand_vec):
            rand_vec = draws.uniform(low, high, size=low.size)
        return rand_vec

    def acceptable(self, rand_vec: np.ndarray) -> bool:
        """Whether reset_model keeps this draw."""
        return self.min_apart is None or bool(np.linalg.norm(rand_vec[:2] - rand_vec[3:5]) >= self.min_apart)

    @abstractmethod
    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """reset_model on `scratch`: the hand's reset, then the task's placement; the episode's
        constants (each an array) that `reward_and_success` reads."""

    @abstractmethod
    def objects(self, now: Physics) -> np.ndarray:
        """The observation's objects part (N, OBJECTS_WIDTH): positions and quaternions, zero-padded."""

    @abstractmethod
    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The v2 reward (N,) and whether the step succeeds (N,) bool, from the clipped
        observations (N, 39), the physics after the step and the actions as the env got them."""


def padded(*parts: np.ndarray) -> np.ndarray:
    """Objects' positions and quaternions, (N, k) each in Meta-World's order, zero-padded to OBJECTS_WIDTH."""
    values = np.hstack(parts)
    return np.hstack((values, np.zeros((len(values), OBJECTS_WIDTH - values.shape[1]))))


def quaternions(matrices: np.ndarray) -> np.ndarray:
    """scipy's quaternions (x, y, z, w) of row-major rotation matrices (N, 9), as Meta-World takes them."""
    from scipy.spatial.transform import Rotation  # only Meta-World needs scipy; assets_dir checked it is there

    result: np.ndarray = Rotation.from_matrix(matrices.reshape(-1, 3, 3)).as_quat()
    return result


def no_quaternion(n: int) -> np.ndarray:
    """The zeros a family observes for an object without orientation."""
    return np.zeros((n, 4))
