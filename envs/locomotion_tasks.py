"""Task distributions of the MAML locomotion benchmarks and the task-dependent reward term.

One object per env, shared by its single and batched versions so that both sample, validate
and reward tasks identically. The reward works on batches (leading axis = sub-env).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .protocol import Task
from .tasks import finite_scalar, make_rng, sampling_range, vector_in_range


class TaskFamily(ABC):
    """A distribution over tasks {field: value}; `parameters` turns a task into numbers."""

    field: str

    @abstractmethod
    def sample(self, n: int, seed: int | None = None) -> list[Task]: ...

    @abstractmethod
    def default_task(self) -> Task:
        """The task an env has before the first set_task(s)."""

    @abstractmethod
    def parameters(self, task: Task) -> np.ndarray:
        """The task as a 1-D float64 array; ValueError naming the field if malformed."""

    @abstractmethod
    def task(self, parameters: np.ndarray) -> Task:
        """Inverse of `parameters`."""

    @abstractmethod
    def reward(self, parameters: np.ndarray, x_velocity: np.ndarray, qpos: np.ndarray) -> np.ndarray:
        """Task term of the reward for a batch: parameters (N, k), x_velocity (N,), qpos (N, nq)."""


class _UniformTasks(TaskFamily):
    """Tasks drawn uniformly from the box [low, high]^size."""

    size: int

    def __init__(self, low: float, high: float, bonus: float) -> None:
        self.low, self.high = sampling_range(f"{self.field}_low", low, f"{self.field}_high", high)
        self.bonus = float(bonus)

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        values = make_rng(seed).uniform(self.low, self.high, size=(n, self.size))
        return [self.task(v) for v in values]

    def default_task(self) -> Task:
        return self.task(np.full(self.size, (self.low + self.high) / 2))

    def parameters(self, task: Task) -> np.ndarray:
        return vector_in_range(task, self.field, self.size, self.low, self.high)


class VelocityTasks(_UniformTasks):
    """Run at a goal velocity v* ~ U[low, high]: reward -|v_x - v*| + bonus; task {"velocity": v}."""

    field = "velocity"
    size = 1

    def __init__(self, low: float, high: float, bonus: float = 0.0) -> None:
        super().__init__(low, high, bonus)

    def task(self, parameters: np.ndarray) -> Task:
        return {self.field: float(parameters[0])}

    def reward(self, parameters: np.ndarray, x_velocity: np.ndarray, qpos: np.ndarray) -> np.ndarray:
        reward: np.ndarray = self.bonus - np.abs(x_velocity - parameters[:, 0])
        return reward


class GoalTasks(_UniformTasks):
    """Walk to a goal g ~ U[low, high]^2 in the plane: reward -||xy - g||_1 + bonus; {"goal": [gx, gy]}.

    xy is qpos[0:2], the free joint's position: only for robots that move in the plane (Ant).
    """

    field = "goal"
    size = 2

    def __init__(self, low: float, high: float, bonus: float = 4.0) -> None:
        super().__init__(low, high, bonus)

    def task(self, parameters: np.ndarray) -> Task:
        return {self.field: [float(x) for x in parameters]}

    def reward(self, parameters: np.ndarray, x_velocity: np.ndarray, qpos: np.ndarray) -> np.ndarray:
        reward: np.ndarray = self.bonus - np.sum(np.abs(qpos[:, :2] - parameters), axis=1)
        return reward


class DirectionTasks(TaskFamily):
    """Run forward (d = +1) or backward (d = -1), each with probability 1/2: reward d v_x."""

    field = "direction"

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        return [self.task(np.array([d])) for d in make_rng(seed).choice([-1, 1], size=n)]

    def default_task(self) -> Task:
        return {self.field: 1}

    def parameters(self, task: Task) -> np.ndarray:
        direction = finite_scalar(task, self.field)
        if direction not in (-1.0, 1.0):
            raise ValueError(f"task field '{self.field}' must be -1 or +1, got {task[self.field]!r}")
        return np.array([direction])

    def task(self, parameters: np.ndarray) -> Task:
        return {self.field: int(parameters[0])}

    def reward(self, parameters: np.ndarray, x_velocity: np.ndarray, qpos: np.ndarray) -> np.ndarray:
        reward: np.ndarray = parameters[:, 0] * x_velocity
        return reward
