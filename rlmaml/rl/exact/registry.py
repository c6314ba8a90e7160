"""Which configs the package knows the exact meta-gradient of, and that gradient at a policy's
parameters: what `rlmaml gradcheck` measures estimators against."""

from __future__ import annotations

import numpy as np
from torch import nn

from rlmaml.envs.protocol import Task
from rlmaml.rl.exact.gaussian_bandit import GaussianBandit, Goal, exact_meta_gradient
from rlmaml.runs.config_types import RLConfig

GAUSSIAN_BANDIT = "rlmaml/GaussianBandit-v0"
GAUSSIAN_BANDIT_SETTINGS = (
    "rlmaml/GaussianBandit-v0 with policy: gaussian, one inner step, baseline: none and normalize_advantages: false"
)


def known_meta_gradient(
    config: RLConfig, policy: nn.Module, task: Task | None
) -> tuple[dict[str, list[float]] | None, str]:
    """(dJ/dtheta by parameter name, "") where the package knows it for this config, on
    `task` alone or the config's task distribution; else (None, why not)."""
    exact_for = (
        config.env == GAUSSIAN_BANDIT
        and config.policy == "gaussian"
        and config.num_steps == 1
        and config.baseline == "none"
        and not config.normalize_advantages
    )
    if not exact_for:
        return None, f"no exact value: the package knows it for {GAUSSIAN_BANDIT_SETTINGS}"
    goal: Goal
    if task is None:
        goal = (float(config.env_kwargs.get("goal_low", -1.0)), float(config.env_kwargs.get("goal_high", 1.0)))
    else:
        goal = float(np.asarray(task["goal"], dtype=np.float64).reshape(-1)[0])
    params = dict(policy.named_parameters())
    bandit = GaussianBandit(
        mean=float(params["mean"].item()),
        log_std=float(params["log_std"].item()),
        learn_std=config.learn_std,
        fast_lr=config.fast_lr,
        episodes=config.fast_batch_size,
    )
    return {name: [value] for name, value in exact_meta_gradient(bandit, goal).items()}, ""
