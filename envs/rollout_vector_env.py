"""Many copies of one MuJoCo model, stepped by one `mujoco.rollout` call per env step.

The physics of all sub-envs runs on MuJoCo's C++ thread pool with the GIL released; the
rest is numpy on the (num_envs, nstate) array of mjSTATE_FULLPHYSICS states, without a
Python loop over sub-envs (only the sub-envs being reset draw their noise one by one, from
their own generator, so an episode's start depends on its seed alone and not on how work is
split). Subclasses turn the states into observations, rewards and terminations.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import mujoco.rollout
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from .autoreset import ended_and_resetting, reset_mask, supported_autoreset_mode

_FULLPHYSICS = mujoco.mjtState.mjSTATE_FULLPHYSICS


# What `_evaluate` returns for the sub-envs of a step: observations, rewards, terminations and info arrays
StepArrays = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]


@dataclass(frozen=True)
class PhysicsStep:
    """One env step of the sub-envs `rows` (all of them as a slice, or their indices), for `_evaluate`:
    their states before and after (rows of the state array), the sensor readings of the last substep,
    the clipped actions, and whether MuJoCo's checks stopped their physics early."""

    rows: slice | np.ndarray
    before: np.ndarray
    after: np.ndarray
    sensordata: np.ndarray
    actions: np.ndarray
    diverged: np.ndarray


def default_threads() -> int:
    """This process's share of the cores it may run on: torchrun tells each of the processes
    it starts on a machine how many there are (LOCAL_WORLD_SIZE), and they share the cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


class RolloutVectorEnv(VectorEnv):
    """Batched MuJoCo physics with Gymnasium's autoreset modes and per-sub-env seeds.

    NEXT_STEP (the default): a step that follows the end of a sub-env's episode resets it
    instead (reward 0, neither terminated nor truncated), as in Gymnasium's SyncVectorEnv.
    DISABLED: a finished sub-env stays finished until `reset(options={"reset_mask": ...})`;
    steps report its last observation, reward 0 and its end flags again. Either way only the
    sub-envs in an episode go into the physics call, so a batch whose episodes end early (Ant
    falling or jumping out of its healthy heights) costs only the steps it keeps. Each env step starts
    MuJoCo's constraint solver cold (zero qacc_warmstart), which is what `mujoco.rollout`
    does for every call. A MuJoCo warning (e.g. its automatic reset of a diverged state)
    makes rollout stop that sub-env early; the state's clock then falls short, which is how
    `step` sees physics failures without reading any MjData.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(
        self,
        num_envs: int,
        model: mujoco.MjModel,
        frame_skip: int,
        reset_noise_scale: float,
        max_episode_steps: int,
        num_threads: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        self.num_envs = num_envs
        self.model = model
        self.frame_skip = int(frame_skip)
        self.dt = model.opt.timestep * self.frame_skip
        self.reset_noise_scale = float(reset_noise_scale)
        self.max_episode_steps = int(max_episode_steps)
        self.num_threads = default_threads() if num_threads is None else int(num_threads)
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be positive, got {num_threads}")
        self.autoreset_mode = supported_autoreset_mode(autoreset_mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        # nthread=0 runs on the calling thread: a pool of one would only add a hand-over
        self._rollout = mujoco.rollout.Rollout(nthread=self.num_threads if self.num_threads > 1 else 0)
        self._datas = [mujoco.MjData(model) for _ in range(self.num_threads)]
        self._models = [model] * num_envs

        data = mujoco.MjData(model)
        template = np.empty(mujoco.mj_stateSize(model, _FULLPHYSICS))
        mujoco.mj_getState(model, data, template, _FULLPHYSICS)
        # mjSTATE_FULLPHYSICS is laid out as time, qpos, qvel, then the rest
        self._qpos = slice(1, 1 + model.nq)
        self._qvel = slice(1 + model.nq, 1 + model.nq + model.nv)
        self._template = template
        self._init_qpos = data.qpos.copy()
        self._init_qvel = data.qvel.copy()

        self._state = np.tile(template, (num_envs, 1))
        self._control = np.zeros((num_envs, self.frame_skip, model.nu))
        self._trajectory = np.empty((num_envs, self.frame_skip, template.size))
        self._sensordata = np.empty((num_envs, self.frame_skip, model.nsensordata))
        self._ctrl_low, self._ctrl_high = model.actuator_ctrlrange.T.copy()
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._elapsed = np.zeros(num_envs, dtype=np.int64)
        self._terminated = np.zeros(num_envs, dtype=bool)
        self._truncated = np.zeros(num_envs, dtype=bool)
        self._observations: np.ndarray | None = None  # what the last reset or step returned

        self.single_action_space = gym.spaces.Box(
            self._ctrl_low.astype(np.float32), self._ctrl_high.astype(np.float32), dtype=np.float32
        )
        self.action_space = batch_space(self.single_action_space, num_envs)

    @abstractmethod
    def _evaluate(self, step: PhysicsStep) -> StepArrays:
        """Observations, rewards, terminations and info arrays of the sub-envs `step.rows` for one step."""

    @abstractmethod
    def _reset_observation(self, states: np.ndarray) -> np.ndarray:
        """Observations of freshly reset states (rows of the state array)."""

    def _qpos_of(self, states: np.ndarray) -> np.ndarray:
        return states[:, self._qpos]

    def _qvel_of(self, states: np.ndarray) -> np.ndarray:
        return states[:, self._qvel]

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Set every sub-env's joint positions (N, nq) and velocities (N, nv), like MujocoEnv.set_state."""
        self._state[:, self._qpos] = qpos
        self._state[:, self._qvel] = qvel

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset all sub-envs, or those in options["reset_mask"]; seed i (or seed + i for an
        int) seeds sub-env i, as in SyncVectorEnv."""
        mask = reset_mask(options, self.num_envs)
        if self._observations is None and not mask.all():
            raise ValueError("reset all sub-envs once before resetting some of them with a reset_mask")
        if seed is None:
            seeds: Sequence[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset needs one seed per sub-env: got {len(seeds)} seeds for {self.num_envs} envs")
        rows = np.flatnonzero(mask)
        for i in rows.tolist():
            if seeds[i] is not None:
                self._rngs[i], _ = seeding.np_random(seeds[i])
        fresh = self._start_episodes(rows)
        if self._observations is None:
            self._observations = fresh
        else:
            self._observations[rows] = fresh
        return self._observations.copy(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        observations = self._observations
        if observations is None:
            raise gym.error.ResetNeeded("reset the env before its first step")
        actions = np.clip(np.asarray(actions, dtype=np.float64), self._ctrl_low, self._ctrl_high)
        finished, resetting = ended_and_resetting(self._terminated, self._truncated, self.autoreset_mode)
        # only sub-envs within an episode go to the physics; a view (no copy) when that is all of them
        rows = slice(None) if not finished.any() else np.flatnonzero(~finished)
        count = self.num_envs - int(finished.sum())

        before = self._state[rows]
        if count:
            self._control[:count] = actions[rows, None, :]
            self._rollout.rollout(
                self._models[:count],
                self._datas,
                before,
                self._control[:count],
                nstep=self.frame_skip,
                state=self._trajectory[:count],
                sensordata=self._sensordata[:count],
                skip_checks=True,
            )
        after = self._trajectory[:count, -1]
        diverged = after[:, 0] < before[:, 0] + (self.frame_skip - 0.5) * self.model.opt.timestep
        stepped = self._evaluate(
            PhysicsStep(rows, before, after, self._sensordata[:count, -1], actions[rows], diverged)
        )
        self._state[rows] = after
        self._elapsed[rows] += 1

        # sub-envs left out of the physics: finished ones repeat their end (DISABLED) or start anew (NEXT_STEP)
        rewards = np.zeros(self.num_envs)
        terminated = self._terminated & ~resetting
        truncated = self._truncated & ~resetting
        observations[rows], rewards[rows], terminated[rows] = stepped[:3]
        truncated[rows] = self._elapsed[rows] >= self.max_episode_steps
        info = {}
        for key, value in stepped[3].items():
            info[key] = np.zeros((self.num_envs, *value.shape[1:]), dtype=value.dtype)
            info[key][rows] = value
        if resetting.any():
            observations[resetting] = self._start_episodes(np.flatnonzero(resetting))
        self._terminated, self._truncated = terminated, truncated
        return observations.copy(), rewards, terminated.copy(), truncated.copy(), info

    def close_extras(self, **kwargs: Any) -> None:
        self._rollout.close()

    def _reset_noise(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Noise on one sub-env's initial qpos and qvel, as in Gymnasium's v5 envs: U(-s, s) and N(0, s^2)."""
        scale = self.reset_noise_scale
        return rng.uniform(low=-scale, high=scale, size=self.model.nq), scale * rng.standard_normal(self.model.nv)

    def _start_episodes(self, rows: np.ndarray) -> np.ndarray:
        """Start new episodes in `rows` and return their observations: the initial state plus
        `_reset_noise`, drawn from each sub-env's own stream."""
        qpos_noise = np.empty((len(rows), self.model.nq))
        qvel_noise = np.empty((len(rows), self.model.nv))
        for k, i in enumerate(rows):
            rng = self._rngs[i]
            if rng is None:
                rng = self._rngs[i] = seeding.np_random()[0]
            qpos_noise[k], qvel_noise[k] = self._reset_noise(rng)
        self._state[rows] = self._template
        self._state[rows, self._qpos] = self._init_qpos + qpos_noise
        self._state[rows, self._qvel] = self._init_qvel + qvel_noise
        self._elapsed[rows] = 0
        self._terminated[rows] = False
        self._truncated[rows] = False
        return self._reset_observation(self._state[rows])
