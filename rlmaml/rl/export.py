"""Adapted policies as Stable-Baselines3 PPO files (read back safely by rlmaml.rl.sb3_file)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from torch import nn

from rlmaml.core.functional import Params
from rlmaml.rl.environments import box_actions, env_spaces, make_env
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.sb3 import SB3GaussianPolicy, sb3_policy_kwargs
from rlmaml.runs.checkpoint import atomic_write
from rlmaml.runs.config_types import RLConfig

EXPORT = "rlmaml export (an SB3 Gaussian PPO file)"


def check_exportable(config: RLConfig) -> None:
    """UserError unless the config's policy acts in a Box, as SB3's Gaussian PPO policy does."""
    box_actions(env_spaces(config)[1], config.env, EXPORT)


def sb3_actor_weights(policy: nn.Module, params: Params) -> dict[str, torch.Tensor]:
    """`params` of `policy` under the names of SB3's ActorCriticPolicy."""
    if isinstance(policy, SB3GaussianPolicy):
        return {name.removeprefix("policy."): value for name, value in params.items()}
    if not isinstance(policy, GaussianMLPPolicy):
        raise TypeError(f"cannot export a {type(policy).__name__}: expected GaussianMLPPolicy or SB3GaussianPolicy")
    linear = [i for i, layer in enumerate(policy.mean) if isinstance(layer, nn.Linear)]
    renamed = {f"mean.{i}": f"mlp_extractor.policy_net.{i}" for i in linear[:-1]}
    renamed[f"mean.{linear[-1]}"] = "action_net"
    weights = {}
    for name, value in params.items():
        module, _, kind = name.rpartition(".")
        weights[f"{renamed[module]}.{kind}" if module else name] = value
    return weights


def fold_action_scaling(weights: dict[str, torch.Tensor], low: np.ndarray, high: np.ndarray) -> dict[str, torch.Tensor]:
    """An actor that acts in [-1, 1] turned into one that acts in [low, high]: the affine map
    between them moved into the last layer and the log standard deviation."""
    scale = torch.as_tensor((high - low) / 2, dtype=weights["log_std"].dtype)
    center = torch.as_tensor((high + low) / 2, dtype=weights["log_std"].dtype)
    return {
        **weights,
        "action_net.weight": scale[:, None] * weights["action_net.weight"],
        "action_net.bias": scale * weights["action_net.bias"] + center,
        "log_std": weights["log_std"] + scale.log(),
    }


def to_ppo(config: RLConfig, policy: nn.Module, params: Params) -> PPO:
    """A PPO model on the config's env whose actor is `policy` with `params`. It acts in the
    env's own action bounds (a run with normalize_actions has the rescaling folded in), so
    it runs on the plain task env. Its critic is untrained: MAML-TRPO fits its own linear
    baseline instead, and keeps an SB3 meta-policy's value head frozen."""
    env = make_env(replace(config, normalize_actions=False))
    action_space = box_actions(env.action_space, config.env, EXPORT)
    low, high = action_space.low, action_space.high
    model = PPO("MlpPolicy", env, policy_kwargs=sb3_policy_kwargs(config.hidden_sizes, config.activation), device="cpu")
    env.close()
    state = model.policy.state_dict()
    actor = sb3_actor_weights(policy, params)
    if config.normalize_actions:
        actor = fold_action_scaling(actor, low, high)
    unknown = sorted(set(actor) - set(state))
    if unknown:
        raise ValueError(f"the SB3 policy has no parameter {unknown[0]}")
    state.update({name: value.detach().clone() for name, value in actor.items()})
    model.policy.load_state_dict(state)
    return model


def save_atomically(model: PPO, path: Path) -> None:
    """SB3's zip at `path`, written beside it first so a failure leaves any old file whole."""
    atomic_write(path, model.save)
