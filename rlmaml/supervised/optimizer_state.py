"""An optimizer's per-parameter state as named tensors, so that checkpoints stay
safetensors (nothing pickled) and a resumed run continues exactly."""

from __future__ import annotations

from collections.abc import Sequence

import torch

PREFIX = "optimizer."


def optimizer_tensors(optimizer: torch.optim.Optimizer, names: Sequence[str]) -> dict[str, torch.Tensor]:
    """`optimizer.{parameter name}.{state key}` -> tensor, for parameters given in the
    optimizer's order. Hyper-parameters are not saved: the learner sets them every step."""
    tensors = {}
    for index, entries in optimizer.state_dict()["state"].items():
        for key, value in entries.items():
            tensors[f"{PREFIX}{names[index]}.{key}"] = torch.as_tensor(value)
    return tensors


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer, names: Sequence[str], tensors: dict[str, torch.Tensor]
) -> None:
    """Restore what `optimizer_tensors` saved; parameters without saved state start fresh."""
    index_of = {name: i for i, name in enumerate(names)}
    state: dict[int, dict[str, torch.Tensor]] = {}
    for full_key, tensor in tensors.items():
        if full_key.startswith(PREFIX):
            name, _, key = full_key.removeprefix(PREFIX).rpartition(".")
            state.setdefault(index_of[name], {})[key] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})
