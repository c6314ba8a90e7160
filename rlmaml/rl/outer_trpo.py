"""TRPO as the outer optimizer (Finn et al. 2017, section 5.3), on task-batched parameters.

The meta-gradient of the adapted policies' surrogate loss (with the estimator's terms,
rlmaml.rl.estimators) flows back through the recorded
adaptation in one batched call; conjugate gradient on the KL's exact curvature through the
adaptation (rlmaml.rl.curvature) gives the direction, scaled to the trust region; the
backtracking line search evaluates replays of the adaptation. The reductions run over all
tasks of the meta-batch in their order, so every process of a distributed run agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import torch
from torch import Tensor, nn

from rlmaml.core.functional import Params, detach, unflatten
from rlmaml.core.timing import Stopwatch
from rlmaml.rl.adaptation import Adaptation
from rlmaml.rl.curvature import CurvatureProduct, JacobianKind, KLCurvature, per_task_rows
from rlmaml.rl.estimators import MetaLosses
from rlmaml.rl.mlp_curvature import GaussianMLPCurvature, mlp_layers
from rlmaml.rl.objectives import OldPolicy, policy_distribution, surrogate_and_kl
from rlmaml.rl.outer import OuterStep, Replay
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.trpo import LineSearchResult, backtracking_line_search, conjugate_gradient, trust_region_step
from rlmaml.runs.distributed import Context, Shard


@dataclass(frozen=True)
class TRPOSettings:
    """The trust region, the conjugate gradient on the curvature and the line search."""

    max_kl: float = 0.01
    cg_iters: int = 10
    cg_damping: float = 1e-5
    ls_max_steps: int = 15
    ls_backtrack_ratio: float = 0.8
    cg_subsample: float = 1.0
    closed_form_curvature: bool = True  # the Gaussian MLP's, where it applies (rlmaml.rl.mlp_curvature)


def curvature_tasks(num_tasks: int, fraction: float) -> list[int]:
    """The tasks of a meta-batch that the curvature products use: `fraction` of them,
    evenly spread, so that processes sharing the meta-batch share this work too."""
    keep = max(1, round(fraction * num_tasks))
    return [k * num_tasks // keep for k in range(keep)]


def outcome(loss: float, search: LineSearchResult, skip_reason: str = "") -> OuterStep:
    return OuterStep(loss, search.loss, search.kl, search.steps, search.accepted, skip_reason)


def skipped(loss: float, skip_reason: str, steps: int = 0) -> OuterStep:
    """An update that leaves the meta-parameters as they were, because something was not finite."""
    return outcome(loss, LineSearchResult(False, steps, 0.0, loss, 0.0), skip_reason)


class TRPO:
    """The outer optimizer of MAML-TRPO, for `model`'s meta-parameters."""

    def __init__(
        self,
        model: nn.Module,
        settings: TRPOSettings,
        replay: Replay,
        context: Context | None = None,
        meta_losses: MetaLosses | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.replay = replay
        self.context = context or Context()
        self.meta_losses = meta_losses or MetaLosses(model, "maml", self.context)
        # seconds in "gradient", "curvature" (building its graphs), "cg_products" and
        # "line_search", for a benchmark to read and reset
        self.stopwatch = Stopwatch()

    def update(self, params: Params, adaptation: Adaptation, shard: Shard) -> OuterStep:
        """One TRPO step of `params` on the surrogate loss of the adapted policies."""
        s = self.settings
        names = list(params)
        post = adaptation.post_episodes
        with self.stopwatch.measure("gradient"):
            adapted = policy_distribution(self.model, adaptation.trajectory[-1], post)
            old = OldPolicy.from_distribution(adapted, post.actions)
            losses = self.meta_losses(adapted, adaptation, old, shard)
            views = adaptation.trajectory[0]  # per-task views of params: their gradients are per task
            keep = self.closed_form(adaptation) is None  # autograd's curvature reuses the adaptation's graph
            per_task = torch.autograd.grad(losses.sum() / shard.total, [views[n] for n in names], retain_graph=keep)
            grad = self.context.sum_over_tasks(per_task_rows(list(per_task)))
            loss = self.context.gather(losses).mean().item()
        with self.stopwatch.measure("curvature"):
            fisher_product = self.curvature(params, adaptation, shard)
        if not torch.isfinite(grad).all():
            return skipped(loss, "the meta-gradient is not finite")
        direction = conjugate_gradient(fisher_product, grad, s.cg_iters)
        full_step = trust_region_step(direction, fisher_product(direction), s.max_kl)
        if not torch.isfinite(full_step).all():
            return skipped(loss, "the TRPO step (conjugate gradient on the KL curvature) is not finite")
        with self.stopwatch.measure("line_search"):
            return self.line_search(params, full_step, adaptation, old, loss)

    def state(self) -> dict[str, Tensor]:
        return {}  # TRPO keeps nothing between updates

    def load_state(self, tensors: dict[str, Tensor]) -> None:
        pass

    def curvature(self, params: Params, adaptation: Adaptation, shard: Shard) -> Callable[[Tensor], Tensor]:
        """v -> (the KL's exact curvature through the adaptation + damping) v over all tasks
        or, with cg_subsample < 1, over that fraction of them (rllab's subsampled curvature,
        per task): for autograd, those tasks are replayed in a graph of their own, so each
        product costs about that fraction of the exact one. Each process multiplies its own tasks."""
        s = self.settings
        chosen = curvature_tasks(shard.total, s.cg_subsample)
        positions = [k for k, index in enumerate(shard.indices) if index in chosen]
        local = None
        if positions:
            if len(chosen) < shard.total:
                selected = adaptation.select(positions)
                if self.closed_form(selected) is None:
                    selected = replace(selected, trajectory=self.replay(params, selected, adaptation.first_order))
                adaptation = selected
            local = self.local_curvature(adaptation, len(chosen))

        def product(vector: Tensor) -> Tensor:
            with self.stopwatch.measure("cg_products"):
                per_task = local.per_task(vector) if local else vector.new_zeros(0, vector.numel())
                return self.context.sum_over_tasks(per_task) + s.cg_damping * vector

        return product

    def closed_form(self, adaptation: Adaptation) -> tuple[list[str], str] | None:
        """The policy's layers if the curvature of `adaptation` has a closed form here: the
        paper's policy, adapted first-order or by one step of the REINFORCE loss."""
        steps = len(adaptation.inner_episodes)
        one_reinforce_step = steps == 1 and self.meta_losses.estimator != "lvc"
        if not self.settings.closed_form_curvature or not (adaptation.first_order or one_reinforce_step):
            return None
        return mlp_layers(self.model)

    def local_curvature(self, adaptation: Adaptation, num_chosen: int) -> CurvatureProduct:
        """The curvature of this process's chosen tasks (`adaptation`'s), in closed form
        where it has one, else by automatic differentiation through the adaptation's graph."""
        s = self.settings
        start, adapted = adaptation.trajectory[0], adaptation.trajectory[-1]
        post = adaptation.post_episodes
        weights = post.mask / post.mask.sum((0, 2), keepdim=True).clamp_min(1.0) / num_chosen
        layers = self.closed_form(adaptation)
        if layers and isinstance(self.model, GaussianMLPPolicy):
            inner = None if adaptation.first_order else adaptation.inner_episodes[0]
            lr = adaptation.step_sizes[0]
            return GaussianMLPCurvature(self.model, layers, start, adapted, inner, post, weights, lr, s.cg_damping)
        steps = len(adaptation.inner_episodes)
        jacobian: JacobianKind = "identity" if adaptation.first_order else "symmetric" if steps == 1 else "general"
        outputs = partial(policy_distribution, self.model, episodes=post)
        return KLCurvature(start, adapted, outputs, weights, s.cg_damping, jacobian)

    def line_search(
        self, params: Params, full_step: Tensor, adaptation: Adaptation, old: OldPolicy, loss: float
    ) -> OuterStep:
        """Backtrack along `full_step` from the current parameters and set them to the
        accepted point; they stay as they were (bit for bit) if no point is accepted or the
        accepted one is not finite."""
        s = self.settings
        names = list(params)
        post = adaptation.post_episodes
        old_values = {n: p.detach().clone() for n, p in params.items()}
        step_by_name = unflatten(full_step, params)

        def evaluate(fraction: float) -> tuple[float, float]:
            candidate = {n: (old_values[n] - fraction * step_by_name[n]).requires_grad_() for n in names}
            with torch.enable_grad():  # the inner gradients; first order: only the values are needed
                adapted_candidate = self.replay(candidate, adaptation, True)[-1]
            with torch.no_grad():
                values = self.context.gather(
                    torch.stack(surrogate_and_kl(self.model, detach(adapted_candidate), post, old), 1)
                )
            new_loss, new_kl = values.mean(0).tolist()
            return new_loss, new_kl

        search = backtracking_line_search(evaluate, loss, s.max_kl, s.ls_max_steps, s.ls_backtrack_ratio)
        if not search.accepted:
            return outcome(loss, search)
        new_values = {n: old_values[n] - search.fraction * step_by_name[n] for n in names}
        if not all(torch.isfinite(v).all() for v in new_values.values()):
            return skipped(loss, "the accepted TRPO step gives non-finite weights", search.steps)
        with torch.no_grad():
            for n in names:
                params[n].copy_(new_values[n])
        return outcome(loss, search)
