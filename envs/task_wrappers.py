"""Wrappers that keep the task protocol: `TaskWrapper` for single envs, `TaskVectorWrapper` for
batched ones. Gymnasium 1.x wrappers (TimeLimit, OrderEnforcing, PassiveEnvChecker,
RescaleAction, ...) no longer forward unknown attributes, so a wrapped env loses
`set_task`; these wrappers offer the task methods again by forwarding them to the nearest
env below that implements them (found once, at construction). rlmaml's own wrappers derive
from them, and `with_task_methods` / `with_vector_task_methods` put one on top of any other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym
from gymnasium.vector import VectorEnv, VectorWrapper

from .protocol import Task, TaskEnv, TaskVectorEnv


def layers(env: gym.Env[Any, Any] | VectorEnv[Any, Any, Any]) -> Iterator[object]:
    """`env`, then each env below it in its stack of wrappers, down to the unwrapped one."""
    layer: object = env
    yield layer
    while isinstance(layer, (gym.Wrapper, VectorWrapper)):
        layer = layer.env
        yield layer


def nearest_task_env(env: gym.Env[Any, Any]) -> TaskEnv:
    """The outermost level of `env` that implements TaskEnv; TypeError if none does."""
    for layer in layers(env):
        if isinstance(layer, TaskEnv):
            return layer
    raise TypeError(f"{env} has no task methods (sample_tasks, set_task, get_task) at any level")


def nearest_task_vector_env(env: VectorEnv[Any, Any, Any]) -> TaskVectorEnv:
    """The outermost level of `env` that implements TaskVectorEnv; TypeError if none does."""
    for layer in layers(env):
        if isinstance(layer, TaskVectorEnv):
            return layer
    raise TypeError(f"{env} has no task methods (sample_tasks, set_tasks, get_tasks) at any level")


class TaskWrapper(gym.Wrapper[Any, Any, Any, Any]):
    """A wrapper that implements TaskEnv by forwarding to the task env it wraps."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self._task_env = nearest_task_env(env)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self._task_env.sample_tasks(n, seed)

    def set_task(self, task: Task) -> None:
        self._task_env.set_task(task)

    def get_task(self) -> Task:
        return self._task_env.get_task()


class TaskVectorWrapper(VectorWrapper[Any, Any, Any, Any, Any]):
    """A vector wrapper that implements TaskVectorEnv by forwarding to the task env it wraps."""

    def __init__(self, env: VectorEnv[Any, Any, Any]) -> None:
        super().__init__(env)
        self._task_env = nearest_task_vector_env(env)

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        return self._task_env.sample_tasks(n, seed)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        self._task_env.set_tasks(tasks)

    def get_tasks(self) -> list[Task]:
        return self._task_env.get_tasks()


def with_task_methods(env: gym.Env[Any, Any]) -> TaskWrapper:
    """`env` if it is a TaskWrapper already, else `env` under one (a TypeError if no level has tasks)."""
    return env if isinstance(env, TaskWrapper) else TaskWrapper(env)


def with_vector_task_methods(env: VectorEnv[Any, Any, Any]) -> TaskVectorWrapper:
    """`env` if it is a TaskVectorWrapper already, else `env` under one (a TypeError if no level has tasks)."""
    return env if isinstance(env, TaskVectorWrapper) else TaskVectorWrapper(env)
