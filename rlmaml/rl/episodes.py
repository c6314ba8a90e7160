"""A batch of episodes for a meta-batch of tasks, stored time-major and padded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

FIELDS = ("observations", "actions", "rewards", "mask", "successes", "advantages", "advantage_scales", "log_probs")


@dataclass
class Episodes:
    """Tensors of shape [T, M, E, ...]: time, task, episode of the task.

    `mask` is 1 where the step happened and 0 after the episode ended; rewards are zero
    where masked. `advantages` is filled in by `rlmaml.rl.advantages.compute_advantages`;
    `log_probs`, the sampling policy's log-densities of the actions [T, M, E], by the adapter
    when an objective weighs the episodes by a likelihood ratio (rlmaml.rl.estimators).
    `successes` is 1 where the env reported success at that step (envs whose info has a
    "success" key, e.g. Meta-World's), else None.
    """

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor
    successes: torch.Tensor | None = None
    advantages: torch.Tensor | None = None
    advantage_scales: torch.Tensor | None = None
    log_probs: torch.Tensor | None = None

    @property
    def num_tasks(self) -> int:
        return self.rewards.shape[1]

    @property
    def num_env_steps(self) -> int:
        return int(self.mask.sum().item())

    def episode_returns(self) -> torch.Tensor:
        """Undiscounted return of every episode, shape [M, E]."""
        return self.rewards.sum(0)

    def episode_successes(self) -> torch.Tensor | None:
        """Whether each episode succeeded at any of its steps, [M, E] (1.0 or 0.0): Meta-World's
        success; None if the env reports no success."""
        return None if self.successes is None else self.successes.amax(0)

    @property
    def num_steps(self) -> int:
        return self.mask.shape[0]

    def computed_advantages(self) -> torch.Tensor:
        """`advantages`, which an objective needs: ValueError if they were not computed yet."""
        if self.advantages is None:
            raise ValueError("the episodes have no advantages: compute them first (compute_advantages)")
        return self.advantages

    def task_advantage_scales(self) -> torch.Tensor:
        """What each task's advantages were divided by, [M] (ones if they were not normalised)."""
        if self.advantage_scales is None:
            return torch.ones(self.num_tasks, dtype=self.rewards.dtype, device=self.rewards.device)
        return self.advantage_scales[0, :, 0]

    def sampling_log_probs(self) -> torch.Tensor:
        """`log_probs`, which a likelihood-ratio objective needs: ValueError if not recorded."""
        if self.log_probs is None:
            raise ValueError("the episodes have no sampling log-probabilities: the adapter records them")
        return self.log_probs

    def map(self, transform: Callable[[torch.Tensor], torch.Tensor]) -> Episodes:
        """The episodes with `transform` applied to every tensor."""
        present = [name for name in FIELDS if getattr(self, name) is not None]
        return replace(self, **{name: transform(getattr(self, name)) for name in present})

    def task(self, index: int | slice | list[int]) -> Episodes:
        """The episodes of one task (or a slice or list of tasks), keeping the task dimension."""
        index = slice(index, index + 1) if isinstance(index, int) else index
        return self.map(lambda t: t[:, index])

    def padded(self, steps: int) -> Episodes:
        """Masked zero steps appended up to `steps`: they change no result, and give every
        process's episodes the length that one process sampling all tasks would have."""
        extra = steps - self.num_steps
        return self.map(lambda t: torch.cat([t, t.new_zeros((extra, *t.shape[1:]))])) if extra > 0 else self

    def to(self, device: torch.device) -> Episodes:
        return self.map(lambda t: t.to(device))


def masked_task_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values [T, M, E] over the unmasked steps of each task, shape [M]. Each task's
    steps are summed as one contiguous row, so its mean does not depend on the other tasks
    in the batch, to the last bit."""
    return task_sums(values * mask) / task_sums(mask).clamp_min(1.0)


def episode_sums(values: torch.Tensor) -> torch.Tensor:
    """Sum of values [T, M, E] over each episode's steps, [M, E], task by task (as `task_sums`)."""
    return values.movedim(1, 0).contiguous().sum(1)


def task_sums(values: torch.Tensor) -> torch.Tensor:
    """Sum of values [T, M, E] over each task's steps and episodes, [M]."""
    return values.movedim(1, 0).reshape(values.shape[1], -1).sum(1)
