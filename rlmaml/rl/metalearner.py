"""MAML for RL on task-batched parameters: a meta-iteration is an adaptation
(rlmaml.rl.adaptation) followed by an outer optimizer's update (rlmaml.rl.outer): TRPO, as
the paper (Finn et al. 2017, section 5.3; rlmaml.rl.outer_trpo), or ProMP's PPO-clip steps
(rlmaml.rl.outer_promp), on the meta-gradient of the chosen estimator (rlmaml.rl.estimators).

All tasks of a meta-batch live in one graph: the meta-parameters are expanded to per-task
views, so one backward pass gives every task's inner gradient, and the meta-gradient and
the curvature products flow back through the adaptation in single batched calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from rlmaml.core.functional import parameters_of
from rlmaml.core.seeding import seed_keys, task_seed
from rlmaml.envs.protocol import Task
from rlmaml.rl.adaptation import Adaptation, Adapter, step_sizes
from rlmaml.rl.advantages import AdvantageSettings
from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.episodes import Episodes, task_sums
from rlmaml.rl.estimators import MetaLosses, inner_objective, records_log_probs
from rlmaml.rl.outer import OuterOptimizer, OuterStep
from rlmaml.rl.outer_promp import ProMP, ProMPSettings
from rlmaml.rl.outer_trpo import TRPO, TRPOSettings
from rlmaml.rl.sampler import BatchSampler
from rlmaml.runs.distributed import Context, Shard


@dataclass(frozen=True)
class MAMLSettings:
    """How to adapt in training and to differentiate through it; the outer optimizer's own."""

    num_steps: int = 1
    fast_lr: float = 0.1
    first_order: bool = False
    estimator: str = "maml"  # one of rlmaml.rl.estimators.ESTIMATORS
    advantages: AdvantageSettings = field(default_factory=AdvantageSettings)
    outer: TRPOSettings | ProMPSettings = field(default_factory=TRPOSettings)


def sample_tasks(sampler: BatchSampler, seed: int, iteration: int, task_indices: Sequence[int]) -> list[Task]:
    """Task i drawn from its own stream (seed, iteration, i): any split of the indices
    across processes sees the same tasks."""
    distribution = sampler.task_distribution
    return [distribution.sample_tasks(1, seed=task_seed(seed, iteration, i))[0] for i in task_indices]


def success_rate(episodes: Episodes, gather: Callable[[torch.Tensor], torch.Tensor]) -> float | None:
    """The fraction of the meta-batch's episodes that succeeded, over every process; None if the
    env reports no success."""
    successes = episodes.episode_successes()
    return None if successes is None else gather(successes).mean().item()


@dataclass(frozen=True)
class MetaIteration:
    """One meta-iteration: its statistics over the whole meta-batch, and the adaptation of
    this process's tasks."""

    env_steps: float  # sampled in this iteration, by every process
    return_before: float  # mean episode return before adaptation
    return_after: float  # ... and after it
    success_before: float | None  # fraction of episodes that succeeded (envs that report success), before
    success_after: float | None  # ... and after adaptation
    update: OuterStep
    time_sampling: float
    time_adaptation: float  # besides sampling
    time_meta_update: float
    adaptation: Adaptation


class MetaLearner:
    """One meta-iteration: adapt to the meta-batch's tasks on fresh episodes, then update
    the meta-parameters with the outer optimizer. With a distributed `context`,
    each process samples and adapts its shard of the meta-batch; gradients, curvature
    products, line-search values and statistics are reduced over all tasks in their
    meta-batch order, so every process takes the same step."""

    def __init__(
        self,
        model: nn.Module,
        sampler: BatchSampler,
        settings: MAMLSettings,
        baseline: LinearFeatureBaseline | None = None,
        context: Context | None = None,
    ) -> None:
        self.model = model
        self.sampler = sampler
        self.settings = settings
        self.context = context or Context()
        s = settings
        objective, record = inner_objective(s.estimator), records_log_probs(s.estimator)
        self.adapter = Adapter(model, sampler, s.advantages, objective, baseline, self.context, record)
        self.outer: OuterOptimizer
        if isinstance(s.outer, ProMPSettings):
            self.outer = ProMP(model, s.outer, self.adapter.replay, self.context)
        else:
            meta_losses = MetaLosses(model, s.estimator, self.context)
            self.outer = TRPO(model, s.outer, self.adapter.replay, self.context, meta_losses)

    def sample_tasks(self, seed: int, iteration: int, task_indices: Sequence[int]) -> list[Task]:
        return sample_tasks(self.sampler, seed, iteration, task_indices)

    def step(self, tasks: Sequence[Task], seed: int, iteration: int, shard: Shard) -> MetaIteration:
        """Sample, adapt and update the model's parameters once; `tasks` are the meta-batch's
        tasks at `shard.indices`."""
        s = self.settings
        gather = self.context.gather
        params = parameters_of(self.model)
        self.adapter.stopwatch.reset()
        start = time.perf_counter()
        keys = partial(seed_keys, seed, iteration, shard.indices)
        adaptation = self.adapter.adapt(
            params, tasks, keys, step_sizes(s.fast_lr, s.num_steps, "training"), s.first_order
        )
        adapt_seconds = time.perf_counter() - start
        update = self.outer.update(params, adaptation, shard)
        meta_update_seconds = time.perf_counter() - start - adapt_seconds
        sampling_seconds = self.adapter.stopwatch.reset().get("sampling", 0.0)
        post = adaptation.post_episodes
        env_steps = torch.stack([task_sums(e.mask) for e in [*adaptation.inner_episodes, post]]).sum(0)  # exact counts
        return MetaIteration(
            env_steps=gather(env_steps).sum().item(),
            return_before=gather(adaptation.inner_episodes[0].episode_returns()).mean().item(),
            return_after=gather(post.episode_returns()).mean().item(),
            success_before=success_rate(adaptation.inner_episodes[0], gather),
            success_after=success_rate(post, gather),
            update=update,
            time_sampling=sampling_seconds,
            time_adaptation=adapt_seconds - sampling_seconds,
            time_meta_update=meta_update_seconds,
            adaptation=adaptation,
        )
