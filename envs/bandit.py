"""A one-step Gaussian bandit: a task family whose exact meta-gradient is known, to test
meta-gradient estimators against it.

Observation: a constant 0.0 of shape (1,). Action: a real number a of shape (1,), unbounded
and never clipped. Reward: -(a - g)^2, in float64 from the action, after which the episode
terminates. A task is `{"goal": g}`, g sampled uniformly from [goal_low, goal_high]. For a
Gaussian policy a ~ N(mu, sigma^2) the expected reward is -(mu - g)^2 - sigma^2, so MAML's
objective after exact policy-gradient steps, and its gradient, have closed forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from .autoreset import AutoresetVectorEnv
from .protocol import Task
from .tasks import make_rng, parsed_tasks, sampling_range, vector_in_range


def real_line() -> gym.spaces.Box:
    """One unbounded float32 number: the bandit's observation and its action."""
    return gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)


class BanditTasks:
    """The distribution of goals g ~ U[goal_low, goal_high]; shared by the single and the batched env."""

    def __init__(self, goal_low: float = -1.0, goal_high: float = 1.0) -> None:
        self.goal_low, self.goal_high = sampling_range("goal_low", goal_low, "goal_high", goal_high)

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        goals = make_rng(seed).uniform(self.goal_low, self.goal_high, size=n)
        return [{"goal": float(g)} for g in goals]

    def middle(self) -> float:
        """The goal an env has before the first set_task(s)."""
        return (self.goal_low + self.goal_high) / 2

    def goal_of(self, task: Task) -> float:
        """The goal of a task (a number or a 1-element sequence); ValueError naming the field if
        malformed or far outside the sampling range (see `vector_in_range`)."""
        return float(vector_in_range(task, "goal", 1, self.goal_low, self.goal_high)[0])


class GaussianBanditEnv(gym.Env):
    """Single one-step bandit; see the module docstring for the dynamics."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(self, goal_low: float = -1.0, goal_high: float = 1.0) -> None:
        self.tasks = BanditTasks(goal_low, goal_high)
        self.observation_space = real_line()
        self.action_space = real_line()
        self._goal = self.tasks.middle()

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_task(self, task: Task) -> None:
        self._goal = self.tasks.goal_of(task)

    def get_task(self) -> Task:
        return {"goal": self._goal}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {"task": self.get_task()}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward = -float(np.sum((np.asarray(action, dtype=np.float64) - self._goal) ** 2))
        return np.zeros(1, dtype=np.float32), reward, True, False, {"task": self.get_task()}


class GaussianBanditVectorEnv(AutoresetVectorEnv):
    """N bandits pulled together as numpy arrays, one task per sub-env; autoreset as
    AutoresetVectorEnv's. Matches N single envs step for step.
    """

    def __init__(
        self,
        num_envs: int,
        goal_low: float = -1.0,
        goal_high: float = 1.0,
        max_episode_steps: int = 1,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        super().__init__(num_envs, autoreset_mode)
        self.tasks = BanditTasks(goal_low, goal_high)
        self._batch(real_line(), real_line(), max_episode_steps)
        self._goals = np.full(num_envs, self.tasks.middle())

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env, in order; each persists across resets."""
        self._goals = np.array(parsed_tasks(tasks, self.num_envs, self.tasks.goal_of))

    def get_tasks(self) -> list[Task]:
        return [{"goal": float(g)} for g in self._goals]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every episode starts at the same observation; options["reset_mask"] resets only some sub-envs."""
        self._start_episodes(seed, options)
        return self._observations(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        offsets = np.asarray(actions, dtype=np.float64) - self._goals[:, None]
        finished, resetting = self._begin_step()
        rewards = np.where(finished, 0.0, -np.sum(offsets**2, axis=1))
        terminated, truncated = self._end_step(finished, resetting, True)  # every pull ends its episode
        return self._observations(), rewards, terminated, truncated, {}

    def _observations(self) -> np.ndarray:
        """Every sub-env's constant observation, 0.0."""
        return np.zeros((self.num_envs, 1), dtype=np.float32)
