"""A batch of episodes for a meta-batch of tasks, stored time-major and padded."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch


@dataclass
class Episodes:
    """Tensors of shape [T, M, E, ...]: time, task, episode of the task.

    `mask` is 1 where the step happened and 0 after the episode ended; rewards are zero
    where masked. `advantages` is filled in by `rlmaml.advantages.compute_advantages`.
    """

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    mask: torch.Tensor
    advantages: torch.Tensor | None = None

    @property
    def num_tasks(self) -> int:
        return self.rewards.shape[1]

    @property
    def num_env_steps(self) -> int:
        return int(self.mask.sum().item())

    def episode_returns(self) -> torch.Tensor:
        """Undiscounted return of every episode, shape [M, E]."""
        return self.rewards.sum(0)

    def task(self, index: int | slice) -> Episodes:
        """The episodes of one task (or a slice of tasks), keeping the task dimension."""
        index = slice(index, index + 1) if isinstance(index, int) else index
        return replace(
            self,
            **{
                name: getattr(self, name)[:, index]
                for name in ("observations", "actions", "rewards", "mask", "advantages")
                if getattr(self, name) is not None
            },
        )


def masked_task_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values [T, M, E] over the unmasked steps of each task, shape [M]."""
    return (values * mask).sum((0, 2)) / mask.sum((0, 2)).clamp_min(1.0)
