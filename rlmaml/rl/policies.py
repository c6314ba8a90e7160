"""Policies: any `nn.Module` whose forward maps observations to (mean, log_std) of a
diagonal Gaussian works with the sampler and the objectives."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


class GaussianMLPPolicy(nn.Module):
    """MLP mean with a state-independent log standard deviation, as in the MAML paper."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden_sizes: Sequence[int] = (64, 64),
        activation: str = "tanh",
        init_log_std: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        layers: list[nn.Module] = []
        sizes = [obs_dim, *hidden_sizes]
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
        layers.append(nn.Linear(sizes[-1], act_dim))
        self.mean = nn.Sequential(*layers)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(obs), self.log_std.expand(*obs.shape[:-1], -1)


class GaussianPolicy(nn.Module):
    """A mean and a log standard deviation that ignore the observation: the policy of bandits,
    small enough that the meta-objective and its gradient have closed forms
    (rlmaml.rl.exact)."""

    def __init__(self, act_dim: int, init_mean: float = 0.0, init_log_std: float = 0.0) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.full((act_dim,), float(init_mean)))
        self.log_std = nn.Parameter(torch.full((act_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (*obs.shape[:-1], self.mean.shape[0])
        return self.mean.expand(shape), self.log_std.expand(shape)
