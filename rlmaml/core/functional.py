"""Parameters as dicts and models called functionally: the glue between any `nn.Module`
and the MAML core. Task-batched parameters carry a leading task dimension."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

Params = dict[str, torch.Tensor]


def parameters_of(model: nn.Module) -> Params:
    """The model's trainable parameters by name (the live tensors, not copies)."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def expand_to_tasks(params: Params, num_tasks: int) -> Params:
    """A per-task view of shared parameters: gradients of a sum of per-task losses with
    respect to these views are the per-task gradients, in one backward pass."""
    return {name: p.unsqueeze(0).expand(num_tasks, *p.shape) for name, p in params.items()}


def detach(params: Params) -> Params:
    return {name: p.detach() for name, p in params.items()}


def call_per_task(model: nn.Module, task_params: Params, *inputs: torch.Tensor, **options: Any) -> Any:
    """Run `model` with task i's parameters on inputs[...][i], for all tasks at once.
    `options` go to every call as they are (not split by task), e.g. an inner-step index."""

    def call(params: Params, *args: torch.Tensor) -> Any:
        return functional_call(model, params, args, options)

    return vmap(call)(task_params, *inputs)


def flatten(tensors: dict[str, torch.Tensor] | list[torch.Tensor]) -> torch.Tensor:
    values = tensors.values() if isinstance(tensors, dict) else tensors
    return torch.cat([t.reshape(-1) for t in values])


def unflatten(vector: torch.Tensor, like: dict[str, torch.Tensor] | dict[str, torch.Size]) -> Params:
    """Split a flat vector into tensors shaped like `like`'s tensors (or shapes)."""
    out, start = {}, 0
    for name, item in like.items():
        shape = item.shape if isinstance(item, torch.Tensor) else item
        size = shape.numel()
        out[name] = vector[start : start + size].view(shape)
        start += size
    return out
