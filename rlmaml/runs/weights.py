"""Tensors read back from a file, checked against what they are loaded into: the names,
shapes and finiteness, so a bad file is one line naming what is wrong, never a traceback
or NaN weights."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from rlmaml.errors import UserError


def listed(names: Iterable[str], most: int = 5) -> str:
    """'a, b, c and 4 more'."""
    names = list(names)
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def non_finite(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """The names of the floating-point tensors holding a NaN or an infinity."""
    return [name for name, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]


def check_fits(source: str, state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor]) -> None:
    """UserError unless `state` has exactly the names of `expected`, in their shapes, and is finite."""
    missing, unexpected = sorted(expected.keys() - state.keys()), sorted(state.keys() - expected.keys())
    if missing or unexpected:
        problems = [
            f"{kind} {listed(names)}" for kind, names in (("missing", missing), ("unexpected", unexpected)) if names
        ]
        raise UserError(f"{source} does not fit the network: {'; '.join(problems)}")
    wrong = [
        f"{name} {tuple(state[name].shape)} (expected {tuple(value.shape)})"
        for name, value in expected.items()
        if state[name].shape != value.shape
    ]
    if wrong:
        raise UserError(f"{source} does not fit the network: shapes of {listed(wrong)}")
    infinite = non_finite(state)
    if infinite:
        raise UserError(f"{source} has non-finite weights in {listed(infinite)}")


def load_weights(module: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """`module.load_state_dict(state)` once `check_fits` has passed."""
    check_fits(source, state, module.state_dict())
    module.load_state_dict(dict(state))
