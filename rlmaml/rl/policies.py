"""Policies: any `nn.Module` whose forward maps observations to the outputs of its
`distribution` (rlmaml.rl.distributions) works with the sampler and the objectives:
(mean, log_std) of a diagonal Gaussian, the default, or the logits of a categorical."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from rlmaml.rl.distributions import Categorical, Gaussian, PolicyDistribution

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
WEIGHT_INITS = ("torch", "xavier")


def mlp(
    n_in: int, n_out: int, hidden_sizes: Sequence[int], activation: str, weight_init: str = "torch"
) -> nn.Sequential:
    """Linear layers of the given widths with `activation` between them (none after the last).
    `weight_init` "torch" keeps torch's default initialisation; "xavier" draws every weight
    Glorot-uniform and zeroes the biases, as rllab's MLP (and so the MAML paper's code) did."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if weight_init not in WEIGHT_INITS:
        raise ValueError(f"weight_init must be one of {WEIGHT_INITS}, got {weight_init!r}")
    layers: list[nn.Module] = []
    sizes = [n_in, *hidden_sizes]
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], n_out))
    if weight_init == "xavier":
        for layer in layers[::2]:
            assert isinstance(layer, nn.Linear)
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


class GaussianMLPPolicy(nn.Module):
    """MLP mean with a state-independent log standard deviation, as in the MAML paper."""

    distribution: ClassVar[type[PolicyDistribution]] = Gaussian

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "tanh",
        init_log_std: float = 0.0,
        weight_init: str = "torch",
    ) -> None:
        super().__init__()
        self.mean = mlp(obs_dim, act_dim, hidden_sizes, activation, weight_init)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(obs), self.log_std.expand(*obs.shape[:-1], -1)


class GaussianPolicy(nn.Module):
    """A mean and a log standard deviation that ignore the observation: the policy of bandits,
    small enough that the meta-objective and its gradient have closed forms
    (rlmaml.rl.exact)."""

    distribution: ClassVar[type[PolicyDistribution]] = Gaussian

    def __init__(self, act_dim: int, init_mean: float = 0.0, init_log_std: float = 0.0) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.full((act_dim,), float(init_mean)))
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (*obs.shape[:-1], self.mean.shape[0])
        return self.mean.expand(shape), self.log_std.expand(shape)


class CategoricalMLPPolicy(nn.Module):
    """MLP logits over a Discrete action space. With no hidden layers on one-hot observations
    (a tabular MDP's states) it is a tabular softmax: one row of logits per state."""

    distribution: ClassVar[type[PolicyDistribution]] = Categorical

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "tanh",
        weight_init: str = "torch",
    ) -> None:
        super().__init__()
        self.logits = mlp(obs_dim, num_actions, hidden_sizes, activation, weight_init)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.logits(obs),)


class SoftmaxPolicy(nn.Module):
    """Logits that ignore the observation, initially 0 (every action equally likely): the
    policy of Bernoulli bandits, whose meta-gradient is a finite sum (rlmaml.rl.exact)."""

    distribution: ClassVar[type[PolicyDistribution]] = Categorical

    def __init__(self, num_actions: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(num_actions))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.logits.expand(*obs.shape[:-1], -1),)
