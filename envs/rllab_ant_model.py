"""rllab's Ant (`vendor/mujoco_models/ant.xml` of rllab, the robot of the MAML paper's code), its
readings and its step rules, shared by the single and the batched env of `rllab_ant`.

The model is Gymnasium's installed ant.xml edited with `mujoco.MjSpec` where rllab's file differs
(every other compiled model array is equal, checked against rllab's XML): timestep 0.02 instead of
0.01 (RK4 in both, no frame skip, so an env step is 0.02 s), motors with ctrlrange [-150, 150] and
no gear instead of [-1, 1] x gear 150, and every geom's solimp "0.8 0.8 0.01" (rllab's geom
default; Gymnasium's ant.xml leaves MuJoCo's 0.9 0.95 0.001). solref is MuJoCo's 0.02 1 in both.
With dmin = dmax = 0.8 the impedance is constant, so MuJoCo's two later solimp numbers do not matter.
Not reproduced, since rllab ran MuJoCo 1.31: that version's solver and defaults. Today's MuJoCo also
clamps a solref time constant to twice the timestep (flag refsafe), so contacts act with 0.04 s here.

Readings are sensors (they never change the dynamics), so `mujoco.rollout` returns them: the
torso's subtree centre of mass (rllab's `get_body_com`), its velocity (rllab's `get_body_comvel`:
mass-weighted mj_objectVelocity of the bodies' inertial frames over the torso's subtree, which is
MuJoCo's subtree_linvel), the torso's rotation matrix, and per body the net contact wrench, from
which numpy rebuilds cfrc_ext as `ant.Ant` does. The world body's cfrc_ext is always zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import expand_model_path

from .ant import Ant
from .locomotion import end_failed_physics
from .locomotion_tasks import TaskFamily

INIT_QPOS = np.array([0.0, 0.0, 0.55, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0, -1.0, 0.0, 1.0])  # bent legs
TIMESTEP = 0.02
CTRL_LIMIT = 150.0
SOLIMP = (0.8, 0.8, 0.01, 0.5, 2.0)
QPOS_NOISE, QVEL_NOISE = 0.01, 0.1  # rllab's MujocoEnv.reset_mujoco: N(0, 0.01^2) on qpos, N(0, 0.1^2) on qvel
CTRL_COST, CONTACT_COST, SURVIVE_REWARD = 0.5 * 1e-2, 0.5 * 1e-3, 0.05
HEALTHY_Z = (0.2, 1.0)
BAD_VALUE = 1e10  # mjMAXVAL: MuJoCo's step checks reset a state with |qpos|, |qvel| or |qacc| above it

_NETFORCE = 3  # the contact sensor's reduce="netforce"
_FIELD = mujoco.mjtConDataField
_CONTACT_DATA = sum(1 << int(f) for f in (_FIELD.mjCONDATA_FORCE, _FIELD.mjCONDATA_TORQUE, _FIELD.mjCONDATA_POS))


def build_model(readout: bool = False) -> mujoco.MjModel:
    """rllab's Ant. `readout=True` gives the copy whose Euler step only serves its mj_forward:
    `mujoco.rollout` of one step of it from a state returns that state's readings (the step itself is
    discarded), which is how the batched env evaluates the post-step state as rllab's model.forward()."""
    spec = mujoco.MjSpec.from_file(expand_model_path("ant.xml"))
    spec.option.timestep = TIMESTEP
    for geom in spec.geoms:
        geom.solimp = SOLIMP
    for motor in spec.actuators:
        motor.gear = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        motor.ctrlrange = [-CTRL_LIMIT, CTRL_LIMIT]
    bodies = list(spec.bodies)[1:]  # without the world; tree order = MuJoCo body ids 1..
    for i, body in enumerate(bodies, start=1):
        body.name = body.name or f"rlmaml_body{i}"
    sensor, body_type = mujoco.mjtSensor, mujoco.mjtObj.mjOBJ_BODY
    spec.add_sensor(type=sensor.mjSENS_SUBTREECOM, objtype=body_type, objname="torso")
    for body in bodies:  # right after the COM: the layout ant.Ant.contact_forces reads
        spec.add_sensor(
            type=sensor.mjSENS_CONTACT, objtype=body_type, objname=body.name, intprm=[_CONTACT_DATA, _NETFORCE, 1]
        )
    spec.add_sensor(type=sensor.mjSENS_SUBTREELINVEL, objtype=body_type, objname="torso")
    for axis in (sensor.mjSENS_FRAMEXAXIS, sensor.mjSENS_FRAMEYAXIS, sensor.mjSENS_FRAMEZAXIS):
        spec.add_sensor(type=axis, objtype=mujoco.mjtObj.mjOBJ_XBODY, objname="torso")
    if readout:
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_EULER
        spec.option.disableflags |= mujoco.mjtDisableBit.mjDSBL_EULERDAMP  # its integration is thrown away
    return spec.compile()


@dataclass(frozen=True)
class Readings:
    """What rllab's envs read after model.forward(), for N states."""

    com: np.ndarray  # (N, 3) the torso subtree's centre of mass
    com_velocity: np.ndarray  # (N, 3) its velocity
    rotation: np.ndarray  # (N, 9) the torso's rotation matrix, row by row
    contact: np.ndarray  # (N, 6 nbody) clip(cfrc_ext, -1, 1) of all bodies, the world first

    @classmethod
    def from_sensors(cls, sensordata: np.ndarray) -> Readings:
        n, nbody = len(sensordata), (sensordata.shape[1] - 15) // 9 + 1
        end = 3 + 9 * (nbody - 1)
        contact = np.concatenate((np.zeros((n, 6)), Ant().contact_forces(sensordata[:, :end])), axis=1)
        axes = sensordata[:, end + 3 : end + 12].reshape(n, 3, 3)  # x, y, z axes = the matrix's columns
        rotation = axes.transpose(0, 2, 1).reshape(n, 9)
        return cls(sensordata[:, :3], sensordata[:, end : end + 3], rotation, contact)


def observe(qpos: np.ndarray, qvel: np.ndarray, readings: Readings) -> np.ndarray:
    """rllab's Ant observation: qpos, qvel, clipped cfrc_ext, torso rotation matrix, subtree COM."""
    return np.concatenate((qpos, qvel, readings.contact, readings.rotation, readings.com), axis=1)


@dataclass(frozen=True)
class StepOutcome:
    observation: np.ndarray  # (N, obs_dim)
    reward: np.ndarray  # (N,)
    terminated: np.ndarray  # (N,) bool
    com_velocity: np.ndarray  # (N,) x velocity of the torso subtree's COM
    nonfinite: np.ndarray  # (N,) bool


def evaluate_step(
    tasks: TaskFamily,
    parameters: np.ndarray,
    qpos: np.ndarray,
    qvel: np.ndarray,
    sensordata: np.ndarray,
    actions: np.ndarray,
    diverged: np.ndarray,
) -> StepOutcome:
    """Observation, reward and termination of N sub-envs from their post-step states and readings.

    reward = task term (of the COM's x velocity, or of the COM's xy for goals) - 0.005 ||a / 150||^2
    - 0.0005 ||clip(cfrc_ext, -1, 1)||^2 + 0.05, a = the applied action. Failed physics ends the
    episode with zero observation and reward, as in `locomotion.evaluate_step`.
    """
    readings = Readings.from_sensors(sensordata)
    velocity = readings.com_velocity[:, 0].copy()
    observation = observe(qpos, qvel, readings)
    ctrl_cost = CTRL_COST * np.sum(np.square(actions / CTRL_LIMIT), axis=1)
    contact_cost = CONTACT_COST * np.sum(np.square(readings.contact), axis=1)
    # GoalTasks measures the position in the first two columns it gets: rllab's goal env uses the COM's xy
    reward = tasks.reward(parameters, velocity, readings.com) - ctrl_cost - contact_cost + SURVIVE_REWARD
    low, high = HEALTHY_Z
    finite = np.isfinite(qpos).all(axis=1) & np.isfinite(qvel).all(axis=1)
    terminated = ~(finite & (qpos[:, 2] >= low) & (qpos[:, 2] <= high))
    nonfinite = end_failed_physics(diverged, observation, reward, velocity, terminated)
    return StepOutcome(observation, reward, terminated, velocity, nonfinite)
