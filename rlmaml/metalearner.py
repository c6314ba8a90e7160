"""MAML with TRPO meta-updates (Finn et al. 2017, section 5.3) on task-batched parameters.

All tasks of a meta-batch live in one graph: the meta-parameters are expanded to per-task
views, so one backward pass gives every task's inner gradient, and the meta-gradient and
the curvature products flow back through the adaptation in single batched calls.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rlmaml.advantages import compute_advantages
from rlmaml.baseline import LinearFeatureBaseline
from rlmaml.curvature import KLCurvature
from rlmaml.episodes import Episodes
from rlmaml.functional import Params, detach, expand_to_tasks, flatten, parameters_of, unflatten
from rlmaml.maml import adapt
from rlmaml.objectives import (
    InnerObjective,
    OldPolicy,
    policy_outputs,
    reinforce_loss,
    surrogate_and_kl,
    surrogate_loss,
)
from rlmaml.sampler import BatchSampler
from rlmaml.timing import Stopwatch
from rlmaml.trpo import backtracking_line_search, conjugate_gradient, trust_region_step


@dataclass(frozen=True)
class MAMLSettings:
    num_steps: int = 1
    fast_lr: float = 0.1
    first_order: bool = False
    max_kl: float = 0.01
    cg_iters: int = 10
    cg_damping: float = 1e-5
    ls_max_steps: int = 15
    ls_backtrack_ratio: float = 0.8
    gamma: float = 0.99
    gae_lambda: float = 1.0
    cg_subsample: float = 1.0


@dataclass
class Adaptation:
    """Episodes of every inner step and after adaptation, and the parameter trajectory."""

    inner_episodes: list[Episodes]
    post_episodes: Episodes
    trajectory: list[Params]

    def first_tasks(self, count: int) -> Adaptation:
        head = slice(0, count)
        return Adaptation(
            [e.task(head) for e in self.inner_episodes],
            self.post_episodes.task(head),
            [{name: p[head] for name, p in params.items()} for params in self.trajectory],
        )


STAGE_TASKS = 1_000_003  # a stage no inner step reaches: keys a task's own draw


def task_seed(seed: int, iteration: int, task_index: int) -> int:
    return int(np.random.SeedSequence([seed, iteration, task_index, STAGE_TASKS]).generate_state(1)[0])


def seed_keys(seed: int, iteration: int, task_indices: Sequence[int], stage: int) -> list[tuple[int, ...]]:
    """One seed key per task: (run seed, iteration, task index, stage)."""
    return [(seed, iteration, int(i), stage) for i in task_indices]


class MAMLTRPO:
    """One meta-iteration: sample tasks, adapt on fresh episodes, TRPO on the adapted surrogate."""

    def __init__(
        self,
        model: nn.Module,
        sampler: BatchSampler,
        settings: MAMLSettings,
        inner_objective: InnerObjective = reinforce_loss,
        baseline: LinearFeatureBaseline | None = None,
    ) -> None:
        self.model = model
        self.sampler = sampler
        self.settings = settings
        self.inner_objective = inner_objective
        self.baseline = baseline or LinearFeatureBaseline()
        self.stopwatch = Stopwatch()

    def sample_tasks(self, num_tasks: int, seed: int, iteration: int) -> list[dict]:
        """Task i drawn from its own stream (seed, iteration, i): any split of the indices
        across processes sees the same tasks."""
        distribution = self.sampler.task_distribution
        return [distribution.sample_tasks(1, seed=task_seed(seed, iteration, i))[0] for i in range(num_tasks)]

    def sample(self, task_params: Params, tasks: Sequence[dict], keys: Sequence[tuple[int, ...]]) -> Episodes:
        with self.stopwatch.measure("sampling"):
            episodes = self.sampler.sample(self.model, detach(task_params), tasks, keys)
        s = self.settings
        return compute_advantages(episodes, self.baseline, s.gamma, s.gae_lambda)

    def adapt(
        self,
        params: Params,
        tasks: Sequence[dict],
        seed: int,
        iteration: int,
        task_indices: Sequence[int],
        num_steps: int,
        first_order: bool,
        step_sizes: Sequence[float] | None = None,
    ) -> Adaptation:
        """Adapt to `tasks`, each inner step on fresh episodes of the current adapted policy.
        `step_sizes` gives one step size per inner step (default: fast_lr for every step)."""
        task_params = expand_to_tasks(params, len(tasks))
        inner_episodes: list[Episodes] = []

        def inner_loss(step_params: Params, step: int) -> torch.Tensor:
            keys = seed_keys(seed, iteration, task_indices, stage=step)
            inner_episodes.append(self.sample(step_params, tasks, keys))
            return self.inner_objective(self.model, step_params, inner_episodes[step])

        lr = self.settings.fast_lr if step_sizes is None else step_sizes
        trajectory = adapt(task_params, inner_loss, num_steps, lr, first_order)
        post_keys = seed_keys(seed, iteration, task_indices, stage=num_steps)
        post = self.sample(trajectory[-1], tasks, post_keys)
        return Adaptation(inner_episodes, post, trajectory)

    def replay_adaptation(self, params: Params, adaptation: Adaptation, first_order: bool) -> list[Params]:
        """The parameter trajectory for new meta-parameters, on the episodes already sampled."""
        task_params = expand_to_tasks(params, adaptation.post_episodes.num_tasks)
        episodes = adaptation.inner_episodes

        def inner_loss(step_params: Params, step: int) -> torch.Tensor:
            return self.inner_objective(self.model, step_params, episodes[step])

        return adapt(task_params, inner_loss, len(episodes), self.settings.fast_lr, first_order)

    def curvature(self, params: Params, adaptation: Adaptation) -> KLCurvature:
        """Products with the KL's exact curvature through the adaptation, over all tasks or,
        with cg_subsample < 1, over that fraction of them (rllab's subsampled curvature,
        per task): those tasks are re-adapted in a graph of their own, so each product
        costs about that fraction of the exact one."""
        s = self.settings
        num_tasks = adaptation.post_episodes.num_tasks
        keep = max(1, round(s.cg_subsample * num_tasks))
        if keep < num_tasks:
            adaptation = adaptation.first_tasks(keep)
            adaptation.trajectory = self.replay_adaptation(params, adaptation, s.first_order)
        start, adapted = adaptation.trajectory[0], adaptation.trajectory[-1]
        post = adaptation.post_episodes
        weights = post.mask / post.mask.sum((0, 2), keepdim=True).clamp_min(1.0) / post.num_tasks
        jacobian = "identity" if s.first_order else "symmetric" if len(adaptation.inner_episodes) == 1 else "general"
        return KLCurvature(
            start, adapted, lambda phi: policy_outputs(self.model, phi, post), weights, s.cg_damping, jacobian
        )

    def step(self, tasks: Sequence[dict], seed: int, iteration: int, task_indices: Sequence[int]) -> dict[str, float]:
        """Sample, adapt and make one TRPO meta-update of the model's parameters."""
        s = self.settings
        params = parameters_of(self.model)
        self.stopwatch.reset()
        start = time.perf_counter()
        adaptation = self.adapt(params, tasks, seed, iteration, task_indices, s.num_steps, s.first_order)
        adapt_seconds = time.perf_counter() - start
        post = adaptation.post_episodes
        adapted = adaptation.trajectory[-1]
        mean, log_std = policy_outputs(self.model, adapted, post)
        old = OldPolicy.from_outputs(mean, log_std, post.actions)
        loss = surrogate_loss(mean, log_std, post, old)
        names = list(params)
        grad = flatten(torch.autograd.grad(loss, [params[n] for n in names], retain_graph=True))
        fisher_product = self.curvature(params, adaptation)

        direction = conjugate_gradient(fisher_product, grad, s.cg_iters)
        full_step = trust_region_step(direction, fisher_product(direction), s.max_kl)
        old_values = {n: p.detach().clone() for n, p in params.items()}
        step_by_name = unflatten(full_step, params)

        def evaluate(fraction: float) -> tuple[float, float]:
            candidate = {n: old_values[n] - fraction * step_by_name[n] for n in names}
            with torch.enable_grad():
                adapted_candidate = self.replay_adaptation(
                    {n: v.requires_grad_() for n, v in candidate.items()}, adaptation, first_order=True
                )[-1]
            with torch.no_grad():
                new_loss, new_kl = surrogate_and_kl(self.model, detach(adapted_candidate), post, old)
            return new_loss.item(), new_kl.item()

        search = backtracking_line_search(evaluate, loss.item(), s.max_kl, s.ls_max_steps, s.ls_backtrack_ratio)
        with torch.no_grad():
            for n in names:
                params[n].copy_(old_values[n] - search.fraction * step_by_name[n])
        sampling_seconds = self.stopwatch.reset().get("sampling", 0.0)
        return {
            "env_steps": float(sum(e.num_env_steps for e in adaptation.inner_episodes) + post.num_env_steps),
            "return_before": adaptation.inner_episodes[0].episode_returns().mean().item(),
            "return_after": post.episode_returns().mean().item(),
            "kl": search.kl,
            "surrogate_before": loss.item(),
            "surrogate_after": search.loss,
            "ls_steps": float(search.steps),
            "ls_accepted": float(search.accepted),
            "time_sampling": sampling_seconds,
            "time_adaptation": adapt_seconds - sampling_seconds,
            "time_meta_update": time.perf_counter() - start - adapt_seconds,
        }
