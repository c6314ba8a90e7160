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
from rlmaml.rl.distributions import gaussian_kl, gaussian_log_prob
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


def policy_outputs(model: nn.Module, task_params: Params, episodes: Episodes) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, log_std) of every step, [T, M, E, act_dim]; computed task-major, every task's
    observations contiguous, for the same reason as TaskMajorGradient."""
    outputs = call_per_task(model, task_params, episodes.observations.movedim(1, 0).contiguous())
    mean, log_std = (task_major(t).movedim(0, 1) for t in outputs)
    return mean, log_std


def reinforce_loss(model: nn.Module, task_params: Params, episodes: Episodes) -> torch.Tensor:
    """The inner-loop loss: -mean(log pi(a|s) * advantage), summed over tasks."""
    mean, log_std = policy_outputs(model, task_params, episodes)
    log_prob = gaussian_log_prob(mean, log_std, episodes.actions)
    return -masked_task_mean(log_prob * episodes.computed_advantages(), episodes.mask).sum()


@dataclass
class OldPolicy:
    """The sampling policy's outputs on its own episodes, held fixed during a meta-update."""

    mean: torch.Tensor
    log_std: torch.Tensor
    log_prob: torch.Tensor

    @classmethod
    def from_outputs(cls, mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> OldPolicy:
        mean, log_std = mean.detach(), log_std.detach()
        return cls(mean, log_std, gaussian_log_prob(mean, log_std, actions))

    @classmethod
    def of(cls, model: nn.Module, task_params: Params, episodes: Episodes) -> OldPolicy:
        with torch.no_grad():
            return cls.from_outputs(*policy_outputs(model, task_params, episodes), episodes.actions)


def surrogate_loss(mean: torch.Tensor, log_std: torch.Tensor, episodes: Episodes, old: OldPolicy) -> torch.Tensor:
    """TRPO's importance-weighted surrogate loss of every task, [M]."""
    ratio = torch.exp(gaussian_log_prob(mean, log_std, episodes.actions) - old.log_prob)
    return -masked_task_mean(ratio * episodes.computed_advantages(), episodes.mask)


def surrogate_and_kl(
    model: nn.Module, task_params: Params, episodes: Episodes, old: OldPolicy
) -> tuple[torch.Tensor, torch.Tensor]:
    """The surrogate loss and the mean KL(old || new) of every task, [M] each."""
    mean, log_std = policy_outputs(model, task_params, episodes)
    kl = masked_task_mean(gaussian_kl(old.mean, old.log_std, mean, log_std), episodes.mask)
    return surrogate_loss(mean, log_std, episodes, old), kl
