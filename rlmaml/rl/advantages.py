"""Generalised advantage estimation on padded time-major episodes."""

from __future__ import annotations

import torch

from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.episodes import Episodes, masked_task_mean


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """GAE(gamma, lambda) over [T, ...] tensors. The value after the last step of an
    episode (terminated or cut at the horizon) is taken as zero, as in rllab."""
    values = values * mask
    next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
    deltas = (rewards + gamma * next_values - values) * mask
    advantages = torch.zeros_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in reversed(range(deltas.shape[0])):
        running = deltas[t] + gamma * lam * running
        advantages[t] = running
    return advantages


def normalise_per_task(advantages: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean, unit variance over the unmasked steps of each task ([T, M, E] input)."""
    mean = masked_task_mean(advantages, mask).view(1, -1, 1)
    var = masked_task_mean((advantages - mean).pow(2), mask).view(1, -1, 1)
    return (advantages - mean) / (var.sqrt() + eps) * mask


def compute_advantages(
    episodes: Episodes, baseline: LinearFeatureBaseline, gamma: float, gae_lambda: float
) -> Episodes:
    """Fit the baseline per task, then fill `episodes.advantages` (normalised per task)."""
    values = baseline.fit_predict(episodes, gamma)
    mask = episodes.mask.double()
    advantages = gae(episodes.rewards.double(), values, mask, gamma, gae_lambda)
    episodes.advantages = normalise_per_task(advantages, mask).to(episodes.rewards.dtype)
    return episodes
