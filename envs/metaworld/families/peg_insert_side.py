"""SawyerPegInsertionSideEnvV3: pick a peg up and push its head sideways into a hole in a box."""

from __future__ import annotations

import numpy as np

from ..physics import Physics, Scratch
from ..rewards import distance, hamacher_product, tolerance
from .base import Episode, TaskFamily, padded, quaternions
from .caging import gripper_caging_reward_as_scalars

TARGET_RADIUS = 0.07  # the class's own TARGET_RADIUS, also its success radius
HOLE_OFFSET = np.array([0.03, 0.0, 0.13])  # the target from the box's position
HEAD_SCALE = np.array([1.0, 2.0, 2.0])  # y and z errors of the peg's head count twice
ORIGIN = np.zeros(3)
# the two prisms in front of the hole, each from the corner of reward 1 to that of reward 0
COLLISION_BOXES = (
    ("top_left_corner_collision_box_1", "bottom_right_corner_collision_box_1"),
    ("top_left_corner_collision_box_2", "bottom_right_corner_collision_box_2"),
)


def in_prism(point: np.ndarray, zero: np.ndarray, one: np.ndarray) -> np.ndarray:
    """Whether each row's point (N, 3) lies in the box spanned by the corners `zero` and `one` (N,)."""
    inside: np.ndarray = np.all((np.minimum(zero, one) <= point) & (point <= np.maximum(zero, one)), axis=1)
    return inside


def rect_prism_tolerance(point: np.ndarray, zero: np.ndarray, one: np.ndarray) -> np.ndarray:
    """reward_utils.rect_prism_tolerance on rows (N, 3): inside the box spanned by the corners `zero`
    and `one`, the product over axes of how far from `zero` toward `one` the point lies; 1 outside."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = np.prod((point - zero) / (one - zero), axis=1)
    result: np.ndarray = np.where(in_prism(point, zero, one), scales, 1.0)
    return result


class PegInsertSide(TaskFamily):
    """The peg (a free body at qpos 9:12, observed at its site "pegGrasp") and the box, both placed
    from the task; the box's body moves, so each simulation keeps its own body positions."""

    name = "peg-insert-side"
    model_file = "sawyer_xyz/sawyer_peg_insertion_side.xml"
    fields = ("peg", "box")
    low = (0.0, 0.5, 0.02, -0.35, 0.4, -0.001)
    high = (0.2, 0.7, 0.02, -0.25, 0.7, 0.001)
    min_apart = 0.1
    model_fields = ("body_pos",)  # the box; the goal site it also moves is only drawn, never read

    def reset(self, scratch: Scratch, rand_vec: np.ndarray) -> dict[str, np.ndarray]:
        """The peg's head is taken where it rests after the hand's reset, before the peg is moved."""
        scratch.reset_hand()
        peg, box = rand_vec[:3].copy(), rand_vec[3:].copy()
        head_init = scratch.site("pegHead")
        scratch.set_object(peg)
        scratch.model.body("box").pos = box
        target = box + HOLE_OFFSET
        scratch.model.site("goal").pos = target
        return {"obj_init": peg, "head_init": head_init, "target": target, "init_tcp": scratch.init_tcp}

    def objects(self, now: Physics) -> np.ndarray:
        return padded(now.site("pegGrasp"), quaternions(now.site_matrix("pegGrasp")))

    def reward_and_success(
        self, observations: np.ndarray, now: Physics, episode: Episode, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where the caging took the action's precision (a float32 grip), its product with the
        closeness stays float32 too unless the head is inside a collision prism: there the prism's
        value is a numpy float64, which promotes the product; outside it is a Python 1.0."""
        obj, opened = observations[:, 4:7], observations[:, 3]
        target, obj_init, head = episode["target"], episode["obj_init"], now.site("pegHead")
        tcp_to_obj = distance(obj, now.tcp)
        to_target = distance((head - target) * HEAD_SCALE, ORIGIN)
        margin = distance((episode["head_init"] - target) * HEAD_SCALE, ORIGIN)
        in_place = tolerance(to_target, 0.0, TARGET_RADIUS, margin=margin)
        corners = [(now.site(zero), now.site(one)) for one, zero in COLLISION_BOXES]
        first, second = (rect_prism_tolerance(head, zero, one) for zero, one in corners)
        in_place = hamacher_product(in_place, hamacher_product(second, first))
        in_a_prism = np.any([in_prism(head, zero, one) for zero, one in corners], axis=0)
        grasped, single = gripper_caging_reward_as_scalars(
            actions, now, obj, obj_init, episode["init_tcp"],
            obj_radius=0.0075, pad_success=0.03, reach_radius=0.01, xz_success=0.005, density="high",
        )  # fmt: skip
        lifted = (tcp_to_obj < 0.08) & (opened > 0) & (obj[:, 2] - 0.01 > obj_init[:, 2])
        grasped = np.where(lifted, 1.0, grasped)
        kind = actions.dtype.type if np.issubdtype(actions.dtype, np.floating) else np.float64
        rounded = hamacher_product(grasped.astype(kind), in_place.astype(kind)).astype(np.float64)
        reward = np.where(single & ~lifted & ~in_a_prism, rounded, hamacher_product(grasped, in_place))
        reward = np.where(lifted, reward + (1.0 + 5 * in_place), reward)
        done = to_target <= TARGET_RADIUS
        return np.where(done, 10.0, reward), done
