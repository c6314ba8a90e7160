"""Policy-gradient objectives on task-batched parameters and episodes.

Each returns per-task values reduced over the unmasked steps; summing them over tasks
before differentiating gives every task its own gradient (the tasks share no parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from rlmaml.core.functional import Params, call_per_task
from rlmaml.rl.distributions import PolicyDistribution, as_outputs, distribution_of
from rlmaml.rl.episodes import Episodes, masked_task_mean

InnerObjective = Callable[[nn.Module, Params, Episodes], torch.Tensor]


class TaskMajorGradient(torch.autograd.Function):
    """The identity, whose gradient is made contiguous: gradients enter the per-task graph
    laid out task by task, so each task's reductions in it add the same numbers in the same
    order however many tasks share the batch (what lets processes split a meta-batch and
    still agree bit for bit with one process)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        return task_major(grad.contiguous())


def task_major(tensor: torch.Tensor) -> torch.Tensor:
    """`tensor`, through TaskMajorGradient."""
    result: torch.Tensor = TaskMajorGradient.apply(tensor)  # type: ignore[no-untyped-call]  # torch leaves it untyped
    return result


def policy_distribution(model: nn.Module, task_params: Params, episodes: Episodes) -> PolicyDistribution:
    """The policy's action distribution at every step, outputs [T, M, E, ...]; computed
    task-major, every task's observations contiguous, for the same reason as TaskMajorGradient."""
    outputs = as_outputs(call_per_task(model, task_params, episodes.observations.movedim(1, 0).contiguous()))
    return distribution_of(model)(*(task_major(t).movedim(0, 1) for t in outputs))


def reinforce_loss(model: nn.Module, task_params: Params, episodes: Episodes) -> torch.Tensor:
    """The inner-loop loss: -mean(log pi(a|s) * advantage), summed over tasks."""
    log_prob = policy_distribution(model, task_params, episodes).log_prob(episodes.actions)
    return -masked_task_mean(log_prob * episodes.computed_advantages(), episodes.mask).sum()


@dataclass
class OldPolicy:
    """The sampling policy's distribution on its own episodes, held fixed during a meta-update."""

    distribution: PolicyDistribution
    log_prob: torch.Tensor

    @classmethod
    def from_distribution(cls, distribution: PolicyDistribution, actions: torch.Tensor) -> OldPolicy:
        fixed = distribution.detach()
        return cls(fixed, fixed.log_prob(actions))

    @classmethod
    def of(cls, model: nn.Module, task_params: Params, episodes: Episodes) -> OldPolicy:
        with torch.no_grad():
            return cls.from_distribution(policy_distribution(model, task_params, episodes), episodes.actions)


def surrogate_loss(new: PolicyDistribution, episodes: Episodes, old: OldPolicy) -> torch.Tensor:
    """TRPO's importance-weighted surrogate loss of every task, [M]."""
    ratio = torch.exp(new.log_prob(episodes.actions) - old.log_prob)
    return -masked_task_mean(ratio * episodes.computed_advantages(), episodes.mask)


def mean_kl(old: OldPolicy, new: PolicyDistribution, episodes: Episodes) -> torch.Tensor:
    """The mean KL(old || new) over each task's steps, [M]."""
    return masked_task_mean(old.distribution.kl(new), episodes.mask)


def surrogate_and_kl(
    model: nn.Module, task_params: Params, episodes: Episodes, old: OldPolicy
) -> tuple[torch.Tensor, torch.Tensor]:
    """The surrogate loss and the mean KL(old || new) of every task, [M] each."""
    new = policy_distribution(model, task_params, episodes)
    return surrogate_loss(new, episodes, old), mean_kl(old, new, episodes)
