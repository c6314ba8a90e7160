"""2D navigation (MAML paper, section 5.3): a point agent walks from the origin to a goal.

Observation: position (2,), starting at (0, 0). Action: a displacement, clipped to
[-max_action, max_action]^2. Reward: minus the Euclidean distance to the goal after the move.
The episode terminates when both coordinates are within `goal_tolerance` of the goal.
A task is `{"goal": [gx, gy]}`, sampled uniformly from [goal_low, goal_high]^2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from .autoreset import AutoresetVectorEnv
from .protocol import Task
from .tasks import MAX_MAGNITUDE, make_rng, parsed_tasks, sampling_range, vector_in_range


def motion_settings(max_action: float, goal_tolerance: float) -> tuple[float, float]:
    """max_action in (0, MAX_MAGNITUDE] and goal_tolerance in [0, MAX_MAGNITUDE] as floats, else
    ValueError naming them (an infinite max_action breaks the action space's rescaling)."""
    max_action, goal_tolerance = float(max_action), float(goal_tolerance)
    if not 0 < max_action <= MAX_MAGNITUDE:
        raise ValueError(f"max_action must be in (0, {MAX_MAGNITUDE:g}], got {max_action:g}")
    if not 0 <= goal_tolerance <= MAX_MAGNITUDE:
        raise ValueError(f"goal_tolerance must be in [0, {MAX_MAGNITUDE:g}], got {goal_tolerance:g}")
    return max_action, goal_tolerance


class NavigationTasks:
    """The distribution of 2D goals; shared by the single and the batched env."""

    def __init__(self, goal_low: float = -0.5, goal_high: float = 0.5) -> None:
        self.goal_low, self.goal_high = sampling_range("goal_low", goal_low, "goal_high", goal_high)

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        goals = make_rng(seed).uniform(self.goal_low, self.goal_high, size=(n, 2))
        return [{"goal": [float(x), float(y)]} for x, y in goals]

    def goal_of(self, task: Task) -> np.ndarray:
        """The goal of a task as a float64 array; ValueError naming the field if malformed or far
        outside the sampling range (see `vector_in_range`)."""
        return vector_in_range(task, "goal", 2, self.goal_low, self.goal_high)


class Navigation2DEnv(gym.Env):
    """Single 2D-navigation env; see the module docstring for the dynamics."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(
        self,
        goal_low: float = -0.5,
        goal_high: float = 0.5,
        max_action: float = 0.1,
        goal_tolerance: float = 0.01,
    ) -> None:
        self.tasks = NavigationTasks(goal_low, goal_high)
        self.max_action, self.goal_tolerance = motion_settings(max_action, goal_tolerance)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-max_action, max_action, shape=(2,), dtype=np.float32)
        self._goal = np.zeros(2)
        self._position = np.zeros(2)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_task(self, task: Task) -> None:
        self._goal = self.tasks.goal_of(task)

    def get_task(self) -> Task:
        return {"goal": self._goal.tolist()}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._position = np.zeros(2)
        return self._position.astype(np.float32), {"task": self.get_task()}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        move = np.clip(np.asarray(action, dtype=np.float64), -self.max_action, self.max_action)
        self._position = self._position + move
        offset = self._position - self._goal
        reward = -float(np.sqrt(np.sum(offset**2)))
        terminated = bool(np.all(np.abs(offset) < self.goal_tolerance))
        return self._position.astype(np.float32), reward, terminated, False, {"task": self.get_task()}


class Navigation2DVectorEnv(AutoresetVectorEnv):
    """N navigation agents stepped together as numpy arrays, one task per sub-env; autoreset as
    AutoresetVectorEnv's, a finished agent staying where it ended. Matches N single envs step
    for step.
    """

    def __init__(
        self,
        num_envs: int,
        goal_low: float = -0.5,
        goal_high: float = 0.5,
        max_action: float = 0.1,
        goal_tolerance: float = 0.01,
        max_episode_steps: int = 100,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        super().__init__(num_envs, autoreset_mode)
        self.tasks = NavigationTasks(goal_low, goal_high)
        self.max_action, self.goal_tolerance = motion_settings(max_action, goal_tolerance)
        self._batch(
            gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32),
            gym.spaces.Box(-max_action, max_action, shape=(2,), dtype=np.float32),
            max_episode_steps,
        )
        self._goals = np.zeros((num_envs, 2))
        self._positions = np.zeros((num_envs, 2))

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env, in order; each persists across resets."""
        self._goals = np.stack(parsed_tasks(tasks, self.num_envs, self.tasks.goal_of))

    def get_tasks(self) -> list[Task]:
        return [{"goal": g.tolist()} for g in self._goals]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every episode starts at the origin; options["reset_mask"] resets only some sub-envs."""
        self._positions[self._start_episodes(seed, options)] = 0.0
        return self._positions.astype(np.float32), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        move = np.clip(np.asarray(actions, dtype=np.float64), -self.max_action, self.max_action)
        finished, resetting = self._begin_step()
        self._positions = np.where(finished[:, None], self._positions, self._positions + move)
        self._positions[resetting] = 0.0
        offset = self._positions - self._goals
        rewards = np.where(finished, 0.0, -np.sqrt(np.sum(offset**2, axis=1)))
        reached = np.all(np.abs(offset) < self.goal_tolerance, axis=1)
        terminated, truncated = self._end_step(finished, resetting, reached)
        return self._positions.astype(np.float32), rewards, terminated, truncated, {}
