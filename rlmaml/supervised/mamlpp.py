"""MAML++ (Antoniou et al. 2018, "How to train your MAML"): the schedules and the learned
inner learning rates. Per-step batch norm lives in the model (models.StagedBatchNorm)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

# MAML++'s floor for the weight of a non-final step's loss, times 1/steps.
MIN_NON_FINAL_WEIGHT = 0.03


def multi_step_loss_weights(steps: int, iteration: int, anneal_iterations: int) -> list[float]:
    """Weights of the query losses after inner steps 1..steps (MAML++'s MSL): uniform at
    first, then non-final weights fall linearly to a floor over `anneal_iterations` while
    the final one takes up the rest. MAML++'s epochs are counted here in iterations."""
    progress = iteration / anneal_iterations
    floor = MIN_NON_FINAL_WEIGHT / steps
    non_final = max(1.0 / steps - progress / steps, floor)
    final = min(1.0 / steps + progress * (steps - 1) / steps, 1.0 - (steps - 1) * floor)
    return [non_final] * (steps - 1) + [final]


def uses_multi_step_loss(enabled: bool, iteration: int, anneal_iterations: int) -> bool:
    """MAML++ optimises the multi-step loss only while its weights anneal, then the final loss."""
    return enabled and iteration < anneal_iterations


def is_first_order(first_order: bool, first_order_iterations: int, iteration: int) -> bool:
    """Derivative-order annealing: first-order for the first iterations, second-order after."""
    return first_order or iteration < first_order_iterations


def cosine_learning_rate(initial: float, minimum: float, iteration: int, iterations: int) -> float:
    """Cosine annealing from `initial` at iteration 0 to `minimum` at the last iteration."""
    progress = min(iteration / max(iterations, 1), 1.0)
    return minimum + (initial - minimum) * (1 + math.cos(math.pi * progress)) / 2


class InnerLearningRates(nn.Module):
    """A learned inner learning rate per parameter tensor (per layer) and per inner step
    (MAML++'s LSLR), all starting at `initial`. Steps beyond those learned reuse the last."""

    def __init__(self, names: Sequence[str], steps: int, initial: float, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.names = list(names)
        self.rates = nn.Parameter(torch.full((len(self.names), steps), float(initial), dtype=dtype))

    def schedule(self, steps: int) -> list[dict[str, torch.Tensor]]:
        """One {parameter name: rate} per step, the form `rlmaml.core.maml.adapt` takes."""
        learned = self.rates.shape[1]
        return [
            {name: self.rates[i, min(step, learned - 1)] for i, name in enumerate(self.names)} for step in range(steps)
        ]
