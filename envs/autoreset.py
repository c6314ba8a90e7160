"""Autoreset shared by the batched envs: which modes they offer, which sub-envs a reset touches,
and (AutoresetVectorEnv) the per-sub-env episode bookkeeping of the numpy-batched envs.

The batched envs support Gymnasium's NEXT_STEP mode (the default, what SyncVectorEnv does)
and DISABLED, where a finished sub-env waits for `reset(options={"reset_mask": mask})`. The
sampler uses DISABLED: its episodes end for good, so the finished sub-envs cost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import ArrayLike

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


class AutoresetVectorEnv(VectorEnv):
    """Each sub-env's step count and end flags under either autoreset mode, written once for the
    envs whose sub-envs are rows of numpy arrays.

    Under NextStep (the default) the step after a sub-env's episode ends resets it (reward 0,
    not done); under Disabled a finished sub-env stays as it ended (reward 0, its end flags
    repeated) until reset with a reset_mask. A subclass's reset starts episodes with
    `_start_episodes`; its step brackets the dynamics with `_begin_step` and `_end_step`.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012  # gymnasium.Env declares it a dict, not a ClassVar

    def __init__(self, num_envs: int, autoreset_mode: str | AutoresetMode) -> None:
        self.num_envs = num_envs
        self.autoreset_mode = supported_autoreset_mode(autoreset_mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}

    def _batch(
        self, single_observation_space: gym.Space[Any], single_action_space: gym.Space[Any], max_episode_steps: int
    ) -> None:
        """The spaces, the horizon and fresh episodes; a subclass calls it after checking its own
        settings, so that their errors come first."""
        self.max_episode_steps = int(max_episode_steps)
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, self.num_envs)
        self.action_space = batch_space(single_action_space, self.num_envs)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._terminated = np.zeros(self.num_envs, dtype=bool)
        self._truncated = np.zeros(self.num_envs, dtype=bool)

    def _start_episodes(self, seed: int | Sequence[int] | None, options: dict[str, Any] | None) -> np.ndarray:
        """The sub-envs this reset starts afresh (see reset_mask), once `_seed` has accepted the seed."""
        mask = reset_mask(options, self.num_envs)
        self._seed(seed, mask)
        self._elapsed[mask] = 0
        self._terminated[mask] = False
        self._truncated[mask] = False
        return mask

    def _seed(self, seed: int | Sequence[int] | None, mask: np.ndarray) -> None:
        """An int or None (fresh entropy) reseeds np_random, a sequence (a seed per sub-env) leaves
        it; envs whose steps draw random numbers override this to seed their own streams."""
        if isinstance(seed, int) or seed is None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)

    def _begin_step(self) -> tuple[np.ndarray, np.ndarray]:
        """(finished, resetting) for this step: see `ended_and_resetting`."""
        return ended_and_resetting(self._terminated, self._truncated, self.autoreset_mode)

    def _end_step(
        self, finished: np.ndarray, resetting: np.ndarray, terminated_now: ArrayLike
    ) -> tuple[np.ndarray, np.ndarray]:
        """The step's (terminated, truncated): finished sub-envs repeat their flags (Disabled) or
        report a fresh start (NextStep); the others end where terminated_now, or are truncated
        at the horizon as TimeLimit does."""
        self._elapsed = np.where(resetting, 0, self._elapsed + ~finished)
        self._terminated = np.where(finished, self._terminated & ~resetting, terminated_now)
        self._truncated = np.where(finished, self._truncated & ~resetting, self._elapsed >= self.max_episode_steps)
        return self._terminated.copy(), self._truncated.copy()
