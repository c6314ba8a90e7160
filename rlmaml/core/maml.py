"""The MAML core shared by the RL and supervised modes: gradient steps on a dict of
parameters, differentiable with respect to the starting parameters unless first-order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from rlmaml.core.functional import Params

StepSize = float | Params
InnerLoss = Callable[[Params, int], torch.Tensor]


def gradient_step(params: Params, loss: torch.Tensor, lr: StepSize, first_order: bool = False) -> Params:
    """params - lr * grad(loss). With `first_order` the gradient is treated as a constant, so
    the result depends on `params` only through the identity (first-order MAML).
    `lr` is one number or a tensor per parameter name (learned step sizes, MAML++)."""
    names = list(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=not first_order, allow_unused=True)
    stepped = {}
    for name, grad in zip(names, grads, strict=True):
        if grad is None:
            stepped[name] = params[name]
            continue
        if first_order:
            grad = grad.detach()
        rate = lr[name] if isinstance(lr, dict) else lr
        stepped[name] = params[name] - rate * grad
    return stepped


def adapt(
    params: Params,
    inner_loss: InnerLoss,
    steps: int,
    lr: StepSize | Sequence[StepSize],
    first_order: bool = False,
) -> list[Params]:
    """Take `steps` gradient steps of `inner_loss(params, step)`; returns the parameters
    before and after every step (length steps + 1). `lr` may be a per-step schedule.

    `inner_loss` receives the step index so that RL can sample fresh episodes with the
    current adapted parameters at each step, and replay them later."""
    schedule = list(lr) if isinstance(lr, Sequence) else [lr] * steps
    if len(schedule) < steps:
        raise ValueError(f"a step-size schedule of {len(schedule)} entries cannot cover {steps} steps")
    trajectory = [params]
    for step in range(steps):
        params = gradient_step(params, inner_loss(params, step), schedule[step], first_order)
        trajectory.append(params)
    return trajectory
