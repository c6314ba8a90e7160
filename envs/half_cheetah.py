"""HalfCheetah task distributions of the MAML paper: goal velocity and goal direction.

Reward: task term - 0.05 ||a||^2 (a = the action clipped to [-1, 1]); no termination.
Observation: exactly Gymnasium's HalfCheetah-v5, qpos[1:] then qvel (17 numbers).
"""

from __future__ import annotations

from typing import Any

from .locomotion import LocomotionEnv, LocomotionVectorEnv
from .locomotion_tasks import DirectionTasks, VelocityTasks
from .robots import Robot


class HalfCheetah(Robot):
    xml_file = "half_cheetah.xml"
    excluded_qpos = 1
    ctrl_cost_weight = 0.05


class HalfCheetahVelEnv(LocomotionEnv):
    """Run at v* ~ U[velocity_low, velocity_high]: r = -|v_x - v*| - 0.05 ||a||^2; task {"velocity": v*}."""

    def __init__(self, velocity_low: float = 0.0, velocity_high: float = 2.0, **kwargs: Any) -> None:
        super().__init__(HalfCheetah(), VelocityTasks(velocity_low, velocity_high), **kwargs)


class HalfCheetahVelVectorEnv(LocomotionVectorEnv):
    """Batched HalfCheetahVelEnv."""

    def __init__(self, num_envs: int, velocity_low: float = 0.0, velocity_high: float = 2.0, **kwargs: Any) -> None:
        super().__init__(num_envs, HalfCheetah(), VelocityTasks(velocity_low, velocity_high), **kwargs)


class HalfCheetahDirEnv(LocomotionEnv):
    """Run forward or backward, d = +-1 with probability 1/2: r = d v_x - 0.05 ||a||^2; task {"direction": d}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(HalfCheetah(), DirectionTasks(), **kwargs)


class HalfCheetahDirVectorEnv(LocomotionVectorEnv):
    """Batched HalfCheetahDirEnv."""

    def __init__(self, num_envs: int, **kwargs: Any) -> None:
        super().__init__(num_envs, HalfCheetah(), DirectionTasks(), **kwargs)
