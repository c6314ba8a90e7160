"""Sinusoid regression tasks (Finn et al. 2017, section 5.1): y = A sin(x - phase)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rlmaml.core.seeding import task_rng
from rlmaml.supervised.tasks import TaskBatch

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
INPUT_RANGE = (-5.0, 5.0)


@dataclass
class SinusoidBatch(TaskBatch):
    """Regression tasks with the amplitude and phase of each, [T], for plotting the truth."""

    amplitude: torch.Tensor
    phase: torch.Tensor


def sinusoid(x: torch.Tensor, amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """Broadcasts per-task amplitude and phase [T] over points x [T, P, 1]."""
    return amplitude.view(-1, 1, 1) * torch.sin(x - phase.view(-1, 1, 1))


class SinusoidTasks:
    """K support and Q query points per task, x uniform on [-5, 5]."""

    metric = "mse"

    def __init__(self, shots: int, query_shots: int) -> None:
        self.shots, self.query_shots = shots, query_shots

    def sample(self, task_indices: Sequence[int], seed: int, iteration: int, split: str = "train") -> SinusoidBatch:
        """Held-out tasks are fresh draws from the same distribution, so `split` only names them."""
        draws = []
        for i in task_indices:
            rng = task_rng(seed, iteration, i)
            task_amplitude, task_phase = rng.uniform(*AMPLITUDE), rng.uniform(*PHASE)
            draws.append((task_amplitude, task_phase, rng.uniform(*INPUT_RANGE, size=self.shots + self.query_shots)))
        amplitude = torch.tensor([d[0] for d in draws], dtype=torch.float32)
        phase = torch.tensor([d[1] for d in draws], dtype=torch.float32)
        x = torch.from_numpy(np.stack([d[2] for d in draws]).astype(np.float32)).unsqueeze(-1)
        y = sinusoid(x, amplitude, phase)
        k = self.shots
        return SinusoidBatch(x[:, :k], y[:, :k], x[:, k:], y[:, k:], amplitude, phase)
