"""What a locomotion robot contributes to an env: its model, observation, health and the
task-independent part of the reward.

Every method works on a batch (leading axis = sub-env): the single env calls them on a batch
of one and the batched env on all sub-envs, so both do the same arithmetic bit for bit.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import expand_model_path


class Robot:
    """A model shipped with Gymnasium, a control cost and no contact terms; subclasses add their own."""

    xml_file: str  # a model shipped with Gymnasium
    excluded_qpos: int  # leading qpos entries left out of the observation
    ctrl_cost_weight: float
    camera_config: ClassVar[dict[str, float]] = {"distance": 4.0}  # as Gymnasium's v5 envs

    def model_path(self) -> str:
        return expand_model_path(self.xml_file)

    def build_model(self) -> mujoco.MjModel:
        return compile_scaling_mass(mujoco.MjSpec.from_file(self.model_path()))

    def observation_size(self, model: mujoco.MjModel) -> int:
        contact = self.contact_forces(np.zeros((1, model.nsensordata)))
        return int(self.observe(np.zeros((1, model.nq)), np.zeros((1, model.nv)), contact).shape[1])

    def contact_forces(self, sensordata: np.ndarray) -> np.ndarray:
        """Contact features (N, k) from the sensor readings of a physics step; none by default."""
        return sensordata[:, :0]

    def observe(self, qpos: np.ndarray, qvel: np.ndarray, contact: np.ndarray) -> np.ndarray:
        return np.concatenate((qpos[:, self.excluded_qpos :], qvel, contact), axis=1)

    def reward(self, action: np.ndarray, contact: np.ndarray) -> np.ndarray:
        reward: np.ndarray = -self.ctrl_cost_weight * np.sum(action * action, axis=1)
        return reward

    def healthy(self, qpos: np.ndarray) -> np.ndarray:
        return np.ones(len(qpos), dtype=bool)


def compile_scaling_mass(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """The compiled model, with the compiler's `settotalmass` (Gymnasium's half_cheetah.xml sets
    14) applied after compiling, as MuJoCo 4 asks in place of the deprecated attribute: every
    field of the model equals what compiling with the attribute gives (tests/envs). mj_setConst
    leaves the mean mass and inertia of `model.stat` (which scale the solver's tolerance) as
    compiled, so they are set here as the compiler computes them: at qpos0."""
    total_mass = spec.compiler.settotalmass
    spec.compiler.settotalmass = -1  # MuJoCo's "unset"
    model = spec.compile()
    if total_mass > 0:
        mujoco.mj_setTotalmass(model, total_mass)
        mujoco.mj_setConst(model, mujoco.MjData(model))
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        inertia = np.zeros((model.nv, model.nv))
        mujoco.mj_fullM(model, data, inertia)
        model.stat.meaninertia = float(np.trace(inertia)) / model.nv
        model.stat.meanmass = float(model.body_mass[1:].mean())
    return model
