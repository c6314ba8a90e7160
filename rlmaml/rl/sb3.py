"""Stable-Baselines3 interop: an `ActorCriticPolicy` seen as a (mean, log_std) module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import torch
from stable_baselines3.common.distributions import DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import FlattenExtractor
from torch import nn

from rlmaml.rl.distributions import Gaussian, PolicyDistribution
from rlmaml.rl.policies import ACTIVATIONS


class SB3GaussianPolicy(nn.Module):
    """Wraps an SB3 `ActorCriticPolicy` with a diagonal Gaussian over a flat Box observation,
    so the MAML core can adapt it functionally like any other policy module.

    The value head is frozen: MAML-TRPO estimates values with its own baseline.
    SB3 casts observations to float32 before its networks; this wrapper keeps the caller's
    dtype, which lets gradient checks run in float64.
    """

    distribution: ClassVar[type[PolicyDistribution]] = Gaussian

    def __init__(self, policy: ActorCriticPolicy) -> None:
        super().__init__()
        if not isinstance(policy.action_dist, DiagGaussianDistribution):
            raise ValueError("SB3GaussianPolicy needs a policy with a diagonal Gaussian (a Box action space)")
        if not isinstance(policy.pi_features_extractor, FlattenExtractor):
            raise ValueError("SB3GaussianPolicy supports SB3's default FlattenExtractor only")
        self.policy = policy
        for p in (*policy.value_net.parameters(), *policy.mlp_extractor.value_net.parameters()):
            p.requires_grad_(False)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = obs.reshape(-1, obs.shape[-1])
        mean = self.policy.action_net(self.policy.mlp_extractor.forward_actor(flat))
        mean = mean.reshape(*obs.shape[:-1], -1)
        return mean, self.policy.log_std.expand_as(mean)


def sb3_actor_critic(
    observation_space: gym.spaces.Box,
    action_space: gym.spaces.Box,
    hidden_sizes: Sequence[int],
    activation: str,
    log_std_init: float = 0.0,
) -> ActorCriticPolicy:
    """An SB3 ActorCriticPolicy whose actor and critic each have `hidden_sizes` layers, as
    PPO("MlpPolicy", policy_kwargs=sb3_policy_kwargs(...)) builds it."""
    kwargs = sb3_policy_kwargs(hidden_sizes, activation)
    return ActorCriticPolicy(
        observation_space, action_space, lr_schedule=lambda _: 0.0, log_std_init=log_std_init, **kwargs
    )


def sb3_policy_kwargs(hidden_sizes: Sequence[int], activation: str) -> dict[str, Any]:
    layers = list(hidden_sizes)
    return {"net_arch": {"pi": layers, "vf": layers}, "activation_fn": ACTIVATIONS[activation]}
