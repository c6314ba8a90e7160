"""Adapting a meta-trained policy to new tasks and measuring the return after each step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from rlmaml.episodes import Episodes
from rlmaml.functional import parameters_of
from rlmaml.metalearner import MAMLTRPO
from rlmaml.rl_experiment import settings_from
from rlmaml.sampler import BatchSampler

# Evaluation draws its tasks and episodes from a stream no training iteration uses.
EVALUATION_ITERATION = 2**31 - 1


@dataclass
class StepReturns:
    step: int
    mean: float
    ci95: float


def mean_and_ci95(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its normal-approximation 95 % confidence interval."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float(values.mean()), float("nan")  # written as null in JSON
    return float(values.mean()), float(1.96 * values.std(ddof=1) / math.sqrt(values.size))


def summarise(episodes: Episodes) -> tuple[float, float]:
    """Mean return, with the CI over tasks' mean returns (over episodes for one task)."""
    returns = episodes.episode_returns().numpy()  # [M, E]
    return mean_and_ci95(returns.mean(axis=1) if returns.shape[0] > 1 else returns[0])


@dataclass
class AdaptationResult:
    tasks: list[dict[str, Any]]
    returns: list[StepReturns]
    episodes: list[Episodes]  # step 0 (before adaptation) .. K


def adapt_and_measure(
    config: dict[str, Any],
    policy: nn.Module,
    tasks: Sequence[dict[str, Any]] | int,
    steps: int,
    seed: int,
) -> AdaptationResult:
    """Adapt `policy` to the given tasks (or that many new ones) with `steps` policy-gradient
    steps of fast_batch_size episodes each, measuring the return before and after every step.
    The steps are first-order: nothing here is differentiated through the adaptation."""
    sampler = BatchSampler(config["env"], config["env_kwargs"], config["fast_batch_size"], config["horizon"])
    try:
        learner = MAMLTRPO(policy, sampler, settings_from(config))
        if isinstance(tasks, int):
            tasks = learner.sample_tasks(tasks, seed, EVALUATION_ITERATION)
        adaptation = learner.adapt(
            parameters_of(policy), tasks, seed, EVALUATION_ITERATION, range(len(tasks)), steps, True
        )
    finally:
        sampler.close()
    episodes = [*adaptation.inner_episodes, adaptation.post_episodes]
    returns = [StepReturns(k, *summarise(e)) for k, e in enumerate(episodes)]
    return AdaptationResult(list(tasks), returns, episodes)
