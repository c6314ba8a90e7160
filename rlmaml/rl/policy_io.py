"""A meta-RL run's policy: built from its config and seed, stored in checkpoints under
`policy.`, loaded back from a run directory. Apart from rlmaml/runs/run_dir.py so that
reading a supervised run loads neither the envs nor Stable-Baselines3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from rlmaml.errors import UserError
from rlmaml.rl.environments import env_spaces
from rlmaml.rl.policies import CategoricalMLPPolicy, GaussianMLPPolicy, GaussianPolicy, SoftmaxPolicy
from rlmaml.runs.config import typed_config
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.run_dir import load_latest_checkpoint, read_run_config
from rlmaml.runs.weights import load_weights

POLICY_PREFIX = "policy."  # checkpoint tensors of the RL policy


def build_policy(config: RLConfig) -> nn.Module:
    """The run's policy, initialised from its seed: rlmaml's MLP (Gaussian in a Box action
    space, categorical in a Discrete one), an SB3 ActorCriticPolicy, the observation-blind
    Gaussian or the observation-blind softmax; a Gaussian's log-std is left out of the meta-parameters (frozen)
    unless `learn_std`."""
    policy = new_policy(config)
    for name, parameter in policy.named_parameters():
        if name.endswith("log_std"):
            parameter.requires_grad_(config.learn_std)
    return policy


def new_policy(config: RLConfig) -> nn.Module:
    observation_space, action_space = env_spaces(config)
    torch.manual_seed(config.seed)
    obs_dim = observation_space.shape[0]
    if isinstance(action_space, gym.spaces.Discrete):
        return categorical_policy(config, obs_dim, action_space)
    if config.policy == "softmax":
        raise UserError(
            f"config key 'policy': softmax acts in Discrete action spaces and {config.env} has a Box one; "
            "use policy: mlp or gaussian"
        )
    act_dim = action_space.shape[0]
    if config.policy == "gaussian":
        return GaussianPolicy(act_dim, config.init_mean, config.init_log_std)
    if config.policy == "sb3":
        from rlmaml.rl.sb3 import SB3GaussianPolicy, sb3_actor_critic

        actor_critic = sb3_actor_critic(
            observation_space, action_space, config.hidden_sizes, config.activation, config.init_log_std
        )
        return SB3GaussianPolicy(actor_critic)
    return GaussianMLPPolicy(
        obs_dim, act_dim, config.hidden_sizes, config.activation, config.init_log_std, config.weight_init
    )


def categorical_policy(config: RLConfig, obs_dim: int, action_space: gym.spaces.Discrete) -> nn.Module:
    """The softmax or MLP policy over a Discrete action space; UserError for Box-only policies."""
    if config.policy == "softmax":
        return SoftmaxPolicy(int(action_space.n))
    if config.policy == "mlp":
        return CategoricalMLPPolicy(
            obs_dim, int(action_space.n), config.hidden_sizes, config.activation, config.weight_init
        )
    raise UserError(
        f"config key 'policy': {config.policy} acts in Box action spaces and {config.env} has "
        f"{int(action_space.n)} discrete actions; use policy: softmax or mlp"
    )


def read_rl_run_config(run_dir: Path) -> RLConfig:
    """The config of a meta-RL run directory; UserError for a supervised run."""
    config = typed_config(read_run_config(run_dir))
    if not isinstance(config, RLConfig):
        raise UserError(f"{run_dir} is a supervised run ({config.mode}): use `rlmaml evaluate` on it")
    return config


def load_trained_policy(run_dir: Path, iteration: int | None = None) -> tuple[RLConfig, nn.Module, dict[str, Any]]:
    """(config, policy with the weights of the latest checkpoint, or of the one saved after
    `iteration` iterations, checkpoint metadata)."""
    config = read_rl_run_config(run_dir)
    checkpoint, tensors, metadata = load_latest_checkpoint(run_dir, iteration)
    policy = build_policy(config)
    load_weights(policy, policy_weights(tensors), f"checkpoint {checkpoint}")
    return config, policy, metadata


def policy_weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The policy's state dict out of a checkpoint's tensors."""
    return {name.removeprefix(POLICY_PREFIX): t for name, t in tensors.items() if name.startswith(POLICY_PREFIX)}
