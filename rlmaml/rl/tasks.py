"""One task of a run's env as a user writes it (`goal=0.3,-0.2`), checked by the env itself;
what the env's episodes can be drawn as; and one task's share of task-batched parameters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym

from rlmaml.core.functional import Params
from rlmaml.envs.navigation import Navigation2DEnv
from rlmaml.envs.protocol import Task
from rlmaml.errors import Setting, UserError
from rlmaml.rl.environments import make_env
from rlmaml.runs.config import parse_assignment
from rlmaml.runs.config_types import RLConfig


def parse_task(pairs: list[str]) -> dict[str, Any]:
    """`goal=0.3,-0.2 other=1` -> {"goal": [0.3, -0.2], "other": 1.0}."""
    task: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_assignment(pair)
        if isinstance(value, str) and "," in value:
            try:
                value = [float(v) for v in value.split(",")]
            except ValueError:
                raise UserError(Setting.TASK, f" {key}: expected comma-separated numbers, got '{value}'") from None
        task[key] = value
    return task


def check_task(config: RLConfig, task: dict[str, Any]) -> dict[str, Any]:
    """The task if the run's env accepts it; else UserError with the env's reason."""
    env = make_env(config)
    try:
        env.set_task(task)
    except ValueError as error:
        raise UserError(Setting.TASK, f": {error}") from None
    finally:
        env.close()
    return task


def moves_in_plane(config: RLConfig) -> bool:
    """Whether the run's env is a walk in the plane (2D navigation): its observations are
    positions and its tasks goals, so its episodes are drawn as paths, not rendered as frames."""
    env = make_env(config)
    try:
        return isinstance(env.unwrapped, Navigation2DEnv)
    finally:
        env.close()


def on_split(config: RLConfig, split: str | None) -> RLConfig:
    """The config whose tasks come from Meta-World's `split` ("train" or "test" goals; unchanged
    if None); UserError if the run's env has no such split."""
    if split is None:
        return config
    if not takes_split(config):
        raise UserError(f"a split of goals is Meta-World's (train or test); this run's env is {config.env}")
    return replace(config, env_kwargs={**config.env_kwargs, "split": split})


def takes_split(config: RLConfig) -> bool:
    """Whether the run's env is Meta-World's (whose goals come in a train and a test split)."""
    return bool(split_tasks(config))


def split_tasks(config: RLConfig) -> list[Task]:
    """Every goal of the config's Meta-World split (its env_kwargs say which), as tasks; [] for other envs."""
    from rlmaml.envs.metaworld.vector_env import MetaWorldEnv  # imports scipy, which only Meta-World needs

    env = make_env(config)
    try:
        return env.unwrapped.split_tasks() if isinstance(env.unwrapped, MetaWorldEnv) else []
    finally:
        env.close()


def evaluation_tasks(config: RLConfig, num_tasks: int | None, split: str | None) -> list[Task] | int:
    """What an evaluation adapts to: with a Meta-World `split` (already in `config`), its goals in
    Meta-World's order (the first `num_tasks`); otherwise `num_tasks` new tasks (default 40)."""
    if split is None:
        return num_tasks or 40
    return split_tasks(config)[:num_tasks]


def reports_success(env: gym.Env[Any, Any]) -> bool:
    """Whether the env's steps say if the task succeeded (info["success"]), as Meta-World's do."""
    return bool(getattr(env.unwrapped, "reports_success", False))


def task_parameters(batched: Params, task: int) -> Params:
    """The parameters of one task out of parameters batched over tasks (leading axis)."""
    return {name: tensor[task] for name, tensor in batched.items()}
