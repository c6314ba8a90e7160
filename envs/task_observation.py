"""Observations that include the task, for the oracle baseline (a policy told its task), and
envs that draw a new task every episode, for the pretrained baseline and the oracle.

Each wrapper keeps the task protocol (see task_wrappers) and reads the task through it at
every observation, so a task set on any level of the stack shows in the next observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from .protocol import Task
from .task_wrappers import TaskVectorWrapper, TaskWrapper
from .tasks import make_rng


def task_vector(task: Task) -> np.ndarray:
    """The task's numbers in the order of its sorted field names: {"goal": [1, 2]} -> [1., 2.].
    ValueError for a task that names its kind (ML10's "family"): its kinds have different
    fields, so no observation of one size shows them all."""
    named = [field for field in sorted(task) if isinstance(task[field], str)]
    if named:
        raise ValueError(
            f"observe_task appends a task's numbers, and these tasks name their {named[0]} (fields differ "
            "between them): set observe_task: false"
        )
    return np.concatenate([np.asarray(task[field], dtype=np.float64).reshape(-1) for field in sorted(task)])


def _extended(space: gym.spaces.Space[Any], extra: int) -> gym.spaces.Box:
    """`space` with `extra` unbounded numbers appended; the task can only join a Box observation."""
    if not isinstance(space, gym.spaces.Box):
        raise TypeError(f"the task can only be appended to a Box observation space, got {space}")
    low = np.concatenate([space.low, np.full(extra, -np.inf)]).astype(space.dtype)
    high = np.concatenate([space.high, np.full(extra, np.inf)]).astype(space.dtype)
    return gym.spaces.Box(low, high, dtype=space.dtype)


class TaskInObservation(TaskWrapper, gym.ObservationWrapper[Any, Any, Any]):
    """Appends the current task's vector to every observation of a single env."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        size = task_vector(self.get_task()).size
        self.observation_space = _extended(env.observation_space, size)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        task = task_vector(self.get_task())
        return np.concatenate([observation, task]).astype(self.observation_space.dtype)


class TaskInObservationVector(TaskVectorWrapper, gym.vector.VectorObservationWrapper[Any, Any, Any, Any]):
    """Appends each sub-env's task vector to its observation in a batched env."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any]) -> None:
        super().__init__(env)
        size = task_vector(self.get_tasks()[0]).size
        self.single_observation_space = _extended(env.single_observation_space, size)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        tasks = np.stack([task_vector(task) for task in self.get_tasks()])
        return np.concatenate([observations, tasks], axis=1).astype(self.single_observation_space.dtype)


# Keys the task stream apart from the env's own generator seeded by the same reset seed.
TASK_STREAM = 7_919


class NewTaskEachEpisode(TaskWrapper):
    """Sets a task drawn from the env's own distribution at every reset (a task-randomised
    env). A seeded reset also seeds the stream of tasks, as it seeds the env."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self._task_rng = make_rng(None)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._task_rng = make_rng([seed, TASK_STREAM])
        task_seed = int(self._task_rng.integers(2**31 - 1))
        self.set_task(self.sample_tasks(1, seed=task_seed)[0])
        return self.env.reset(seed=seed, options=options)
