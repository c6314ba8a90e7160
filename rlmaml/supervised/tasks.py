"""A batch of few-shot tasks as stacked tensors."""

from __future__ import annotations

from dataclasses import dataclass, fields

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
