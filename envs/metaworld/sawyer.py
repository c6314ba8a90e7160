"""One Meta-World family's Sawyer on a `mujoco.batch.Batch`: resets, mocap actions and the
39-number observation for many simulations at once.

Meta-World moves the hand through a mocap body welded to it: an action's first three numbers
(clipped to [-1, 1], times 0.01) shift the mocap, clipped to the family's box, and the fourth
drives the two fingers' position actuators (+a and -a). An env step is 5 physics substeps
that keep MuJoCo's warm start (so does the Batch), then kinematics at the new state.
Observation: hand position (3), fingers' distance apart over 0.1 clipped to [0, 1], the
family's objects (14: positions and quaternions, zero-padded); then the same 18 of the step
before; then the goal's three numbers, zeros as in Meta-World's meta-learning benchmarks (the
goal is hidden), the whole clipped to Meta-World's observation bounds.

A reset runs the family's reset_model on a scratch simulation twice after mj_resetData, as
Meta-World's reset does, and hands the batch its state (warm start included), the model
fields it moved and its first observation, which reads the scratch's kinematics as they
stand (Meta-World's does not recompute them). A task's reset is the same every episode, so
it is computed once per task and kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import mujoco.batch
import numpy as np

from .families.base import TaskFamily
from .installed import load_model
from .physics import FIELDS, FRAME_SKIP, MOCAP_QUAT, Physics, Scratch

ACTION_SCALE = 1.0 / 100
# Meta-World's observation bounds: the hand in _HAND_SPACE, the gripper in [-1, 1], the objects free
HAND_LOW, HAND_HIGH = np.array([-0.525, 0.348, -0.0525]), np.array([0.525, 1.025, 0.7])
FRAME_WIDTH = 18
OBSERVATION_SIZE = 2 * FRAME_WIDTH + 3
CACHED_RESETS = 512  # tasks whose reset is kept: a meta-batch's worth many times over
_STATE = mujoco.mjtState.mjSTATE_INTEGRATION
_POSITIONS = mujoco.mjtStage.mjSTAGE_POS.value


def observation_bounds() -> tuple[np.ndarray, np.ndarray]:
    frame_low = np.concatenate((HAND_LOW, [-1.0], np.full(14, -np.inf)))
    frame_high = np.concatenate((HAND_HIGH, [1.0], np.full(14, np.inf)))
    return np.concatenate((frame_low, frame_low, np.zeros(3))), np.concatenate((frame_high, frame_high, np.zeros(3)))


def frame(family: TaskFamily, now: Physics) -> np.ndarray:
    """The 18 numbers Meta-World observes of one moment, per simulation (unclipped)."""
    return np.hstack((now.hand, now.gripper_open[:, None], family.objects(now)))


@dataclass(frozen=True)
class Reset:
    """A task's episode start: the batch's state and moved model fields, the first frame, the reward's constants."""

    state: np.ndarray
    model_values: dict[str, np.ndarray]
    frame: np.ndarray  # (18,)
    episode: dict[str, np.ndarray]


class SawyerBatch:
    """`nsim` simulations of one family (a row per sub-env of the vector env that owns it)."""

    def __init__(self, family: TaskFamily, nsim: int, nthread: int) -> None:
        self.family = family
        self.model = load_model(family.model_file)
        self.scratch = Scratch(load_model(family.model_file), np.array(family.hand_init))
        self.mocap = self.scratch.mocap
        self.mocap_low, self.mocap_high = np.array(family.hand_low), np.array(family.hand_high)
        self.low, self.high = observation_bounds()
        self.batch = mujoco.batch.Batch(self.model, nsim=nsim, nthread=nthread)
        self.moved = {field: self.batch.expand(field) for field in family.model_fields}
        # derived fields are copied out only once bound, so bind them before the first call
        self.bound = {field: self.batch.bind(field) for field in FIELDS}
        self.ids: dict[tuple[str, str], int] = {}
        self.episode: dict[str, np.ndarray] = {}
        self.previous = np.zeros((nsim, FRAME_WIDTH))  # the unclipped frame of each simulation's last step
        self._resets: dict[bytes, Reset] = {}

    def _reset_of(self, rand_vec: np.ndarray) -> Reset:
        key = rand_vec.tobytes()
        if key not in self._resets:
            if len(self._resets) >= CACHED_RESETS:
                self._resets.pop(next(iter(self._resets)))
            scratch = self.scratch
            for _ in range(2):  # SawyerXYZEnv.reset: reset_model, then MujocoEnv.reset's mj_resetData and reset_model
                mujoco.mj_resetData(scratch.model, scratch.data)
                episode = self.family.reset(scratch, rand_vec)
            state = np.empty(mujoco.mj_stateSize(scratch.model, _STATE))
            mujoco.mj_getState(scratch.model, scratch.data, state, _STATE)
            values = {field: np.array(getattr(scratch.model, field)) for field in self.family.model_fields}
            self._resets[key] = Reset(state, values, frame(self.family, scratch.physics())[0], episode)
        return self._resets[key]

    def reset(self, rows: np.ndarray, rand_vecs: np.ndarray) -> np.ndarray:
        """Start `rows` on their rand_vecs (one each); their first observations."""
        frames = np.empty((len(rows), FRAME_WIDTH))
        for i, (row, rand_vec) in enumerate(zip(rows, rand_vecs, strict=True)):
            start = self._reset_of(rand_vec)
            self.batch.state[row] = start.state
            for field, values in start.model_values.items():
                self.moved[field][row] = values
            for name, value in start.episode.items():
                if name not in self.episode:
                    self.episode[name] = np.zeros((len(self.previous), *np.shape(value)))
                self.episode[name][row] = value
            frames[i] = start.frame
        self.previous[rows] = frames
        observations: np.ndarray = np.clip(np.hstack((frames, frames, np.zeros((len(rows), 3)))), self.low, self.high)
        return observations

    def step(self, rows: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step `rows` with `actions` (one each): observations (clipped, zero where the physics failed),
        rewards, success and whether the physics failed (a non-finite frame or reward)."""
        batch, mocap = self.batch, self.mocap
        batch.mocap_pos[rows, mocap] = self.mocap_targets(batch.mocap_pos[rows, mocap], actions)
        batch.mocap_quat[rows, mocap] = MOCAP_QUAT
        grip = actions[:, -1].astype(np.float64)
        batch.ctrl[rows] = np.stack((grip, -grip), axis=1)
        batch.step(rows, nstep=FRAME_SKIP, stage=_POSITIONS)
        now = Physics(self.model, {field: values[rows] for field, values in self.bound.items()}, self.ids)
        current = frame(self.family, now)
        goal = np.zeros((len(rows), 3))
        observations: np.ndarray = np.clip(np.hstack((current, self.previous[rows], goal)), self.low, self.high)
        self.previous[rows] = current
        episode = {name: values[rows] for name, values in self.episode.items()}
        reward, success = self.family.reward_and_success(observations, now, episode, actions)
        nonfinite = ~np.isfinite(current).all(axis=1) | ~np.isfinite(reward)  # before the clip hides an inf
        observations[nonfinite] = 0.0
        reward = np.where(nonfinite, 0.0, reward)
        return observations, reward, success & ~nonfinite, nonfinite

    def mocap_targets(self, mocap_pos: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The mocap positions (N, 3) after `actions` (N, 4), in the actions' own precision as Meta-World
        computes them (a float32 action's shift is rounded to float32)."""
        shift = np.clip(actions[:, :3], -1, 1) * ACTION_SCALE
        targets: np.ndarray = np.clip(mocap_pos + shift, self.mocap_low, self.mocap_high)
        return targets
