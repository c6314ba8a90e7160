"""Advantages on padded time-major episodes: GAE or returns-to-go, on the linear feature
baseline or none, normalised per task or not (the config's `advantages`, `baseline` and
`normalize_advantages`; the defaults are the paper's code)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rlmaml.rl.baseline import LinearFeatureBaseline, discounted_returns
from rlmaml.rl.episodes import Episodes, masked_task_mean
from rlmaml.runs.config_types import RLConfig


@dataclass(frozen=True)
class AdvantageSettings:
    """How the advantages that weight every policy gradient are computed."""

    gamma: float = 0.99
    gae_lambda: float = 1.0
    baseline: bool = True  # rllab's linear feature baseline; False: values of zero
    gae: bool = True  # GAE(gamma, gae_lambda); False: the discounted return-to-go minus the values
    normalize: bool = True  # zero mean, unit variance per task

    @classmethod
    def from_config(cls, config: RLConfig) -> AdvantageSettings:
        return cls(
            config.gamma,
            config.gae_lambda,
            config.baseline == "linear",
            config.advantages == "gae",
            config.normalize_advantages,
        )


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


def normalise_per_task(
    advantages: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero mean, unit variance over the unmasked steps of each task ([T, M, E] input); and
    the scale each task's were divided by, [1, M, 1]."""
    mean = masked_task_mean(advantages, mask).view(1, -1, 1)
    var = masked_task_mean((advantages - mean).pow(2), mask).view(1, -1, 1)
    scale = var.sqrt() + eps
    return (advantages - mean) / scale * mask, scale


def compute_advantages(
    episodes: Episodes, baseline: LinearFeatureBaseline, settings: AdvantageSettings | None = None
) -> Episodes:
    """Fit the baseline per task (if any), then fill `episodes.advantages`, in float64 until
    they are stored in the episodes' dtype."""
    s = settings or AdvantageSettings()
    mask, rewards = episodes.mask.double(), episodes.rewards.double()
    values = baseline.fit_predict(episodes, s.gamma) if s.baseline else torch.zeros_like(rewards)
    if s.gae:
        advantages = gae(rewards, values, mask, s.gamma, s.gae_lambda)
    else:
        advantages = (discounted_returns(rewards, mask, s.gamma) - values) * mask
    if s.normalize:
        advantages, scale = normalise_per_task(advantages, mask)
        episodes.advantage_scales = scale.expand_as(advantages).to(episodes.rewards.dtype)
    episodes.advantages = advantages.to(episodes.rewards.dtype)
    return episodes
