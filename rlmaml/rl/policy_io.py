"""A meta-RL run's policy: built from its config and seed, stored in checkpoints under
`policy.`, loaded back from a run directory. Apart from rlmaml/runs/run_dir.py so that
reading a supervised run loads neither the envs nor Stable-Baselines3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from rlmaml.errors import UserError
from rlmaml.rl.environments import env_spaces
from rlmaml.rl.policies import GaussianMLPPolicy, GaussianPolicy
from rlmaml.runs.config import typed_config
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.run_dir import load_latest_checkpoint, read_run_config
from rlmaml.runs.weights import load_weights

POLICY_PREFIX = "policy."  # checkpoint tensors of the RL policy


def build_policy(config: RLConfig) -> nn.Module:
    """The run's policy, initialised from its seed: rlmaml's MLP, an SB3 ActorCriticPolicy or
    the observation-blind Gaussian; its log-std is left out of the meta-parameters (frozen)
    unless `learn_std`."""
    policy = new_policy(config)
    for name, parameter in policy.named_parameters():
        if name.endswith("log_std"):
            parameter.requires_grad_(config.learn_std)
    return policy


def new_policy(config: RLConfig) -> nn.Module:
    observation_space, action_space = env_spaces(config)
    torch.manual_seed(config.seed)
    obs_dim, act_dim = observation_space.shape[0], action_space.shape[0]
    if config.policy == "gaussian":
        return GaussianPolicy(act_dim, config.init_mean, config.init_log_std)
    if config.policy == "sb3":
        from rlmaml.rl.sb3 import SB3GaussianPolicy, sb3_actor_critic

        actor_critic = sb3_actor_critic(
            observation_space, action_space, config.hidden_sizes, config.activation, config.init_log_std
        )
        return SB3GaussianPolicy(actor_critic)
    return GaussianMLPPolicy(obs_dim, act_dim, config.hidden_sizes, config.activation, config.init_log_std)


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
