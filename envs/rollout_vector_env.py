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
from typing import Any

import gymnasium as gym
import mujoco
import mujoco.rollout
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

_FULLPHYSICS = mujoco.mjtState.mjSTATE_FULLPHYSICS


def default_threads() -> int:
    """This process's share of the cores it may run on: torchrun tells each of the processes
    it starts on a machine how many there are (LOCAL_WORLD_SIZE), and they share the cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


class RolloutVectorEnv(VectorEnv):
    """Batched MuJoCo physics with Gymnasium's next-step autoreset and per-sub-env seeds.

    A step that follows the end of a sub-env's episode resets it instead (reward 0, neither
    terminated nor truncated), as in Gymnasium's SyncVectorEnv. Each env step starts
    MuJoCo's constraint solver cold (zero qacc_warmstart), which is what `mujoco.rollout`
    does for every call. A MuJoCo warning (e.g. its automatic reset of a diverged state)
    makes rollout stop that sub-env early; the state's clock then falls short, which is how
    `step` sees physics failures without reading any MjData.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        model: mujoco.MjModel,
        frame_skip: int,
        reset_noise_scale: float,
        max_episode_steps: int,
        num_threads: int | None = None,
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
        self._needs_reset = np.zeros(num_envs, dtype=bool)

        self.single_action_space = gym.spaces.Box(
            self._ctrl_low.astype(np.float32), self._ctrl_high.astype(np.float32), dtype=np.float32
        )
        self.action_space = batch_space(self.single_action_space, num_envs)

    @abstractmethod
    def _evaluate(
        self, before: np.ndarray, after: np.ndarray, sensordata: np.ndarray, actions: np.ndarray, diverged: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Observations, rewards, terminations and info arrays of all sub-envs for one step."""

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

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        """Reset all sub-envs; seed i (or seed + i for an int) seeds sub-env i, as in SyncVectorEnv."""
        if seed is None:
            seeds: Sequence[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset needs one seed per sub-env: got {len(seeds)} seeds for {self.num_envs} envs")
        for i, s in enumerate(seeds):
            if s is not None:
                self._rngs[i], _ = seeding.np_random(s)
        self._start_episodes(np.arange(self.num_envs))
        self._elapsed[:] = 0
        self._needs_reset[:] = False
        return self._reset_observation(self._state), {}

    def step(self, actions):
        actions = np.clip(np.asarray(actions, dtype=np.float64), self._ctrl_low, self._ctrl_high)
        resetting = self._needs_reset
        any_reset = bool(resetting.any())
        if any_reset:
            self._start_episodes(np.flatnonzero(resetting))

        self._control[:] = actions[:, None, :]
        self._rollout.rollout(
            self._models,
            self._datas,
            self._state,
            self._control,
            nstep=self.frame_skip,
            state=self._trajectory,
            sensordata=self._sensordata,
            skip_checks=True,
        )
        after = self._trajectory[:, -1]
        diverged = after[:, 0] < self._state[:, 0] + (self.frame_skip - 0.5) * self.model.opt.timestep
        observations, rewards, terminated, info = self._evaluate(
            self._state, after, self._sensordata[:, -1], actions, diverged
        )

        self._elapsed += 1
        if any_reset:
            # resetting sub-envs keep their new initial state and report it
            observations[resetting] = self._reset_observation(self._state[resetting])
            rewards[resetting] = 0.0
            terminated[resetting] = False
            for value in info.values():
                value[resetting] = 0
            self._elapsed[resetting] = 0
            np.copyto(self._state, after, where=~resetting[:, None])
        else:
            self._state[:] = after
        truncated = ~resetting & (self._elapsed >= self.max_episode_steps)
        self._needs_reset = terminated | truncated
        return observations, rewards, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        self._rollout.close()

    def _start_episodes(self, rows: np.ndarray) -> None:
        """Initial states like Gymnasium's v5 envs: qpos0 + U(-s, s), qvel ~ N(0, s^2), per sub-env stream."""
        scale = self.reset_noise_scale
        nq, nv = self.model.nq, self.model.nv
        qpos_noise = np.empty((len(rows), nq))
        qvel_noise = np.empty((len(rows), nv))
        for k, i in enumerate(rows):
            rng = self._rngs[i]
            if rng is None:
                rng = self._rngs[i] = seeding.np_random()[0]
            qpos_noise[k] = rng.uniform(low=-scale, high=scale, size=nq)
            qvel_noise[k] = scale * rng.standard_normal(nv)
        self._state[rows] = self._template
        self._state[rows, self._qpos] = self._init_qpos + qpos_noise
        self._state[rows, self._qvel] = self._init_qvel + qvel_noise
