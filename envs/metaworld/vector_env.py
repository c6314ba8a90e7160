"""Batched and single Meta-World envs of one family, physics and reward in NumPy arrays.

`MetaWorldVectorEnv` steps all its sub-envs with one `mujoco.batch.Batch` call per env step;
`MetaWorldEnv` is one sub-env of it, so the two agree to the last bit. Each matches
Meta-World's own env of the family (reset, observation, v2 reward, success) for the same task
and actions (tests/envs/test_metaworld_reference.py). Episodes last 500 steps (truncated),
and never terminate: Meta-World's train envs do not end on success, and its success rate
counts an episode that succeeds at any step (info["success"]). Physics that fails (a non-finite
observation) ends the episode: observation and reward zero, terminated, info["nonfinite"].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode

from ..autoreset import AutoresetVectorEnv
from ..protocol import Task
from ..rollout_vector_env import default_threads
from ..tasks import parsed_tasks
from .families import family_named
from .goals import ML1Tasks
from .sawyer import FRAME_SKIP, MOCAP_QUAT, OBJECT_QPOS, OBJECT_QVEL, OBSERVATION_SIZE, Sawyer

MAX_PATH_LENGTH = 500  # Meta-World's SawyerXYZEnv.max_path_length
_POSITIONS = mujoco.mjtStage.mjSTAGE_POS.value


def spaces(sawyer: Sawyer) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    observations = gym.spaces.Box(sawyer.low, sawyer.high, shape=(OBSERVATION_SIZE,), dtype=np.float64)
    actions = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
    return observations, actions


class MetaWorldVectorEnv(AutoresetVectorEnv):
    """N sub-envs of one Meta-World family, one task each (`set_tasks`); see the module docstring.

    `split` and `benchmark_seed` choose the goals `sample_tasks` draws from: ML1's train or
    test goals as `metaworld.ML1(family + "-v3", seed=benchmark_seed)` has them.
    """

    def __init__(
        self,
        num_envs: int,
        family: str = "reach",
        split: str = "train",
        benchmark_seed: int = 0,
        max_episode_steps: int = MAX_PATH_LENGTH,
        num_threads: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        if not 1 <= max_episode_steps <= MAX_PATH_LENGTH:
            raise ValueError(
                f"max_episode_steps must be in [1, {MAX_PATH_LENGTH}] (Meta-World's horizon), got {max_episode_steps}"
            )
        super().__init__(num_envs, autoreset_mode)
        self.tasks = ML1Tasks(family_named(family), split, benchmark_seed)
        self.sawyer = Sawyer(self.tasks.family)
        self._batch(*spaces(self.sawyer), max_episode_steps)
        threads = default_threads() if num_threads is None else int(num_threads)
        self.batch = self.sawyer.new_batch(num_envs, threads if threads > 1 else 1)
        # derived fields are copied out only once bound, so bind them before the first call
        self._xpos, self._site_xpos, self._geom_xmat = (self.batch.bind(f) for f in ("xpos", "site_xpos", "geom_xmat"))
        self._rand_vecs = np.tile(self.tasks.parse(self.tasks.sample(1, seed=0)[0]), (num_envs, 1))
        self._start = self.sawyer.start(self._rand_vecs[:, :3], self._rand_vecs[:, 3:])
        self._previous = np.zeros((num_envs, 18))  # the unclipped frame of each sub-env's last step
        self._observations = np.zeros((num_envs, OBSERVATION_SIZE))

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env; each applies from its sub-env's next reset and persists."""
        self._rand_vecs = np.stack(parsed_tasks(tasks, self.num_envs, self.tasks.parse))

    def get_tasks(self) -> list[Task]:
        return [self.tasks.task(v) for v in self._rand_vecs]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the sub-envs of options["reset_mask"] (all by default) on their tasks. Meta-World's
        resets draw nothing: a seed is accepted for the vector-env API and changes no episode."""
        rows = np.flatnonzero(self._start_episodes(seed, options))
        batch = self.batch
        batch.state[rows] = self.sawyer.hand_reset.state
        start = self.sawyer.start(self._rand_vecs[rows, :3], self._rand_vecs[rows, 3:])
        self._start.obj[rows], self._start.target[rows] = start.obj, start.target
        batch.qpos[rows, OBJECT_QPOS] = start.obj
        batch.qvel[rows, OBJECT_QVEL] = 0.0
        batch.forward(rows, stage=_POSITIONS)
        frame = self._frame(rows)
        self._previous[rows] = frame
        self._observations[rows] = self.sawyer.observation(frame, frame)
        return self._observations.copy(), {}

    def _frame(self, rows: np.ndarray | slice) -> np.ndarray:
        xpos = self._xpos[rows]
        now = self.sawyer.readout(xpos, self._site_xpos[rows])
        return self.sawyer.frame(xpos, self._geom_xmat[rows], now)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, 4):
            raise ValueError(f"actions must have shape ({self.num_envs}, 4), got {actions.shape}")
        finished, resetting = self._begin_step()
        rows = np.flatnonzero(~finished)
        rewards = np.zeros(self.num_envs)
        success = np.zeros(self.num_envs, dtype=bool)
        nonfinite = np.zeros(self.num_envs, dtype=bool)
        if len(rows):
            rewards[rows], success[rows], nonfinite[rows] = self._physics_step(rows, actions[rows])
        terminated, truncated = self._end_step(finished, resetting, nonfinite)
        if resetting.any():
            self.reset(options={"reset_mask": resetting})
        info = {"success": success, "nonfinite": nonfinite}
        return self._observations.copy(), rewards, terminated, truncated, info

    def _physics_step(self, rows: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reward, success and failed physics of the sub-envs `rows`; their observations in place."""
        batch, sawyer = self.batch, self.sawyer
        mocap = sawyer.mocap
        batch.mocap_pos[rows, mocap] = sawyer.mocap_targets(batch.mocap_pos[rows, mocap], actions)
        batch.mocap_quat[rows, mocap] = MOCAP_QUAT
        grip = actions[:, -1].astype(np.float64)
        batch.ctrl[rows] = np.stack((grip, -grip), axis=1)
        batch.step(rows, nstep=FRAME_SKIP, stage=_POSITIONS)
        xpos = self._xpos[rows]
        now = sawyer.readout(xpos, self._site_xpos[rows])
        frame = sawyer.frame(xpos, self._geom_xmat[rows], now)
        observations = sawyer.observation(frame, self._previous[rows])
        self._previous[rows] = frame
        reward, success = sawyer.family.reward_and_success(now, self._start.take(rows), actions)
        nonfinite = ~np.isfinite(frame).all(axis=1) | ~np.isfinite(reward)  # before the clip hides an inf
        observations[nonfinite] = 0.0
        reward[nonfinite] = 0.0
        success &= ~nonfinite
        self._observations[rows] = observations
        return reward, success, nonfinite


class MetaWorldEnv(gym.Env[np.ndarray, np.ndarray]):
    """One Meta-World env of a family: a batch of one, so it steps as a sub-env of the batched env."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar
    reports_success = True  # info["success"] of every step (rlmaml's sampler records it)

    def __init__(self, family: str = "reach", split: str = "train", benchmark_seed: int = 0) -> None:
        self._env = MetaWorldVectorEnv(
            1, family, split, benchmark_seed, num_threads=1, autoreset_mode=AutoresetMode.DISABLED
        )
        self.observation_space = self._env.single_observation_space
        self.action_space = self._env.single_action_space

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self._env.sample_tasks(n, seed)

    def set_task(self, task: Task) -> None:
        self._env.set_tasks([task])

    def split_tasks(self) -> list[Task]:
        """Every goal of the env's split, in Meta-World's order (its evaluation visits each once)."""
        return self._env.tasks.all()

    def get_task(self) -> Task:
        return self._env.get_tasks()[0]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        observations, _ = self._env.reset()
        return observations[0], {"task": self.get_task()}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        observations, rewards, terminated, truncated, info = self._env.step(np.asarray(action)[None])
        success, nonfinite = bool(info["success"][0]), bool(info["nonfinite"][0])
        # truncated at Meta-World's 500 steps, whatever longer limit a TimeLimit above it sets
        return (
            observations[0],
            float(rewards[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            {"success": success, "nonfinite": nonfinite},
        )
