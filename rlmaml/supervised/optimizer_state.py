"""An optimizer's per-parameter state as named tensors, so that checkpoints stay
safetensors (nothing pickled) and a resumed run continues exactly."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlmaml.errors import UserError
from rlmaml.runs.weights import listed

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
    """Restore what `optimizer_tensors` saved; parameters without saved state start fresh.
    UserError naming the tensors that belong to no parameter or do not have its shape."""
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    index_of = {name: i for i, name in enumerate(names)}
    state: dict[int, dict[str, torch.Tensor]] = {}
    strangers, misshapen = [], []
    for full_key, tensor in tensors.items():
        if full_key.startswith(PREFIX):
            name, _, key = full_key.removeprefix(PREFIX).rpartition(".")
            if name not in index_of:
                strangers.append(full_key)
                continue
            expected = () if key == "step" else parameters[index_of[name]].shape
            if tensor.shape != expected:
                misshapen.append(f"{full_key} {tuple(tensor.shape)} (expected {tuple(expected)})")
            state.setdefault(index_of[name], {})[key] = tensor
    if strangers or misshapen:
        problem = f"for no parameter: {listed(strangers)}" if strangers else f"of the wrong shape: {listed(misshapen)}"
        raise UserError(f"the checkpoint's optimizer state does not fit the model: tensors {problem}")
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})
