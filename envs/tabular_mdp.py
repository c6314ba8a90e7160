"""Random tabular MDPs (Duan et al. 2016, RL^2), as pytorch-maml-rl ships them: a task family
of discrete actions whose expected return a policy's table of action probabilities gives by
dynamic programming (rlmaml.rl.exact.tabular_mdp).

`num_states` states, `num_actions` actions, episodes of 10 steps that always start in state
0 and never terminate. Observation: the state, one-hot (float32). A task draws transitions
T[s, a] ~ Dirichlet(1, ..., 1) over the next states and mean rewards R[s, a] ~ N(1, 1); a
step in s with action a earns R[s, a] plus `reward_noise` times a standard normal
(pytorch-maml-rl's: 1; 0 makes rewards deterministic given the task) and moves to a next
state drawn from T[s, a], both from the env's own seeded stream. A task is
`{"transitions": T, "rewards": R}`, nested or flattened lists of S*A*S and S*A numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from .autoreset import AutoresetVectorEnv
from .protocol import Task
from .streams import Streams, reseed, standard_normals
from .tasks import MAX_MAGNITUDE, make_rng, parsed_tasks

FIELDS = ("transitions", "rewards")
ROW_TOLERANCE = 1e-4  # how far from 1 a row of transition probabilities may sum (typed ones are rounded)


class TabularTasks:
    """The distribution of random MDPs; shared by the single and the batched env."""

    def __init__(self, num_states: int = 10, num_actions: int = 5, reward_noise: float = 1.0) -> None:
        for name, value in (("num_states", num_states), ("num_actions", num_actions)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (np.isfinite(reward_noise) and reward_noise >= 0):
            raise ValueError(f"reward_noise must be a finite number >= 0, got {reward_noise!r}")
        self.num_states, self.num_actions, self.reward_noise = num_states, num_actions, float(reward_noise)

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        rng = make_rng(seed)
        s, a = self.num_states, self.num_actions
        transitions = rng.dirichlet(np.ones(s), size=(n, s, a))
        rewards = rng.normal(1.0, 1.0, size=(n, s, a))
        return [
            {"transitions": t.reshape(-1).tolist(), "rewards": r.reshape(-1).tolist()}
            for t, r in zip(transitions, rewards, strict=True)
        ]

    def middle(self) -> tuple[np.ndarray, np.ndarray]:
        """The MDP before the first set_task(s): uniform transitions, rewards 1."""
        s, a = self.num_states, self.num_actions
        return np.full((s, a, s), 1.0 / s), np.ones((s, a))

    def arrays_of(self, task: Task) -> tuple[np.ndarray, np.ndarray]:
        """(T [S, A, S], R [S, A]) of a task, as given (`next_states` and the dynamic programming
        divide each T[s, a] by its sum); ValueError naming the field if malformed."""
        if not isinstance(task, Mapping) or set(task) != set(FIELDS):
            raise ValueError(f"task must be a dict with the fields 'transitions' and 'rewards', got {task!r}")
        s, a = self.num_states, self.num_actions
        transitions = self._numbers(task, "transitions", (s, a, s))
        if np.any(transitions < 0) or np.any(np.abs(transitions.sum(-1) - 1) > ROW_TOLERANCE):
            raise ValueError("task field 'transitions' must hold probabilities: each T[s, a] >= 0 summing to 1")
        rewards = self._numbers(task, "rewards", (s, a))
        if np.any(np.abs(rewards) > MAX_MAGNITUDE):
            raise ValueError(f"task field 'rewards' must lie within +-{MAX_MAGNITUDE:g}")
        return transitions, rewards

    @staticmethod
    def _numbers(task: Task, field: str, shape: tuple[int, ...]) -> np.ndarray:
        try:
            value = np.asarray(task[field], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"task field '{field}' must be numbers of shape {shape}") from None
        if value.size != int(np.prod(shape)) or not np.all(np.isfinite(value)):
            raise ValueError(f"task field '{field}' must be {int(np.prod(shape))} finite numbers (shape {shape})")
        return value.reshape(shape)

    def next_states(self, rows: np.ndarray, draws: np.ndarray) -> np.ndarray:
        """The next state of each transition row [N, S] given a uniform each (inverse CDF)."""
        cumulative = np.cumsum(rows, axis=-1)
        chosen = (cumulative < draws[:, None] * cumulative[:, -1:]).sum(-1)
        states: np.ndarray = np.minimum(chosen, self.num_states - 1)
        return states


def one_hot(states: np.ndarray, num_states: int) -> np.ndarray:
    observations = np.zeros((len(states), num_states), dtype=np.float32)
    observations[np.arange(len(states)), states] = 1.0
    return observations


def observation_space(num_states: int) -> gym.spaces.Box:
    return gym.spaces.Box(0.0, 1.0, shape=(num_states,), dtype=np.float32)


def task_of(transitions: np.ndarray, rewards: np.ndarray) -> Task:
    return {"transitions": transitions.reshape(-1).tolist(), "rewards": rewards.reshape(-1).tolist()}


class TabularMDPEnv(gym.Env):
    """Single random tabular MDP; see the module docstring (the horizon is TimeLimit's)."""

    metadata = {"render_modes": []}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(self, num_states: int = 10, num_actions: int = 5, reward_noise: float = 1.0) -> None:
        self.tasks = TabularTasks(num_states, num_actions, reward_noise)
        self.observation_space = observation_space(num_states)
        self.action_space = gym.spaces.Discrete(num_actions)
        self._transitions, self._rewards = self.tasks.middle()
        self._state = 0
        self._stream = Streams(1, self.np_random)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_task(self, task: Task) -> None:
        self._transitions, self._rewards = self.tasks.arrays_of(task)

    def get_task(self) -> Task:
        return task_of(self._transitions, self._rewards)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._stream.seed([seed])
        self._state = 0
        return one_hot(np.array([0]), self.tasks.num_states)[0], {}

    def step(self, action: int | np.integer) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < self.tasks.num_actions:
            raise ValueError(f"action must be in [0, {self.tasks.num_actions}), got {action!r}")
        u = self._stream.uniforms(3)
        reward = self._rewards[self._state, a] + self.tasks.reward_noise * standard_normals(u[:, 1], u[:, 2])[0]
        self._state = int(self.tasks.next_states(self._transitions[self._state, a][None], u[:, 0])[0])
        return one_hot(np.array([self._state]), self.tasks.num_states)[0], float(reward), False, False, {}


class TabularMDPVectorEnv(AutoresetVectorEnv):
    """N random MDPs stepped together, one task and one random stream per sub-env; autoreset as
    AutoresetVectorEnv's, to state 0. Matches N single envs step for step.
    """

    def __init__(
        self,
        num_envs: int,
        num_states: int = 10,
        num_actions: int = 5,
        reward_noise: float = 1.0,
        max_episode_steps: int = 10,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    ) -> None:
        super().__init__(num_envs, autoreset_mode)
        self.tasks = TabularTasks(num_states, num_actions, reward_noise)
        self._batch(observation_space(num_states), gym.spaces.Discrete(num_actions), max_episode_steps)
        transitions, rewards = self.tasks.middle()
        self._transitions = np.repeat(transitions[None], num_envs, axis=0)
        self._rewards = np.repeat(rewards[None], num_envs, axis=0)
        self._streams = Streams(num_envs, self.np_random)
        self._states = np.zeros(num_envs, dtype=np.int64)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self.tasks.sample(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """One task per sub-env, in order; each persists across resets."""
        arrays = parsed_tasks(tasks, self.num_envs, self.tasks.arrays_of)
        self._transitions = np.stack([t for t, _ in arrays])
        self._rewards = np.stack([r for _, r in arrays])

    def get_tasks(self) -> list[Task]:
        return [task_of(t, r) for t, r in zip(self._transitions, self._rewards, strict=True)]

    def reset(
        self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every episode starts in state 0; options["reset_mask"] resets only some sub-envs;
        seeds restart their streams (see rlmaml.envs.streams.reseed)."""
        self._states[self._start_episodes(seed, options)] = 0
        return one_hot(self._states, self.tasks.num_states), {}

    def _seed(self, seed: int | Sequence[int] | None, mask: np.ndarray) -> None:
        reseed(self._streams, seed, mask)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        chosen = np.asarray(actions).reshape(self.num_envs).astype(np.int64)
        if np.any(chosen < 0) or np.any(chosen >= self.tasks.num_actions):
            raise ValueError(f"actions must be in [0, {self.tasks.num_actions}), got {actions!r}")
        finished, resetting = self._begin_step()
        u = self._streams.uniforms(3, ~finished)
        envs = np.arange(self.num_envs)
        noise = self.tasks.reward_noise * standard_normals(u[:, 1], u[:, 2])
        rewards = np.where(finished, 0.0, self._rewards[envs, self._states, chosen] + noise)
        moved = self.tasks.next_states(self._transitions[envs, self._states, chosen], u[:, 0])
        self._states = np.where(finished, self._states, moved)
        self._states[resetting] = 0
        terminated, truncated = self._end_step(finished, resetting, False)  # episodes only end at the horizon
        return one_hot(self._states, self.tasks.num_states), rewards, terminated, truncated, {}
