"""ProMP's outer optimizer (Rothfuss et al. 2019): several Adam steps per meta-batch on
PPO's clipped surrogate of the adapted policies, each re-adapting from the current
meta-parameters on the recorded inner episodes, plus a KL penalty that keeps every inner
step's starting policy near the one that sampled its episodes.

Its estimator's inner loss is normally LVC (rlmaml.rl.estimators.lvc_loss), whose
likelihood ratio importance-weights the recorded episodes once the meta-parameters have
moved: that is what lets ProMP take several steps on one meta-batch. The reductions run
over all tasks of the meta-batch in their order, and Adam's state is the same in every
process, so every process of a distributed run takes the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rlmaml.core.functional import Params, detach, parameters_of
from rlmaml.rl.adaptation import Adaptation
from rlmaml.rl.curvature import per_task_rows
from rlmaml.rl.distributions import PolicyDistribution
from rlmaml.rl.episodes import masked_task_mean
from rlmaml.rl.objectives import OldPolicy, mean_kl, policy_distribution
from rlmaml.rl.outer import OuterStep, Replay
from rlmaml.runs.distributed import Context, Shard

STATE_PREFIX = "adam."  # the checkpoint tensors of Adam's state, by parameter name


@dataclass(frozen=True)
class ProMPSettings:
    """ProMP's defaults, from its MuJoCo experiments."""

    clip: float = 0.3  # PPO's clip range of the adapted policies' likelihood ratio
    kl_coef: float = 5e-4  # weight of the inner steps' KL penalty
    steps: int = 5  # Adam steps per meta-batch
    lr: float = 1e-3  # Adam's step size


def clipped_surrogate(new: PolicyDistribution, adaptation: Adaptation, old: OldPolicy, clip: float) -> Tensor:
    """PPO's clipped surrogate loss of every task on the post-update episodes, [M]."""
    post = adaptation.post_episodes
    advantages = post.computed_advantages()
    ratio = torch.exp(new.log_prob(post.actions) - old.log_prob)
    clipped = torch.minimum(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages)
    return -masked_task_mean(clipped, post.mask)


def inner_kl(model: nn.Module, trajectory: list[Params], adaptation: Adaptation, samplers: list[OldPolicy]) -> Tensor:
    """Each task's KL(sampling policy || current policy) on every inner step's episodes,
    averaged over the steps, [M]."""
    kls = []
    for params, episodes, old in zip(trajectory[:-1], adaptation.inner_episodes, samplers, strict=True):
        kls.append(mean_kl(old, policy_distribution(model, params, episodes), episodes))
    return torch.stack(kls).mean(0)


class ProMP:
    """The outer optimizer of ProMP, for `model`'s meta-parameters; Adam's moments persist
    across meta-batches (and checkpoints, through `state` and `load_state`)."""

    def __init__(
        self, model: nn.Module, settings: ProMPSettings, replay: Replay, context: Context | None = None
    ) -> None:
        self.model = model
        self.settings = settings
        self.replay = replay
        self.context = context or Context()
        self.params = parameters_of(model)
        self.adam = torch.optim.Adam(list(self.params.values()), lr=settings.lr)

    def losses(
        self, trajectory: list[Params], adaptation: Adaptation, olds: tuple[OldPolicy, list[OldPolicy]]
    ) -> Tensor:
        """ProMP's loss of every task, [M], for a trajectory replayed from the current parameters."""
        post_old, inner_olds = olds
        adapted = policy_distribution(self.model, trajectory[-1], adaptation.post_episodes)
        surrogate = clipped_surrogate(adapted, adaptation, post_old, self.settings.clip)
        return surrogate + self.settings.kl_coef * inner_kl(self.model, trajectory, adaptation, inner_olds)

    def update(self, params: Params, adaptation: Adaptation, shard: Shard) -> OuterStep:
        """`steps` Adam steps of `params`; if a gradient or a new weight is not finite, the
        parameters and Adam's state go back to how they were before this update."""
        names = list(params)
        post = adaptation.post_episodes
        olds = (
            OldPolicy.of(self.model, adaptation.trajectory[-1], post),
            [
                OldPolicy.of(self.model, p, e)
                for p, e in zip(adaptation.trajectory[:-1], adaptation.inner_episodes, strict=True)
            ],
        )
        saved_params, saved_state = {n: p.detach().clone() for n, p in params.items()}, self.state()
        first_loss = 0.0
        for step in range(self.settings.steps):
            trajectory = adaptation.trajectory if step == 0 else self.replay(params, adaptation, adaptation.first_order)
            losses = self.losses(trajectory, adaptation, olds)
            views = trajectory[0]
            per_task = torch.autograd.grad(losses.sum() / shard.total, [views[n] for n in names])
            grad = self.context.sum_over_tasks(per_task_rows(list(per_task)))
            if step == 0:
                first_loss = self.context.gather(losses).mean().item()
            if not torch.isfinite(grad).all():
                return self.restored(params, saved_params, saved_state, first_loss, "the ProMP gradient is not finite")
            self.adam_step(grad)
            if not all(torch.isfinite(p).all() for p in params.values()):
                return self.restored(
                    params, saved_params, saved_state, first_loss, "a ProMP step gives non-finite weights"
                )
        candidate = {n: p.detach().clone().requires_grad_() for n, p in params.items()}
        trajectory = [detach(p) for p in self.replay(candidate, adaptation, True)]  # first order: values only
        with torch.no_grad():
            new_loss = self.context.gather(self.losses(trajectory, adaptation, olds)).mean().item()
            kl = mean_kl(olds[0], policy_distribution(self.model, trajectory[-1], post), post)
        return OuterStep(first_loss, new_loss, self.context.gather(kl).mean().item(), self.settings.steps, True)

    def adam_step(self, grad: Tensor) -> None:
        """One Adam step along the flat gradient `grad`."""
        start = 0
        for p in self.params.values():
            p.grad = grad[start : start + p.numel()].view_as(p).clone()
            start += p.numel()
        self.adam.step()
        self.adam.zero_grad(set_to_none=True)

    def restored(self, params: Params, saved: Params, state: dict[str, Tensor], loss: float, reason: str) -> OuterStep:
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(saved[n])
        self.load_state(state)
        return OuterStep(loss, loss, 0.0, 0, False, reason)

    def state(self) -> dict[str, Tensor]:
        """Adam's moments and step counts by parameter name, as checkpoint tensors."""
        tensors = {}
        for name, p in self.params.items():
            for key, value in self.adam.state.get(p, {}).items():
                tensors[f"{STATE_PREFIX}{name}.{key}"] = value.detach().clone()
        return tensors

    def load_state(self, tensors: dict[str, Tensor]) -> None:
        """Adam's state back from `state`'s tensors (none: a fresh Adam)."""
        self.adam.state.clear()
        for name, p in self.params.items():
            prefix = f"{STATE_PREFIX}{name}."
            entries = {k.removeprefix(prefix): v.clone() for k, v in tensors.items() if k.startswith(prefix)}
            if entries:
                self.adam.state[p] = entries
