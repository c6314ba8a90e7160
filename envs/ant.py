"""Ant task distributions of the MAML paper: goal velocity, goal direction and goal position.

Reward: task term - 0.005 ||a||^2 - contact cost + 0.05, with contact cost
0.0005 ||clip(cfrc_ext, -1, 1)||^2 as in the original MAML code. The episode terminates
when the torso height qpos[2] leaves [0.2, 1.0] (and on failed physics, see locomotion).

Observation (107 numbers): torso x, y (needed for AntGoal), then Gymnasium's Ant-v5
observation: qpos[2:], qvel and the 13 x 6 clipped external contact wrenches cfrc_ext[1:]
(the world body's is always zero). The contact wrenches are the ones the contact cost
uses, so the policy sees what it pays for; they are zero right after a reset.

`mujoco.rollout` returns states and sensor readings but not cfrc_ext, so the model is
Gymnasium's ant.xml plus sensors (sensors never change the dynamics): a subtree-COM sensor
on the torso and, per body, a contact sensor reporting the net contact wrench. Both envs
rebuild cfrc_ext from these readings, taken at the start of the last physics substep (where
MuJoCo computes sensors). Gymnasium's Ant-v5 instead calls mj_rnePostConstraint after the
step, which with the RK4 integrator reads the contacts of RK4's last intermediate stage, so
its cfrc_ext differs from these; the dynamics are the same.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import mujoco
import numpy as np

from .locomotion import LocomotionEnv, LocomotionVectorEnv
from .locomotion_tasks import DirectionTasks, GoalTasks, VelocityTasks
from .robots import Robot


class Ant(Robot):
    xml_file = "ant.xml"
    excluded_qpos = 0
    ctrl_cost_weight = 0.005
    contact_cost_weight = 0.0005
    survive_reward = 0.05
    healthy_z_range = (0.2, 1.0)

    def build_model(self) -> mujoco.MjModel:
        root = ET.parse(self.model_path()).getroot()
        worldbody = root.find("worldbody")
        if worldbody is None:
            raise ValueError(f"{self.model_path()} has no worldbody")
        bodies = list(worldbody.iter("body"))  # document order = MuJoCo body ids 1..
        names = [body.get("name") or f"rlmaml_body{i}" for i, body in enumerate(bodies, start=1)]
        for body, name in zip(bodies, names, strict=True):
            body.set("name", name)
        sensors = ET.SubElement(root, "sensor")
        ET.SubElement(sensors, "subtreecom", body=names[0])
        for name in names:
            ET.SubElement(sensors, "contact", body1=name, data="force torque pos", reduce="netforce")
        return mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))

    def contact_forces(self, sensordata: np.ndarray) -> np.ndarray:
        """clip(cfrc_ext[1:], -1, 1) flattened (N, 78): per body [torque about the COM, force], world axes."""
        n, size = sensordata.shape
        com = sensordata[:, None, 0:3]
        wrench = sensordata[:, 3:].reshape(n, (size - 3) // 9, 9)  # explicit sizes: n may be 0
        force, torque, point = wrench[..., 0:3], wrench[..., 3:6], wrench[..., 6:9]
        # the sensor reports the wrench on the other body (the floor) at `point`
        cfrc = np.concatenate((torque + np.cross(point - com, force), force), axis=2)
        contact: np.ndarray = np.clip(-cfrc, -1.0, 1.0).reshape(n, cfrc.shape[1] * 6)
        return contact

    def reward(self, action: np.ndarray, contact: np.ndarray) -> np.ndarray:
        contact_cost = self.contact_cost_weight * np.sum(contact * contact, axis=1)
        reward: np.ndarray = super().reward(action, contact) - contact_cost + self.survive_reward
        return reward

    def healthy(self, qpos: np.ndarray) -> np.ndarray:
        low, high = self.healthy_z_range
        return (qpos[:, 2] >= low) & (qpos[:, 2] <= high)


class AntVelEnv(LocomotionEnv):
    """Run at v* ~ U[velocity_low, velocity_high]: task term -|v_x - v*| + 1; task {"velocity": v*}."""

    def __init__(self, velocity_low: float = 0.0, velocity_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(Ant(), VelocityTasks(velocity_low, velocity_high, bonus=1.0), **kwargs)


class AntVelVectorEnv(LocomotionVectorEnv):
    """Batched AntVelEnv."""

    def __init__(self, num_envs: int, velocity_low: float = 0.0, velocity_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(num_envs, Ant(), VelocityTasks(velocity_low, velocity_high, bonus=1.0), **kwargs)


class AntDirEnv(LocomotionEnv):
    """Run forward or backward, d = +-1 with probability 1/2: task term d v_x; task {"direction": d}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Ant(), DirectionTasks(), **kwargs)


class AntDirVectorEnv(LocomotionVectorEnv):
    """Batched AntDirEnv."""

    def __init__(self, num_envs: int, **kwargs: Any) -> None:
        super().__init__(num_envs, Ant(), DirectionTasks(), **kwargs)


class AntGoalEnv(LocomotionEnv):
    """Walk to g ~ U[goal_low, goal_high]^2: task term -||xy - g||_1 + 4; task {"goal": [gx, gy]}."""

    def __init__(self, goal_low: float = -3.0, goal_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(Ant(), GoalTasks(goal_low, goal_high, bonus=4.0), **kwargs)


class AntGoalVectorEnv(LocomotionVectorEnv):
    """Batched AntGoalEnv."""

    def __init__(self, num_envs: int, goal_low: float = -3.0, goal_high: float = 3.0, **kwargs: Any) -> None:
        super().__init__(num_envs, Ant(), GoalTasks(goal_low, goal_high, bonus=4.0), **kwargs)
