"""Measure a meta-gradient estimator: its estimates over many independent meta-batches at
fixed meta-parameters, their mean, standard error and per-batch variance, against the exact
meta-gradient where the package knows it (rlmaml.rl.exact).

Batch b is the meta-batch training iteration b would draw (its tasks and episodes keyed
(seed, b, task, stage), rlmaml.core.seeding), so two estimators checked with the same seed
see the same episodes. Many batches are adapted in one call, as one large meta-batch whose
per-task meta-gradients are then averaged back into their batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rlmaml.core.functional import Params, parameters_of
from rlmaml.core.seeding import SeedKey
from rlmaml.envs.protocol import Task
from rlmaml.rl.adaptation import Adapter, step_sizes
from rlmaml.rl.advantages import AdvantageSettings
from rlmaml.rl.curvature import per_task_rows
from rlmaml.rl.estimators import MetaLosses, inner_objective, records_log_probs
from rlmaml.rl.exact.registry import known_meta_gradient
from rlmaml.rl.metalearner import sample_tasks
from rlmaml.rl.objectives import OldPolicy, policy_distribution
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.distributed import Shard

ENV_STEPS_PER_CALL = 200_000  # batches are adapted together up to about this many env steps


@dataclass(frozen=True)
class ParameterEstimate:
    """One named parameter tensor, flattened: per element, over the batches."""

    name: str
    mean: list[float]
    stderr: list[float]
    variance: list[float]  # of one batch's estimate
    exact: list[float] | None

    def bias_in_stderrs(self) -> list[float] | None:
        """(mean - exact) / stderr per element; None without an exact value."""
        if self.exact is None:
            return None
        return [(m - e) / s if s > 0 else math.nan for m, e, s in zip(self.mean, self.exact, self.stderr, strict=True)]


@dataclass(frozen=True)
class GradientCheck:
    """The estimates of dJ/dtheta (J: the adapted policies' return) of one estimator."""

    estimator: str
    batches: int
    parameters: list[ParameterEstimate]
    exact_note: str  # why no exact value is known ("" if it is)
    seconds_per_batch: float

    def cosine_to_exact(self) -> float | None:
        if any(p.exact is None for p in self.parameters):
            return None
        mean = torch.tensor([m for p in self.parameters for m in p.mean], dtype=torch.float64)
        exact = torch.tensor([e for p in self.parameters for e in p.exact or []], dtype=torch.float64)
        return float(torch.nn.functional.cosine_similarity(mean, exact, dim=0))

    def total_variance(self) -> float:
        """The trace of one batch's covariance: E|estimate - mean|^2."""
        return sum(sum(p.variance) for p in self.parameters)

    def to_json(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "batches": self.batches,
            "parameters": [
                {"name": p.name, "mean": p.mean, "stderr": p.stderr, "variance": p.variance, "exact": p.exact}
                for p in self.parameters
            ],
            "cosine_to_exact": self.cosine_to_exact(),
            "total_variance": self.total_variance(),
            "seconds_per_batch": self.seconds_per_batch,
            "exact_note": self.exact_note or None,
        }


def batch_keys(seed: int, batches: range, tasks_per_batch: int, stage: int) -> list[SeedKey]:
    return [(seed, b, m, stage) for b in batches for m in range(tasks_per_batch)]


def batch_estimates(
    config: RLConfig, policy: nn.Module, sampler: BatchSampler, batches: range, seed: int, task: Task | None
) -> torch.Tensor:
    """dJ/dtheta of each batch, [batches, parameters] in flatten's order."""
    per_batch = config.meta_batch_size
    indices = range(batches.start * per_batch, batches.stop * per_batch)
    if task is None:
        tasks = [t for b in batches for t in sample_tasks(sampler, seed, b, range(per_batch))]
    else:
        tasks = [task] * len(indices)
    estimator = config.estimator
    advantages = AdvantageSettings.from_config(config)
    adapter = Adapter(
        policy, sampler, advantages, inner_objective(estimator), record_log_probs=records_log_probs(estimator)
    )
    params: Params = parameters_of(policy)
    lrs = step_sizes(config.fast_lr, config.num_steps, "training")
    adaptation = adapter.adapt(
        params, tasks, lambda stage: batch_keys(seed, batches, per_batch, stage), lrs, config.first_order
    )
    post = adaptation.post_episodes
    adapted = policy_distribution(policy, adaptation.trajectory[-1], post)
    old = OldPolicy.from_distribution(adapted, post.actions)
    meta_losses = MetaLosses(policy, estimator, group=per_batch)  # DiCE's baseline pools each batch's tasks
    losses = meta_losses(adapted, adaptation, old, Shard.whole(len(tasks)))
    views = adaptation.trajectory[0]
    rows = per_task_rows(list(torch.autograd.grad(losses.sum(), [views[n] for n in params])))
    return -rows.view(len(batches), per_batch, -1).mean(1).double()


def check_gradient(
    config: RLConfig, policy: nn.Module, batches: int, seed: int, task: Task | None = None
) -> GradientCheck:
    """`batches` independent estimates of the meta-gradient at `policy`'s parameters by the
    config's estimator, on the config's task distribution or on `task` alone."""
    steps_per_batch = config.meta_batch_size * config.fast_batch_size * config.horizon * (config.num_steps + 1)
    chunk = max(1, ENV_STEPS_PER_CALL // steps_per_batch)
    sampler = BatchSampler.from_config(config)
    start = time.perf_counter()
    try:
        estimates = torch.cat(
            [
                batch_estimates(config, policy, sampler, range(b, min(b + chunk, batches)), seed, task)
                for b in range(0, batches, chunk)
            ]
        )
    finally:
        sampler.close()
    seconds = (time.perf_counter() - start) / batches
    exact, note = known_meta_gradient(config, policy, task)
    summary = summarise(parameters_of(policy), estimates, exact)
    return GradientCheck(config.estimator, batches, summary, note, seconds)


def summarise(
    params: Params, estimates: torch.Tensor, exact: Mapping[str, Sequence[float]] | None
) -> list[ParameterEstimate]:
    """Per named parameter: the mean, standard error and variance of the batch estimates."""
    count = estimates.shape[0]
    mean = estimates.mean(0)
    variance = estimates.var(0) if count > 1 else torch.full_like(mean, math.nan)
    stderr = (variance / count).sqrt()
    result, start = [], 0
    for name, p in params.items():
        part = slice(start, start + p.numel())
        start += p.numel()
        known = [float(v) for v in exact[name]] if exact is not None else None
        result.append(
            ParameterEstimate(name, mean[part].tolist(), stderr[part].tolist(), variance[part].tolist(), known)
        )
    return result
