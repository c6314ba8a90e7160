"""Autoreset options shared by the batched envs: which modes they offer, which sub-envs a reset touches.

Both batched envs support Gymnasium's NEXT_STEP mode (the default, what SyncVectorEnv does)
and DISABLED, where a finished sub-env waits for `reset(options={"reset_mask": mask})`. The
sampler uses DISABLED: its episodes end for good, so the finished sub-envs cost nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode

SUPPORTED_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED)


def supported_autoreset_mode(mode: str | AutoresetMode) -> AutoresetMode:
    """`mode` as an AutoresetMode, else ValueError naming the modes on offer."""
    names = ", ".join(repr(m.value) for m in SUPPORTED_MODES)
    try:
        mode = AutoresetMode(mode)
    except ValueError:
        raise ValueError(f"autoreset_mode must be one of {names}, got {mode!r}") from None
    if mode not in SUPPORTED_MODES:
        raise ValueError(f"autoreset_mode must be one of {names}, got {mode.value!r}")
    return mode


def ended_and_resetting(
    terminated: np.ndarray, truncated: np.ndarray, mode: AutoresetMode
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-envs whose episode has ended, and those of them the coming step resets (NextStep only;
    under Disabled they wait for a masked reset)."""
    ended = terminated | truncated
    return ended, ended if mode == AutoresetMode.NEXT_STEP else np.zeros_like(ended)


def reset_mask(options: dict[str, Any] | None, num_envs: int) -> np.ndarray:
    """The sub-envs a reset applies to: options["reset_mask"] (a bool array, one per sub-env)
    as in Gymnasium's vector envs, else all of them."""
    if not options or "reset_mask" not in options:
        return np.ones(num_envs, dtype=bool)
    mask = options["reset_mask"]
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (num_envs,):
        raise ValueError(f"options['reset_mask'] must be a bool numpy array of shape ({num_envs},), got {mask!r}")
    if not mask.any():
        raise ValueError("options['reset_mask'] must select at least one sub-env")
    return mask
