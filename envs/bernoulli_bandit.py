"""A one-step Bernoulli bandit: a task family of discrete actions whose exact meta-gradient
is a finite sum (rlmaml.rl.exact.bernoulli_bandit), to test estimators of categorical policies.

Observation: a constant 0.0 of shape (1,). Action: one of `num_arms` arms (Discrete). Reward:
1 with the pulled arm's probability, else 0, drawn from the env's own seeded stream, after
which the episode terminates. A task is `{"probabilities": [p_1, ..., p_n]}`, each p_a drawn
uniformly from [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from .autoreset import AutoresetVectorEnv
from .protocol import Task
from .streams import Streams, reseed
from .tasks import finite_vector, make_rng, parsed_tasks

FIELD = "probabilities"


def constant_zero() -> gym.spaces.Box:
    """The bandit's observation: one float32 in [0, 1] that is always 0."""
    return gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)


class BernoulliTasks:
    """Arm probabilities p ~ U[0, 1]^num_arms; shared by the single and the batched env."""

    def __init__(self, num_arms: int = 5) -> None:
        if isinstance(num_arms, bool) or not isinstance(num_arms, int) or num_arms < 2:
            raise ValueError(f"num_arms must be an integer of at least 2, got {num_arms!r}")
        self.num_arms = num_arms

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        probabilities = make_rng(seed).uniform(0.0, 1.0, size=(n, self.num_arms))
        return [{FIELD: [float(p) for p in row]} for row in probabilities]

    def middle(self) -> np.ndarray:
        """The probabilities an env has before the first set_task(s)."""
        return np.full(self.num_arms, 0.5)

    def probabilities_of(self, task: Task) -> np.ndarray:
        """The arms' probabilities of a task; ValueError naming the field if malformed."""
        value = finite_vector(task, FIELD, self.num_arms)
        if np.any(value < 0.0) or np.any(value > 1.0):
            raise ValueError(f"task field '{FIELD}' must be {self.num_arms} numbers in [0, 1], got {task[FIELD]!r}")
        return value


class BernoulliBanditEnv(gym.Env):
    """Single one-step Bernoulli bandit; see the module docstring."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(self, num_arms: int = 5) -> None:
        self.tasks = BernoulliTasks(num_arms)
        self.observation_space = constant_zero()
        self.action_space = gym.spaces.Discrete(num_arms)
        self._probabilities = self.tasks.middle()
        self._stream = Streams(1, self.np_random)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_task(self, task: Task) -> None:
        self._probabilities = self.tasks.probabilities_of(task)

    def get_task(self) -> Task:
        return {FIELD: [float(p) for p in self._probabilities]}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._stream.seed([seed])
        return np.zeros(1, dtype=np.float32), {"task": self.get_task()}

    def step(self, action: int | np.integer) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        arm = int(action)
        if not 0 <= arm < self.tasks.num_arms:
            raise ValueError(f"action must be an arm in [0, {self.tasks.num_arms}), got {action!r}")
        reward = float(self._stream.uniforms(1)[0, 0] < self._probabilities[arm])
        return np.zeros(1, dtype=np.float32), reward, True, False, {"task": self.get_task()}


class BernoulliBanditVectorEnv(AutoresetVectorEnv):
    """N Bernoulli bandits pulled together, one task and one random stream per sub-env; autoreset
    as AutoresetVectorEnv's. Matches N single envs step for step.
    """

    def __init__(
        self,
        num_envs: int,
        num_arms: int = 5,
        max_episode_steps: int = 1,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        super().__init__(num_envs, autoreset_mode)
        self.tasks = BernoulliTasks(num_arms)
        self._batch(constant_zero(), gym.spaces.Discrete(num_arms), max_episode_steps)
        self._probabilities = np.tile(self.tasks.middle(), (num_envs, 1))
        self._streams = Streams(num_envs, self.np_random)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env, in order; each persists across resets."""
        self._probabilities = np.stack(parsed_tasks(tasks, self.num_envs, self.tasks.probabilities_of))

    def get_tasks(self) -> list[Task]:
        return [{FIELD: [float(p) for p in row]} for row in self._probabilities]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every episode starts at the same observation; options["reset_mask"] resets only some
        sub-envs; seeds restart their reward streams (see rlmaml.envs.streams.reseed)."""
        self._start_episodes(seed, options)
        return np.zeros((self.num_envs, 1), dtype=np.float32), {}

    def _seed(self, seed: int | Sequence[int] | None, mask: np.ndarray) -> None:
        reseed(self._streams, seed, mask)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        arms = np.asarray(actions).reshape(self.num_envs).astype(np.int64)
        if np.any(arms < 0) or np.any(arms >= self.tasks.num_arms):
            raise ValueError(f"actions must be arms in [0, {self.tasks.num_arms}), got {actions!r}")
        finished, resetting = self._begin_step()
        draws = self._streams.uniforms(1, ~finished)[:, 0]
        success = draws < self._probabilities[np.arange(self.num_envs), arms]
        rewards = np.where(finished, 0.0, success.astype(np.float64))
        terminated, truncated = self._end_step(finished, resetting, True)  # every pull ends its episode
        return np.zeros((self.num_envs, 1), dtype=np.float32), rewards, terminated, truncated, {}
