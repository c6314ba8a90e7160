"""The action distributions of policies: what the sampler, the objectives and the KL's
curvature need of one, so that none of them unpacks a policy's outputs itself.

A policy's forward returns the tensors its distribution is made of (a Gaussian's
(mean, log_std), a categorical's logits); its class attribute `distribution` names the
distribution (a module without one is a Gaussian policy, as every policy of the package
was before categorical ones). Actions are stored as float tensors [..., width]: a
Gaussian's as they are, a categorical's as the chosen index in a width of one, so
episodes of both kinds pad, mask and move between devices alike.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from rlmaml.errors import UserError

OutputProduct = Callable[[list[Tensor]], list[Tensor]]  # tangents of the outputs -> cotangents


def gaussian_log_prob(mean: Tensor, log_std: Tensor, actions: Tensor) -> Tensor:
    """log N(actions; mean, exp(log_std)^2), summed over the last (action) dimension."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std).sum(-1) - 0.5 * math.log(2 * math.pi) * mean.shape[-1]


def gaussian_kl(mean_p: Tensor, log_std_p: Tensor, mean_q: Tensor, log_std_q: Tensor) -> Tensor:
    """KL(p || q), summed over the last dimension."""
    var_ratio = torch.exp(2 * (log_std_p - log_std_q))
    mahalanobis = ((mean_p - mean_q) * torch.exp(-log_std_q)).pow(2)
    return (log_std_q - log_std_p + 0.5 * (var_ratio + mahalanobis - 1)).sum(-1)


class PolicyDistribution(ABC):
    """A batch of action distributions [..., *] given by a policy's outputs."""

    space: ClassVar[type[gym.spaces.Space[Any]]]  # the kind of action space it acts in

    def __init__(self, *outputs: Tensor) -> None:
        self.outputs = outputs

    def detach(self) -> PolicyDistribution:
        return type(self)(*(t.detach() for t in self.outputs))

    @abstractmethod
    def log_prob(self, actions: Tensor) -> Tensor:
        """log pi(actions), one number per step [...]."""

    @abstractmethod
    def kl(self, other: PolicyDistribution) -> Tensor:
        """KL(self || other) per step [...]."""

    @abstractmethod
    def sample(self, noise: Tensor) -> Tensor:
        """Actions [..., width] from pre-drawn `noise` [..., noise width] (`draw_noise`)."""

    @abstractmethod
    def kl_hessian(self, weights: Tensor) -> OutputProduct:
        """u -> H u for H the Hessian of sum(weights * KL(self || q)) in q's outputs at q = self
        (weights [...] per step): what the exact curvature of TRPO's KL is made of."""

    @staticmethod
    @abstractmethod
    def widths(space: gym.spaces.Space[Any]) -> tuple[int, int]:
        """(numbers stored per action, numbers of noise drawn per action) in `space`."""

    @staticmethod
    @abstractmethod
    def draw_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Float32 noise of `shape` from `rng`, for `sample`."""

    @staticmethod
    @abstractmethod
    def env_actions(actions: Tensor) -> np.ndarray:
        """Stored actions [N, width] as a batched env takes them."""


class Gaussian(PolicyDistribution):
    """Diagonal Gaussians of outputs (mean, log_std), acting in a Box."""

    space = gym.spaces.Box

    def log_prob(self, actions: Tensor) -> Tensor:
        mean, log_std = self.outputs
        return gaussian_log_prob(mean, log_std, actions)

    def kl(self, other: PolicyDistribution) -> Tensor:
        (mean_p, log_std_p), (mean_q, log_std_q) = self.outputs, other.outputs
        return gaussian_kl(mean_p, log_std_p, mean_q, log_std_q)

    def sample(self, noise: Tensor) -> Tensor:
        mean, log_std = self.outputs
        return mean + log_std.exp() * noise

    def kl_hessian(self, weights: Tensor) -> OutputProduct:
        """Diagonal: 1 / std^2 for the mean, 2 for log_std."""
        mean_weight = weights.unsqueeze(-1) * torch.exp(-2 * self.outputs[1].detach())
        hessian = (mean_weight, 2 * weights.unsqueeze(-1))
        return lambda tangents: [h * t for h, t in zip(hessian, tangents, strict=True)]

    @staticmethod
    def widths(space: gym.spaces.Space[Any]) -> tuple[int, int]:
        assert isinstance(space, gym.spaces.Box)
        return space.shape[0], space.shape[0]

    @staticmethod
    def draw_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32)

    @staticmethod
    def env_actions(actions: Tensor) -> np.ndarray:
        return actions.numpy()


class Categorical(PolicyDistribution):
    """Categoricals of outputs (logits,), acting in a Discrete space of as many actions."""

    space = gym.spaces.Discrete

    def log_prob(self, actions: Tensor) -> Tensor:
        log_p = torch.log_softmax(self.outputs[0], -1)
        return log_p.gather(-1, actions.long()).squeeze(-1)

    def kl(self, other: PolicyDistribution) -> Tensor:
        log_p, log_q = torch.log_softmax(self.outputs[0], -1), torch.log_softmax(other.outputs[0], -1)
        return (log_p.exp() * (log_p - log_q)).sum(-1)

    def sample(self, noise: Tensor) -> Tensor:
        """Gumbel-max: argmax(logits + Gumbel noise) is distributed as softmax(logits)."""
        return torch.argmax(self.outputs[0] + noise, -1, keepdim=True).to(self.outputs[0].dtype)

    def kl_hessian(self, weights: Tensor) -> OutputProduct:
        """diag(p) - p p^T in the logits: u -> p u - p (p . u)."""
        p = torch.softmax(self.outputs[0].detach(), -1)
        w = weights.unsqueeze(-1)

        def product(tangents: list[Tensor]) -> list[Tensor]:
            pu = p * tangents[0]
            return [w * (pu - p * pu.sum(-1, keepdim=True))]

        return product

    @staticmethod
    def widths(space: gym.spaces.Space[Any]) -> tuple[int, int]:
        assert isinstance(space, gym.spaces.Discrete)
        return 1, int(space.n)

    @staticmethod
    def draw_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.gumbel(size=shape).astype(np.float32)

    @staticmethod
    def env_actions(actions: Tensor) -> np.ndarray:
        return actions.reshape(-1).to(torch.int64).numpy()


def as_outputs(outputs: Tensor | tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """A policy's forward result as a tuple of outputs (a lone tensor is a one-tuple)."""
    return outputs if isinstance(outputs, tuple) else (outputs,)


def distribution_of(model: nn.Module) -> type[PolicyDistribution]:
    """The distribution a policy's outputs give (Gaussian unless the policy says otherwise)."""
    distribution: type[PolicyDistribution] = getattr(model, "distribution", Gaussian)
    return distribution


def check_action_space(model: nn.Module, space: gym.spaces.Space[Any], env_id: str) -> type[PolicyDistribution]:
    """The policy's distribution if it can act in `space`; UserError otherwise."""
    distribution = distribution_of(model)
    if not isinstance(space, distribution.space):
        raise UserError(
            f"config key 'policy': {env_id} has a {type(space).__name__} action space, and this policy "
            f"({distribution.__name__.lower()}) acts in a {distribution.space.__name__} one"
        )
    return distribution
