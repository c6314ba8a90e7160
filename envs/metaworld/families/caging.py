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
    xz = [0, 2]
    tcp = now.tcp
    xz_margin = distance(obj_init[:, xz], init_tcp[:, xz]) - xz_success
    caging_xz = tolerance(distance(tcp[:, xz], obj[:, xz]), 0.0, xz_success, xz_margin)
    closed = np.minimum(np.maximum(0, actions[:, -1]), effort).astype(np.float64) / effort
    caging = hamacher_product(caging_y, caging_xz)
    gripping = np.where(caging > 0.97, closed, 0.0)
    reward: np.ndarray = hamacher_product(caging, gripping)
    if density == "high":
        reward = (reward + caging) / 2
    elif density == "medium":
        reach_margin = np.abs(distance(obj_init, init_tcp) - reach_radius)
        reach = tolerance(distance(obj, tcp), 0.0, reach_radius, reach_margin)
        reward = (reward + reach) / 2
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
