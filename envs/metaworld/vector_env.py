"""Batched and single Meta-World envs, physics and reward in NumPy arrays.

`MetaWorldVectorEnv` steps its sub-envs with one `mujoco.batch.Batch` call per family per env
step (a sub-env runs in the batch of its task's family); `MetaWorldEnv` is one sub-env of it,
so the two agree to the last bit. Each matches Meta-World's own env of the family (reset,
observation, v2 reward, success) for the same task and actions
(tests/envs/test_metaworld_reference.py). Episodes last 500 steps (truncated), and never
terminate: Meta-World's train envs do not end on success, and its success rate counts an
episode that succeeds at any step (info["success"]). Physics that fails (a non-finite
observation) ends the episode: observation and reward zero, terminated, info["nonfinite"].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from ..autoreset import AutoresetVectorEnv
from ..protocol import Task
from ..rollout_vector_env import default_threads
from ..tasks import parsed_tasks
from .goals import SplitTasks
from .installed import assets_dir
from .sawyer import OBSERVATION_SIZE, SawyerBatch, observation_bounds

MAX_PATH_LENGTH = 500  # Meta-World's SawyerXYZEnv.max_path_length
BENCHMARKS = ("ML1", "ML10")


def spaces() -> tuple[gym.spaces.Box, gym.spaces.Box]:
    low, high = observation_bounds()
    observations = gym.spaces.Box(low, high, shape=(OBSERVATION_SIZE,), dtype=np.float64)
    actions = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
    return observations, actions


def split_tasks_of(benchmark: str, family: str, split: str, benchmark_seed: int) -> SplitTasks:
    """The goals of a benchmark's split: ML1's of `family`, or ML10's (its families; `family` unused)."""
    if benchmark == "ML1":
        return SplitTasks.ml1(family, split, benchmark_seed)
    if benchmark == "ML10":
        return SplitTasks.ml10(split, benchmark_seed)
    raise ValueError(f"benchmark must be one of {', '.join(BENCHMARKS)}, got {benchmark!r}")


class MetaWorldVectorEnv(AutoresetVectorEnv):
    """N sub-envs of Meta-World tasks, one task each (`set_tasks`); see the module docstring.

    `benchmark`, `family`, `split` and `benchmark_seed` choose the goals `sample_tasks` draws
    from: ML1's train or test goals as `metaworld.ML1(family + "-v3", seed=benchmark_seed)` has
    them, or ML10's train or test families and goals as `metaworld.ML10(seed=benchmark_seed)`.
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
        benchmark: str = "ML1",
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        if not 1 <= max_episode_steps <= MAX_PATH_LENGTH:
            raise ValueError(
                f"max_episode_steps must be in [1, {MAX_PATH_LENGTH}] (Meta-World's horizon), got {max_episode_steps}"
            )
        assets_dir()  # one line naming the install where metaworld is missing, before any model is needed
        super().__init__(num_envs, autoreset_mode)
        self.tasks = split_tasks_of(benchmark, family, split, benchmark_seed)
        self._batch(*spaces(), max_episode_steps)
        threads = default_threads() if num_threads is None else int(num_threads)
        self._threads = threads if threads > 1 else 1
        self._sawyers: dict[str, SawyerBatch] = {}  # one per family, built when a task first needs it
        first = self.tasks.parse(self.tasks.at(0))
        self._families = [first[0].name] * num_envs
        self._rand_vecs: list[np.ndarray] = [first[1]] * num_envs
        self._observations = np.zeros((num_envs, OBSERVATION_SIZE))

    def _sawyer(self, family: str) -> SawyerBatch:
        if family not in self._sawyers:
            self._sawyers[family] = SawyerBatch(self.tasks.by_name[family], self.num_envs, self._threads)
        return self._sawyers[family]

    def _rows_by_family(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        families = np.array(self._families)[rows]
        return {name: rows[families == name] for name in dict.fromkeys(families.tolist())}

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env; each applies from its sub-env's next reset and persists."""
        parsed = parsed_tasks(tasks, self.num_envs, self.tasks.parse)
        self._families = [family.name for family, _ in parsed]
        self._rand_vecs = [rand_vec for _, rand_vec in parsed]

    def get_tasks(self) -> list[Task]:
        return [self.tasks.task(self.tasks.by_name[f], v) for f, v in zip(self._families, self._rand_vecs, strict=True)]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the sub-envs of options["reset_mask"] (all by default) on their tasks. Meta-World's
        resets draw nothing: a seed is accepted for the vector-env API and changes no episode."""
        rows = np.flatnonzero(self._start_episodes(seed, options))
        for family, members in self._rows_by_family(rows).items():
            rand_vecs = np.stack([self._rand_vecs[i] for i in members])
            self._observations[members] = self._sawyer(family).reset(members, rand_vecs)
        return self._observations.copy(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs, 4):
            raise ValueError(f"actions must have shape ({self.num_envs}, 4), got {actions.shape}")
        finished, resetting = self._begin_step()
        rewards = np.zeros(self.num_envs)
        success = np.zeros(self.num_envs, dtype=bool)
        nonfinite = np.zeros(self.num_envs, dtype=bool)
        for family, rows in self._rows_by_family(np.flatnonzero(~finished)).items():
            observations, rewards[rows], success[rows], nonfinite[rows] = self._sawyer(family).step(rows, actions[rows])
            self._observations[rows] = observations
        terminated, truncated = self._end_step(finished, resetting, nonfinite)
        if resetting.any():
            self.reset(options={"reset_mask": resetting})
        info = {"success": success, "nonfinite": nonfinite}
        return self._observations.copy(), rewards, terminated, truncated, info


class MetaWorldEnv(gym.Env[np.ndarray, np.ndarray]):
    """One Meta-World env of a family: a batch of one, so it steps as a sub-env of the batched env."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar
    reports_success = True  # info["success"] of every step (rlmaml's sampler records it)

    def __init__(
        self, family: str = "reach", split: str = "train", benchmark_seed: int = 0, benchmark: str = "ML1"
    ) -> None:
        self._env = MetaWorldVectorEnv(
            1, family, split, benchmark_seed, num_threads=1, autoreset_mode=AutoresetMode.DISABLED, benchmark=benchmark
        )
        self.observation_space = self._env.single_observation_space
        self.action_space = self._env.single_action_space

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self._env.sample_tasks(n, seed)

    def set_task(self, task: Task) -> None:
        self._env.set_tasks([task])

    def split_tasks(self) -> list[Task]:
        """Every task of the env's split, in Meta-World's order (its evaluation visits each once)."""
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
