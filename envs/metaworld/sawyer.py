"""The Sawyer arm of Meta-World on a `mujoco.batch.Batch`: the hand's reset, the mocap
actions and the 39-number observation, each for many simulations at once.

Meta-World moves the hand through a mocap body welded to it: an action's first three numbers
(clipped to [-1, 1], times 0.01) shift the mocap, clipped to the family's box, and the fourth
drives the two fingers' position actuators (+a and -a). An env step is 5 physics substeps
that keep MuJoCo's warm start (so does the Batch), then kinematics at the new state.
Observation: hand position (3), fingers' distance apart over 0.1 clipped to [0, 1], the
object's position (3) and quaternion (4, scipy's x, y, z, w), seven zeros; then the same 18
of the step before; then the goal's three numbers, zeros as in Meta-World's meta-learning
benchmarks (the goal is hidden), the whole clipped to Meta-World's observation bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import mujoco.batch
import numpy as np

from .families import Family, Readout, Start
from .installed import load_model

FRAME_SKIP = 5
HAND_RESET_STEPS = 50  # SawyerXYZEnv._reset_hand's default
ACTION_SCALE = 1.0 / 100
MOCAP_QUAT = np.array([1.0, 0.0, 1.0, 0.0])  # the orientation Meta-World gives the mocap every step
OBJECT_QPOS = slice(9, 12)  # the object's free joint: Meta-World's _set_obj_xyz writes these
OBJECT_QVEL = slice(9, 15)
# Meta-World's observation bounds: the hand in _HAND_SPACE, the gripper in [-1, 1], the object free
HAND_LOW, HAND_HIGH = np.array([-0.525, 0.348, -0.0525]), np.array([0.525, 1.025, 0.7])
FRAME_WIDTH = 18
OBSERVATION_SIZE = 2 * FRAME_WIDTH + 3


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    frame_low = np.concatenate((HAND_LOW, [-1.0], np.full(14, -np.inf)))
    frame_high = np.concatenate((HAND_HIGH, [1.0], np.full(14, np.inf)))
    return np.concatenate((frame_low, frame_low, np.zeros(3))), np.concatenate((frame_high, frame_high, np.zeros(3)))


@dataclass(frozen=True)
class HandReset:
    """The state after Meta-World's hand reset, which is the same for every episode of a
    family (its reset starts from the model's defaults and draws nothing), and what the
    reward keeps of it."""

    state: np.ndarray  # mjSTATE_INTEGRATION, warm start included
    tcp: np.ndarray
    object_height: float  # where the object rests (push places its puck and goal at this height)


class Sawyer:
    """One family's model and the named parts its observation and reward read."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.model = load_model(family.model_file)
        model = self.model
        self.mocap = int(model.body_mocapid[model.body("mocap").id])
        self.hand = model.body("hand").id
        self.claws = model.body("rightclaw").id, model.body("leftclaw").id
        self.pads = model.body("leftpad").id, model.body("rightpad").id
        self.obj = model.body("obj").id
        self.obj_geom = model.geom("objGeom").id
        self.fingertips = model.site("rightEndEffector").id, model.site("leftEndEffector").id
        self.low, self.high = observation_bounds()
        self.hand_reset = self._reset_hand()

    def _reset_hand(self) -> HandReset:
        data = mujoco.MjData(self.model)
        mujoco.mj_resetData(self.model, data)
        for _ in range(HAND_RESET_STEPS):
            data.mocap_pos[self.mocap] = self.family.hand_init
            data.mocap_quat[self.mocap] = MOCAP_QUAT
            data.ctrl[:] = (-1.0, 1.0)
            mujoco.mj_step(self.model, data, nstep=FRAME_SKIP)
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        state = np.empty(mujoco.mj_stateSize(self.model, spec))
        mujoco.mj_getState(self.model, data, state, spec)
        right, left = (data.site_xpos[i] for i in self.fingertips)
        return HandReset(
            state=state,
            tcp=(right + left) / 2.0,
            object_height=float(data.xpos[self.obj][2]),
        )

    def start(self, objects: np.ndarray, goals: np.ndarray) -> Start:
        """Where each task starts its object and puts its target, with the hand's reset."""
        placed, target = self.family.placement(objects, goals, self.hand_reset.object_height)
        return Start(placed, target, self.hand_reset.tcp)

    def readout(self, xpos: np.ndarray, site_xpos: np.ndarray) -> Readout:
        """What the reward reads, from bound xpos (N, nbody, 3) and site_xpos (N, nsite, 3)."""
        right, left = (site_xpos[:, i] for i in self.fingertips)
        claws = xpos[:, self.claws[0]] - xpos[:, self.claws[1]]
        apart = np.clip(np.sqrt(np.sum(claws * claws, axis=1)) / 0.1, 0.0, 1.0)
        return Readout(
            tcp=(right + left) / 2.0,
            gripper_open=apart,
            obj=xpos[:, self.obj],
            left_pad=xpos[:, self.pads[0]],
            right_pad=xpos[:, self.pads[1]],
        )

    def frame(self, xpos: np.ndarray, geom_xmat: np.ndarray, now: Readout) -> np.ndarray:
        """The 18 numbers Meta-World observes of one moment, per simulation (unclipped)."""
        from scipy.spatial.transform import Rotation  # Meta-World's quaternions; assets_dir checked scipy is there

        quaternions = Rotation.from_matrix(geom_xmat[:, self.obj_geom].reshape(-1, 3, 3)).as_quat()
        padding = np.zeros((len(xpos), 7))
        return np.hstack((xpos[:, self.hand], now.gripper_open[:, None], now.obj, quaternions, padding))

    def observation(self, frame: np.ndarray, previous: np.ndarray) -> np.ndarray:
        goal = np.zeros((len(frame), 3))
        observations: np.ndarray = np.clip(np.hstack((frame, previous, goal)), self.low, self.high)
        return observations

    def new_batch(self, nsim: int, nthread: int) -> mujoco.batch.Batch:
        return mujoco.batch.Batch(self.model, nsim=nsim, nthread=nthread)

    def mocap_targets(self, mocap_pos: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The mocap positions (N, 3) after `actions` (N, 4), in the actions' own precision as Meta-World
        computes them (a float32 action's shift is rounded to float32)."""
        shift = np.clip(actions[:, :3], -1, 1) * ACTION_SCALE
        targets: np.ndarray = np.clip(mocap_pos + shift, self.family.mocap_low, self.family.mocap_high)
        return targets
