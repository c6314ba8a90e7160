"""A batch of few-shot tasks as stacked tensors, and the per-task random streams."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch


@dataclass
class TaskBatch:
    """Support and query sets of T tasks: inputs [T, S, ...], targets [T, S, ...]."""

    support_inputs: torch.Tensor
    support_targets: torch.Tensor
    query_inputs: torch.Tensor
    query_targets: torch.Tensor

    @property
    def num_tasks(self) -> int:
        return self.support_inputs.shape[0]

    def tasks(self, index: slice) -> TaskBatch:
        """The tasks in `index`, with every field of a subclass sliced the same way."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def to(self, device: torch.device) -> TaskBatch:
        return type(self)(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


def task_rng(seed: int, iteration: int, task_index: int) -> np.random.Generator:
    """Task i of an iteration draws from its own stream, so a task does not depend on how
    many tasks are sampled with it or in which chunk."""
    return np.random.default_rng(np.random.SeedSequence([seed, iteration, task_index]))
