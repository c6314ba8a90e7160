"""MAML with TRPO meta-updates (Finn et al. 2017, section 5.3) on task-batched parameters.

All tasks of a meta-batch live in one graph: the meta-parameters are expanded to per-task
views, so one backward pass gives every task's inner gradient, and the meta-gradient and
the curvature products flow back through the adaptation in single batched calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

from rlmaml.rl.advantages import compute_advantages
from rlmaml.rl.baseline import LinearFeatureBaseline
from rlmaml.rl.curvature import KLCurvature, per_task_rows
from rlmaml.runs.distributed import Context, Shard
from rlmaml.rl.episodes import Episodes, task_sums
from rlmaml.core.functional import Params, detach, expand_to_tasks, parameters_of, unflatten
from rlmaml.core.maml import adapt
from rlmaml.rl.objectives import (
    InnerObjective,
    OldPolicy,
    policy_outputs,
    reinforce_loss,
    surrogate_and_kl,
    surrogate_loss,
)
from rlmaml.rl.sampler import BatchSampler
from rlmaml.core.seeding import seed_keys, task_seed
from rlmaml.core.timing import Stopwatch
from rlmaml.rl.trpo import LineSearchResult, backtracking_line_search, conjugate_gradient, trust_region_step


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

    def select(self, positions: list[int]) -> Adaptation:
        """The tasks at these positions of the meta-batch (this process's part of it)."""
        return Adaptation(
            [e.task(positions) for e in self.inner_episodes],
            self.post_episodes.task(positions),
            [{name: p[positions] for name, p in params.items()} for params in self.trajectory],
        )


def curvature_tasks(num_tasks: int, fraction: float) -> list[int]:
    """The tasks of a meta-batch that the curvature products use: `fraction` of them,
    evenly spread, so that processes sharing the meta-batch share this work too."""
    keep = max(1, round(fraction * num_tasks))
    return [k * num_tasks // keep for k in range(keep)]


class MAMLTRPO:
    """One meta-iteration: sample tasks, adapt on fresh episodes, TRPO on the adapted surrogate.
    With a distributed `context`, each process samples and adapts its shard of the meta-batch;
    gradients, curvature products, line-search values and statistics are reduced over all
    tasks in their meta-batch order, so every process takes the same step."""

    def __init__(
        self,
        model: nn.Module,
        sampler: BatchSampler,
        settings: MAMLSettings,
        inner_objective: InnerObjective = reinforce_loss,
        baseline: LinearFeatureBaseline | None = None,
        context: Context | None = None,
    ) -> None:
        self.model = model
        self.sampler = sampler
        self.settings = settings
        self.inner_objective = inner_objective
        self.baseline = baseline or LinearFeatureBaseline()
        self.context = context or Context()
        self.stopwatch = Stopwatch()
        self.skip_reason = ""  # why the last step left the parameters alone, if it was not finite

    def sample_tasks(self, seed: int, iteration: int, task_indices: Sequence[int]) -> list[dict]:
        """Task i drawn from its own stream (seed, iteration, i): any split of the indices
        across processes sees the same tasks."""
        distribution = self.sampler.task_distribution
        return [distribution.sample_tasks(1, seed=task_seed(seed, iteration, i))[0] for i in task_indices]

    def sample(self, task_params: Params, tasks: Sequence[dict], keys: Sequence[tuple[int, ...]]) -> Episodes:
        """Episodes sampled on the CPU, padded to the longest of any process's (so that each
        task's numbers do not depend on the others'), with advantages, on the learner's device."""
        with self.stopwatch.measure("sampling"):
            cpu_params = {name: p.detach().cpu() for name, p in task_params.items()}
            episodes = self.sampler.sample(self.model, cpu_params, tasks, keys)
        episodes = episodes.padded(self.context.max(episodes.num_steps))
        s = self.settings
        episodes = compute_advantages(episodes, self.baseline, s.gamma, s.gae_lambda)
        return episodes.to(next(iter(task_params.values())).device)

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

    def curvature(self, params: Params, adaptation: Adaptation, shard: Shard) -> Callable[[Tensor], Tensor]:
        """v -> (the KL's exact curvature through the adaptation + damping) v over all tasks
        or, with cg_subsample < 1, over that fraction of them (rllab's subsampled curvature,
        per task): those tasks are re-adapted in a graph of their own, so each product
        costs about that fraction of the exact one. Each process multiplies its own tasks."""
        s = self.settings
        chosen = curvature_tasks(shard.total, s.cg_subsample)
        positions = [k for k, index in enumerate(shard.indices) if index in chosen]
        local = None
        if positions:
            if len(chosen) < shard.total:
                adaptation = adaptation.select(positions)
                adaptation.trajectory = self.replay_adaptation(params, adaptation, s.first_order)
            start, adapted = adaptation.trajectory[0], adaptation.trajectory[-1]
            post = adaptation.post_episodes
            weights = post.mask / post.mask.sum((0, 2), keepdim=True).clamp_min(1.0) / len(chosen)
            steps = len(adaptation.inner_episodes)
            jacobian = "identity" if s.first_order else "symmetric" if steps == 1 else "general"
            outputs = partial(policy_outputs, self.model, episodes=post)
            local = KLCurvature(start, adapted, outputs, weights, s.cg_damping, jacobian)

        def product(vector: Tensor) -> Tensor:
            per_task = local.per_task(vector) if local else vector.new_zeros(0, vector.numel())
            return self.context.sum_over_tasks(per_task) + s.cg_damping * vector

        return product

    def step(self, tasks: Sequence[dict], seed: int, iteration: int, shard: Shard) -> dict[str, float]:
        """Sample, adapt and make one TRPO meta-update of the model's parameters; `tasks`
        are the meta-batch's tasks at `shard.indices`."""
        s = self.settings
        gather = self.context.gather
        params = parameters_of(self.model)
        names = list(params)
        self.stopwatch.reset()
        start = time.perf_counter()
        adaptation = self.adapt(params, tasks, seed, iteration, shard.indices, s.num_steps, s.first_order)
        adapt_seconds = time.perf_counter() - start
        post = adaptation.post_episodes
        mean, log_std = policy_outputs(self.model, adaptation.trajectory[-1], post)
        old = OldPolicy.from_outputs(mean, log_std, post.actions)
        losses = surrogate_loss(mean, log_std, post, old)
        views = adaptation.trajectory[0]  # per-task views of params: their gradients are per task
        per_task = torch.autograd.grad(losses.sum() / shard.total, [views[n] for n in names], retain_graph=True)
        grad = self.context.sum_over_tasks(per_task_rows(list(per_task)))
        loss = gather(losses).mean().item()
        fisher_product = self.curvature(params, adaptation, shard)

        self.skip_reason = ""
        if not torch.isfinite(grad).all():
            self.skip_reason = "the meta-gradient is not finite"
            search = LineSearchResult(False, 0, 0.0, loss, 0.0)
        else:
            direction = conjugate_gradient(fisher_product, grad, s.cg_iters)
            full_step = trust_region_step(direction, fisher_product(direction), s.max_kl)
            if torch.isfinite(full_step).all():
                search = self.line_search(params, full_step, adaptation, old, loss)
            else:
                self.skip_reason = "the TRPO step (conjugate gradient on the KL curvature) is not finite"
                search = LineSearchResult(False, 0, 0.0, loss, 0.0)
        sampling_seconds = self.stopwatch.reset().get("sampling", 0.0)
        env_steps = sum(task_sums(e.mask) for e in [*adaptation.inner_episodes, post])
        return {
            "env_steps": gather(env_steps).sum().item(),
            "return_before": gather(adaptation.inner_episodes[0].episode_returns()).mean().item(),
            "return_after": gather(post.episode_returns()).mean().item(),
            "kl": search.kl,
            "surrogate_before": loss,
            "surrogate_after": search.loss,
            "ls_steps": float(search.steps),
            "ls_accepted": float(search.accepted),
            "time_sampling": sampling_seconds,
            "time_adaptation": adapt_seconds - sampling_seconds,
            "time_meta_update": time.perf_counter() - start - adapt_seconds,
            "update_skipped": float(bool(self.skip_reason)),
        }

    def line_search(
        self, params: Params, full_step: Tensor, adaptation: Adaptation, old: OldPolicy, loss: float
    ) -> LineSearchResult:
        """Backtrack along `full_step` from the current parameters and set them to the
        accepted point; they stay as they were (bit for bit) if no point is accepted or the
        accepted one is not finite."""
        s = self.settings
        names = list(params)
        post = adaptation.post_episodes
        old_values = {n: p.detach().clone() for n, p in params.items()}
        step_by_name = unflatten(full_step, params)

        def evaluate(fraction: float) -> tuple[float, float]:
            candidate = {n: old_values[n] - fraction * step_by_name[n] for n in names}
            with torch.enable_grad():
                adapted_candidate = self.replay_adaptation(
                    {n: v.requires_grad_() for n, v in candidate.items()}, adaptation, first_order=True
                )[-1]
            with torch.no_grad():
                values = self.context.gather(
                    torch.stack(surrogate_and_kl(self.model, detach(adapted_candidate), post, old), 1)
                )
            new_loss, new_kl = values.mean(0).tolist()
            return new_loss, new_kl

        search = backtracking_line_search(evaluate, loss, s.max_kl, s.ls_max_steps, s.ls_backtrack_ratio)
        if not search.accepted:
            return search
        new_values = {n: old_values[n] - search.fraction * step_by_name[n] for n in names}
        if not all(torch.isfinite(v).all() for v in new_values.values()):
            self.skip_reason = "the accepted TRPO step gives non-finite weights"
            return LineSearchResult(False, search.steps, 0.0, loss, 0.0)
        with torch.no_grad():
            for n in names:
                params[n].copy_(new_values[n])
        return search
