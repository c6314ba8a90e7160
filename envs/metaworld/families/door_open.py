"""SawyerDoorEnvV3: swing a hinged door open by its handle; and the door both door families share."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import hamacher_product, tolerance
from .base import Episode, TaskFamily, padded, quaternions

SUCCESS_RADIUS = 0.08  # how near the handle's x must come to the target's


class Door(TaskFamily):
    """Door-open and door-close: the door (body "door", hinge "doorjoint") stands where the task
    says, its handle geom ("handle") is the observed object, the target a fixed offset from
    the door. Each family says which offset and at what angle the door starts."""

    model_file = "sawyer_xyz/sawyer_door_pull.xml"
    fields = ("door",)
    low = (0.0, 0.85, 0.15)
    high = (0.1, 0.95, 0.15)
    # the door's placement moves the body; the goal site moves along (nothing reads it, kept for fidelity)
    model_fields = ("body_pos", "site_pos")
    target_offset: tuple[float, float, float]
    start_angle: float

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        scratch.reset_hand()
        obj_init = rand_vec.copy()
        target = obj_init + np.array(self.target_offset)
        scratch.model.body("door").pos = obj_init
        scratch.model.site("goal").pos = target
        scratch.set_joint("doorjoint", self.start_angle)  # its mj_forward places the moved door
        return {"obj_init": obj_init, "target": target}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.geom("handle"), quaternions(now.geom_matrix("handle")))


class DoorOpen(Door):
    name = "door-open"
    target_offset = (-0.3, -0.45, 0.0)
    start_angle = 0.0

    @staticmethod
    def grab_effort(actions: np.ndarray) -> np.ndarray:
        """How hard the fingers are asked to close, in [0, 1]: computed in the action's float32
        precision, as Meta-World's scalar arithmetic on a float32 action is."""
        grip = np.clip(actions[:, 3], -1, 1)
        return np.asarray((grip + grip.dtype.type(1.0)) / grip.dtype.type(2.0), dtype=np.float64)

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        hand = observations[:, :3]  # the clipped hand, as _reward_pos reads obs
        door = observations[:, 4:7] + np.array([-0.05, 0.0, 0.0])
        threshold = 0.12
        # a funnel around the handle that the hand should stay above while approaching it
        radius = np.linalg.norm(hand[:, :2] - door[:, :2], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            funnel = 0.04 * np.log(radius - threshold) + 0.4
        floor = np.where(radius <= threshold, 0.0, funnel)
        below = tolerance(floor - hand[:, 2], 0.0, 0.01, margin=floor / 2.0)
        above_floor = np.where(hand[:, 2] >= floor, 1.0, below)
        between = np.linalg.norm(hand - door - np.array([0.05, 0.03, -0.01]), axis=1)
        in_place = tolerance(between, 0.0, threshold / 2.0, margin=0.5)
        ready = hamacher_product(above_floor, in_place)
        theta = now.joint("doorjoint")
        # a bonus for any opening at all, the rest for opening it to 120 degrees
        opened = 0.2 * (theta < -np.pi / 90.0) + 0.8 * tolerance(
            np.pi / 2.0 + np.pi / 6 + theta, 0.0, 0.5, margin=np.pi / 3.0
        )
        reward = 2.0 * hamacher_product(ready, self.grab_effort(actions)) + 8.0 * opened
        success = np.abs(observations[:, 4] - episode["target"][:, 0]) <= SUCCESS_RADIUS
        return np.where(success, 10.0, reward), success
