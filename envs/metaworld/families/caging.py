"""SawyerXYZEnv._gripper_caging_reward on arrays: how well the fingers cage and grip an object.

The pads cage the object in y (tolerances whose margins come from the object's start), the
fingertips' centre approaches it in x and z, and once the caging exceeds 0.97 the grip asked
for (the action's fourth number) counts. `high_density` averages with the caging alone,
`medium_density` with a reach term toward the object.
"""

from __future__ import annotations

import numpy as np

from ..physics import Physics
from ..rewards import distance, hamacher_product, tolerance


def pads_caging(
    now: Physics, obj: np.ndarray, obj_init: np.ndarray, obj_radius: float, pad_success: float
) -> np.ndarray:
    """How well the two pads cage the object in y (N,): each pad's tolerance, its margin from the object's start."""
    pads_y = np.stack((now.left_pad[:, 1], now.right_pad[:, 1]), axis=1)
    pads_to_obj = np.abs(pads_y - obj[:, 1:2])
    margins = np.abs(np.abs(pads_y - obj_init[:, 1:2]) - pad_success)
    sides = tolerance(pads_to_obj, obj_radius, pad_success, margins)
    caging_y: np.ndarray = hamacher_product(sides[:, 0], sides[:, 1])
    return caging_y


def xz_caging(
    now: Physics, obj: np.ndarray, obj_init: np.ndarray, init_tcp: np.ndarray, xz_success: float
) -> np.ndarray:
    """How near the fingertips' centre is to the object in x and z (N,), the margin from the episode's start."""
    xz = [0, 2]
    xz_margin = distance(obj_init[:, xz], init_tcp[:, xz]) - xz_success
    caging_xz: np.ndarray = tolerance(distance(now.tcp[:, xz], obj[:, xz]), 0.0, xz_success, xz_margin)
    return caging_xz


def reach_term(
    now: Physics, obj: np.ndarray, obj_init: np.ndarray, init_tcp: np.ndarray, reach_radius: float
) -> np.ndarray:
    """The medium density's reach toward the object (N,), 0.1 at the episode's starting distance."""
    reach_margin = np.abs(distance(obj_init, init_tcp) - reach_radius)
    reach: np.ndarray = tolerance(distance(obj, now.tcp), 0.0, reach_radius, reach_margin)
    return reach


def caging_and_gripping(
    caging_y: np.ndarray,
    actions: np.ndarray,
    now: Physics,
    obj: np.ndarray,
    obj_init: np.ndarray,
    init_tcp: np.ndarray,
    reach_radius: float,
    xz_success: float,
    effort: float = 1.0,
    density: str = "low",
) -> np.ndarray:
    """The caging-and-gripping reward (N,) from the caging in y, for object positions `obj` (N, 3);
    `obj_init`, `init_tcp` (N, 3) the episode's; `density` "low", "medium" or "high" as Meta-World's flags."""
    caging = hamacher_product(caging_y, xz_caging(now, obj, obj_init, init_tcp, xz_success))
    closed = np.minimum(np.maximum(0, actions[:, -1]), effort).astype(np.float64) / effort
    gripping = np.where(caging > 0.97, closed, 0.0)
    reward: np.ndarray = hamacher_product(caging, gripping)
    if density == "high":
        reward = (reward + caging) / 2
    elif density == "medium":
        reward = (reward + reach_term(now, obj, obj_init, init_tcp, reach_radius)) / 2
    return reward


def gripper_caging_reward(
    actions: np.ndarray,
    now: Physics,
    obj: np.ndarray,
    obj_init: np.ndarray,
    init_tcp: np.ndarray,
    obj_radius: float,
    pad_success: float,
    reach_radius: float,
    xz_success: float,
    effort: float = 1.0,
    density: str = "low",
) -> np.ndarray:
    """SawyerXYZEnv._gripper_caging_reward (N,) with its arguments, the episode's obj_init and init_tcp (N, 3)."""
    caging_y = pads_caging(now, obj, obj_init, obj_radius, pad_success)
    return caging_and_gripping(
        caging_y, actions, now, obj, obj_init, init_tcp, reach_radius, xz_success, effort, density
    )


def gripper_caging_reward_as_scalars(
    actions: np.ndarray,
    now: Physics,
    obj: np.ndarray,
    obj_init: np.ndarray,
    init_tcp: np.ndarray,
    obj_radius: float,
    pad_success: float,
    reach_radius: float,
    xz_success: float,
    effort: float = 1.0,
    density: str = "low",
) -> tuple[np.ndarray, np.ndarray]:
    """gripper_caging_reward in the precision Meta-World's scalar arithmetic gives it: where the
    caging exceeds 0.97 and the grip is in (0, effort], the grip stays the action's numpy scalar
    and the product with the caging (a Python float) and the density's average run in the
    action's precision (float32 for float32 actions); elsewhere in float64. The reward (N,)
    and where it took the action's precision (N,) bool: a family's later products with it do too."""
    precise = gripper_caging_reward(
        actions, now, obj, obj_init, init_tcp, obj_radius, pad_success, reach_radius, xz_success, effort, density
    )
    caging_xz = xz_caging(now, obj, obj_init, init_tcp, xz_success)
    caging = hamacher_product(pads_caging(now, obj, obj_init, obj_radius, pad_success), caging_xz)
    grip = actions[:, -1]
    kind = grip.dtype.type if np.issubdtype(grip.dtype, np.floating) else np.float64
    single = (caging > 0.97) & (grip > 0) & (grip <= effort)
    rounded_caging, closed = caging.astype(kind), grip.astype(kind) / kind(effort)
    with np.errstate(divide="ignore", invalid="ignore"):
        rounded = (rounded_caging * closed) / (rounded_caging + closed - rounded_caging * closed)
    if density == "high":
        rounded = (rounded + rounded_caging) / kind(2)
    elif density == "medium":
        reach = reach_term(now, obj, obj_init, init_tcp, reach_radius)
        rounded = (rounded + reach.astype(kind)) / kind(2)
    return np.where(single, rounded.astype(np.float64), precise), single
