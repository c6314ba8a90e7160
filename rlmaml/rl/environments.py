"""Envs as a run's config describes them: id, kwargs, horizon, whether the observation
includes the task (the oracle baseline's view) and whether actions are rescaled from [-1, 1]
to the env's bounds (rllab's `normalize`, which the MAML paper's code wrapped every env in).

The envs come back with the task methods on their outermost wrapper (`TaskWrapper`,
`TaskVectorWrapper`), above Gymnasium's TimeLimit, OrderEnforcing, PassiveEnvChecker and
RescaleAction, so callers set tasks on the env they get."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import RescaleAction

import rlmaml.envs  # noqa: F401  (registers the environments)
from rlmaml.envs.rescale_actions import RescaleBatchAction
from rlmaml.envs.task_observation import NewTaskEachEpisode, TaskInObservation, TaskInObservationVector
from rlmaml.envs.task_wrappers import (
    TaskVectorWrapper,
    TaskWrapper,
    nearest_task_env,
    with_task_methods,
    with_vector_task_methods,
)
from rlmaml.errors import UserError
from rlmaml.runs.config_types import RLConfig

ActionSpace = gym.spaces.Box | gym.spaces.Discrete


def box(space: gym.spaces.Space[Any], env_id: str) -> gym.spaces.Box:
    """`space` as a Box, the only kind rlmaml's policies observe; UserError otherwise."""
    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"config key 'env': {env_id} has a {type(space).__name__} space, rlmaml needs Box spaces")
    return space


def action_space(space: gym.spaces.Space[Any], env_id: str) -> ActionSpace:
    """`space` as a Box or a Discrete, the kinds rlmaml's policies act in (Gaussian and
    categorical ones); UserError otherwise."""
    if not isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
        raise UserError(
            f"config key 'env': {env_id} has a {type(space).__name__} action space; rlmaml acts in Box or Discrete ones"
        )
    return space


def box_actions(space: gym.spaces.Space[Any], env_id: str, needing: str) -> gym.spaces.Box:
    """`space` as a Box, for what only works with Box actions (`needing` names it, e.g. a config
    key: normalize_actions and SB3's Gaussian policies); UserError otherwise."""
    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"{needing} needs a Box action space; {env_id} has a {type(space).__name__} one")
    return space


def unit_bounds(space: gym.spaces.Box) -> tuple[np.ndarray, np.ndarray]:
    """[-1, 1] in the space's own dtype (float64 bounds make Gymnasium warn about float32 spaces)."""
    ones = np.ones(space.shape, dtype=space.dtype)
    return -ones, ones


def rescaling_bounds(
    env: gym.Env[Any, Any] | gym.vector.VectorEnv[Any, Any, Any], space: gym.spaces.Space[Any], env_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """The [-1, 1] that normalize_actions rescales onto the action `space`; UserError, once `env` is
    closed, if the space is no Box or has an infinite bound (RescaleAction maps two finite ends
    onto each other)."""
    try:
        actions = box_actions(space, env_id, "config key 'normalize_actions'")
    except UserError:
        env.close()
        raise
    if not actions.is_bounded():
        env.close()
        raise UserError(
            f"config key 'normalize_actions': {env_id} has unbounded actions, which cannot be rescaled from "
            "[-1, 1]; set normalize_actions: false"
        )
    return unit_bounds(actions)


def make_env(config: RLConfig, new_task_each_episode: bool = False, **make_kwargs: Any) -> TaskWrapper:
    """The config's single env with its horizon; `make_kwargs` (render_mode, ...) go to gym.make.
    With `new_task_each_episode`, every reset draws a new task (a task-randomised env)."""
    try:
        env = gym.make(config.env, max_episode_steps=config.horizon, **config.env_kwargs, **make_kwargs)
    except (gym.error.Error, TypeError, ValueError) as error:
        raise UserError(f"config key 'env' or 'env_kwargs': cannot make {config.env}: {error}") from None
    try:
        nearest_task_env(env)
    except TypeError:
        env.close()
        raise UserError(
            f"config key 'env': {config.env} is not a task distribution (no sample_tasks, set_task, get_task); "
            "meta-train on a task family such as rlmaml/Navigation2D-v0"
        ) from None
    if new_task_each_episode:
        env = NewTaskEachEpisode(env)
    if config.normalize_actions:
        env = RescaleAction(env, *rescaling_bounds(env, env.action_space, config.env))
    return with_task_methods(TaskInObservation(env) if config.observe_task else env)


def make_vector_env(
    env_id: str,
    num_envs: int,
    horizon: int,
    env_kwargs: Mapping[str, Any],
    observe_task: bool = False,
    normalize_actions: bool = False,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
) -> TaskVectorWrapper:
    """`num_envs` sub-envs stepped as one batch (the env's own vectorised implementation); UserError
    if it does not take the env_kwargs (the single env also takes rendering ones, e.g. width)."""
    try:
        env = gym.make_vec(
            env_id,
            num_envs=num_envs,
            vectorization_mode="vector_entry_point",
            max_episode_steps=horizon,
            autoreset_mode=autoreset_mode,
            **env_kwargs,
        )
    except (gym.error.Error, TypeError, ValueError) as error:
        raise UserError(f"config key 'env_kwargs': cannot make the batched {env_id}: {error}") from None
    if normalize_actions:
        env = RescaleBatchAction(env, *rescaling_bounds(env, env.single_action_space, env_id))
    return with_vector_task_methods(TaskInObservationVector(env) if observe_task else env)


def env_spaces(config: RLConfig) -> tuple[gym.spaces.Box, ActionSpace]:
    """(observation space, action space) of the config's env."""
    env = make_env(config)
    spaces = box(env.observation_space, config.env), action_space(env.action_space, config.env)
    env.close()
    return spaces
