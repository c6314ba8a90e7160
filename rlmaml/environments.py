"""Envs as a run's config describes them: id, kwargs, horizon, and whether the observation
includes the task (the oracle baseline's view)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

import rlmaml.envs  # noqa: F401  (registers the environments)
from rlmaml.envs.task_observation import NewTaskEachEpisode, TaskInObservation, TaskInObservationVector
from rlmaml.errors import UserError


def make_env(config: dict[str, Any], task_seed: int | None = None, **make_kwargs: Any) -> gym.Env:
    """The config's single env with its horizon; `make_kwargs` (render_mode, ...) go to gym.make.
    With `task_seed`, every reset draws a new task from that seed's stream (task-randomised env)."""
    try:
        env = gym.make(config["env"], max_episode_steps=config["horizon"], **config["env_kwargs"], **make_kwargs)
    except (gym.error.Error, TypeError, ValueError) as error:
        raise UserError(f"config key 'env' or 'env_kwargs': cannot make {config['env']}: {error}") from None
    if task_seed is not None:
        env = NewTaskEachEpisode(env, task_seed)
    return TaskInObservation(env) if config.get("observe_task") else env


def make_vector_env(
    env_id: str, num_envs: int, horizon: int, env_kwargs: dict[str, Any], observe_task: bool = False
) -> gym.vector.VectorEnv:
    """`num_envs` sub-envs stepped as one batch (the env's own vectorised implementation)."""
    env = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", max_episode_steps=horizon, **env_kwargs
    )
    return TaskInObservationVector(env) if observe_task else env


def env_spaces(config: dict[str, Any]) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """(observation space, action space) of the config's env."""
    env = make_env(config)
    spaces = env.observation_space, env.action_space
    env.close()
    return spaces
