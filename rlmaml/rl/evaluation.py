"""Adapting a meta-trained policy to new tasks and measuring the return after each step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import torch
from torch import nn

from rlmaml.core.functional import Params, detach, parameters_of
from rlmaml.core.seeding import EVALUATION_ITERATION, seed_keys
from rlmaml.core.statistics import StepStatistic, mean_and_ci95
from rlmaml.envs.protocol import Task
from rlmaml.rl.adaptation import Adapter, paper_later_factor, step_sizes
from rlmaml.rl.advantages import AdvantageSettings
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.metalearner import sample_tasks
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.config_types import RLConfig


def summarise(per_episode: torch.Tensor) -> tuple[float, float]:
    """Mean of a per-episode value [M, E] (return, success), with the CI over tasks' means (over
    episodes for one task)."""
    values = per_episode.numpy()
    return mean_and_ci95(values.mean(axis=1) if values.shape[0] > 1 else values[0])


def success_rates(per_step: Sequence[Episodes]) -> list[StepStatistic] | None:
    """The success rate after each step (Meta-World's: an episode succeeds if any of its steps
    does), with its CI over tasks; None if the env reports no success."""
    rates = []
    for k, episodes in enumerate(per_step):
        successes = episodes.episode_successes()
        if successes is None:
            return None
        rates.append(StepStatistic(k, *summarise(successes)))
    return rates


def success_by_family(tasks: Sequence[Task], per_step: Sequence[Episodes]) -> dict[str, list[float]]:
    """Each family's success rate after each step, for tasks that name their family (Meta-World's
    ML10, whose evaluation reports each test family's rate); {} for other tasks."""
    families = [task.get("family") for task in tasks]
    if not all(isinstance(name, str) for name in families):
        return {}
    rates: dict[str, list[float]] = {}
    for episodes in per_step:
        successes = episodes.episode_successes()
        if successes is None:
            return {}
        per_task = successes.numpy().mean(axis=1)
        for name in dict.fromkeys(families):
            chosen = [i for i, family in enumerate(families) if family == name]
            rates.setdefault(str(name), []).append(float(per_task[chosen].mean()))
    return rates


# The original MAML evaluation (maml_rl's test_maml_point.py, test_maml_cheetah.py, ...) sampled
# 4000 env steps for every adaptation step: 40 episodes at 2D navigation's horizon of 100 (twice
# its training batch of 20), 20 at the locomotion tasks' 200; and never less than the training
# batch: test_maml_ant_direc.py sampled 8000 steps, the 40 episodes its policy trained with.
PAPER_STEPS_PER_ADAPTATION = 4000


def paper_episodes(config: RLConfig) -> int:
    """Episodes per task and step that the original evaluation sampled for this config: 4000
    env steps at its horizon, or its training batch if that is larger."""
    return max(1, PAPER_STEPS_PER_ADAPTATION // config.horizon, config.fast_batch_size)


def with_episodes(config: RLConfig, episodes: int | None) -> RLConfig:
    """The config whose sampler draws `episodes` episodes per task and step (unchanged if None)."""
    if episodes is None:
        return config
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    return replace(config, fast_batch_size=episodes)


@dataclass
class AdaptationResult:
    tasks: list[Task]
    returns: list[StepStatistic]
    episodes: list[Episodes]  # step 0 (before adaptation) .. K
    parameters: list[Params]  # per-task parameters (leading task axis) before and after each step
    successes: list[StepStatistic] | None = None  # success rate per step, for envs that report success


def adapt_and_measure(
    config: RLConfig,
    policy: nn.Module,
    tasks: Sequence[Task] | int,
    steps: int,
    seed: int,
    schedule: str | Sequence[float] = "training",
    episodes: int | None = None,
) -> AdaptationResult:
    """Adapt `policy` to the given tasks (or that many new ones) with `steps` policy-gradient
    steps of `episodes` episodes each (default: the config's fast_batch_size; `paper_episodes`
    gives the original evaluation's), measuring the return before and after every step.
    `schedule` names the step sizes (see rlmaml.rl.adaptation.SCHEDULES) or gives one per step.
    The steps are first-order: nothing here is differentiated through the adaptation.
    The tasks and episodes depend on `seed` only, so every policy sees the same tasks."""
    config = with_episodes(config, episodes)
    sampler = BatchSampler.from_config(config)
    try:
        if isinstance(tasks, int):
            tasks = sample_tasks(sampler, seed, EVALUATION_ITERATION, range(tasks))
        adapter = Adapter(policy, sampler, AdvantageSettings.from_config(config))
        keys = partial(seed_keys, seed, EVALUATION_ITERATION, range(len(tasks)))
        lrs = step_sizes(config.fast_lr, steps, schedule, paper_later_factor(config.env))
        adaptation = adapter.adapt(parameters_of(policy), tasks, keys, lrs, first_order=True)
    finally:
        sampler.close()
    per_step = [*adaptation.inner_episodes, adaptation.post_episodes]
    returns = [StepStatistic(k, *summarise(e.episode_returns())) for k, e in enumerate(per_step)]
    trajectory = [detach(p) for p in adaptation.trajectory]
    return AdaptationResult(list(tasks), returns, per_step, trajectory, success_rates(per_step))
