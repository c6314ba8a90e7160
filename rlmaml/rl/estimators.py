"""Meta-gradient estimators: the per-task losses an outer optimizer differentiates through
the recorded adaptation, and the inner objective the adaptation's graph is built from.

The meta-objective is J(theta) = E over the inner episodes tau ~ pi_theta of V(theta'(theta, tau)),
where V is the adapted policy's expected return. Its gradient has two parts: the adapted
policy's gradient carried back through the inner steps on their episodes, and
E[V(theta') grad log pi_theta(tau)], because theta also chose the inner episodes.

- `maml` (the MAML paper's code, as pytorch-maml-rl): the first part alone. Biased: on the
  Gaussian bandit it overshoots the exact gradient by 45 % (rlmaml gradcheck).
- `dice` (Foerster et al. 2018): adds the second part through DiCE's magic box on the inner
  episodes' log-likelihood, times the adapted policy's measured return per step minus a
  baseline that does not depend on the episode (`dice_sampling_term`), in the surrogate's
  units (divided by the per-task normalisation's scale, if any). Unbiased for any number
  of inner steps, but its variance grows with the inner episodes' length.
- `lvc` (Rothfuss et al. 2019, ProMP): the inner loss is the likelihood ratio
  pi / pi_sampling times the advantage. Its gradient at the sampling policy is REINFORCE's,
  its Hessian adds each step's score outer product: lower variance than DiCE, biased.

At the sampling parameters all three take the same inner step (LVC's ratio is exactly 1
there, DiCE changes only the outer loss), so adaptation at evaluation is the same for every
estimator; LVC's step differs in replays from other parameters (TRPO's line search,
ProMP's outer steps), where the ratio importance-weights the recorded episodes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rlmaml.rl.adaptation import Adaptation
from rlmaml.rl.distributions import PolicyDistribution
from rlmaml.rl.episodes import Episodes, episode_sums, masked_task_mean
from rlmaml.rl.objectives import InnerObjective, OldPolicy, policy_distribution, reinforce_loss, surrogate_loss
from rlmaml.runs.distributed import Context, Shard

ESTIMATORS = ("maml", "dice", "lvc")

OtherTasks = Callable[[torch.Tensor], torch.Tensor]  # per-task values [M] -> the mean over each task's others


def lvc_loss(model: nn.Module, task_params: dict[str, torch.Tensor], episodes: Episodes) -> torch.Tensor:
    """ProMP's low-variance curvature inner loss, -mean(pi / pi_sampling * advantage), summed over tasks."""
    log_prob = policy_distribution(model, task_params, episodes).log_prob(episodes.actions)
    ratio = torch.exp(log_prob - episodes.sampling_log_probs())
    return -masked_task_mean(ratio * episodes.computed_advantages(), episodes.mask).sum()


def inner_objective(estimator: str) -> InnerObjective:
    """The inner loss whose graph the estimator differentiates through."""
    return lvc_loss if estimator == "lvc" else reinforce_loss


def records_log_probs(estimator: str) -> bool:
    """Whether the estimator's inner loss needs the sampling policy's log-densities."""
    return estimator == "lvc"


def magic_box(x: torch.Tensor) -> torch.Tensor:
    """DiCE's operator: 1 in value, x's gradient times itself in derivatives."""
    return torch.exp(x - x.detach())


def returns_per_step(episodes: Episodes) -> torch.Tensor:
    """Each task's summed reward over its number of steps, [M]: the value whose gradient the
    surrogate estimates when the advantages are returns (its units)."""
    return masked_task_mean(episodes.rewards, episodes.mask)


def other_episodes_returns_per_step(episodes: Episodes) -> torch.Tensor:
    """For each episode, the summed reward of its task's other episodes over their steps,
    [M, E] (0 for a task's only episode): a baseline independent of the episode itself."""
    rewards, steps = episode_sums(episodes.rewards), episode_sums(episodes.mask)
    others = steps.sum(1, keepdim=True) - steps
    return (rewards.sum(1, keepdim=True) - rewards) / others.clamp_min(1.0)


def episode_log_likelihoods(model: nn.Module, params: dict[str, torch.Tensor], episodes: Episodes) -> torch.Tensor:
    """The log-density of every episode's actions under `params`, [M, E]."""
    log_prob = policy_distribution(model, params, episodes).log_prob(episodes.actions)
    return episode_sums(log_prob * episodes.mask)


def leave_one_out_means(values: torch.Tensor, group: int) -> torch.Tensor:
    """Each value's mean over the others of its group of `group` consecutive values (0 if alone)."""
    if group == 1:
        return torch.zeros_like(values)
    grouped = values.view(-1, group)
    return ((grouped.sum(1, keepdim=True) - grouped) / (group - 1)).reshape(-1)


def dice_sampling_term(model: nn.Module, adaptation: Adaptation, other_tasks: OtherTasks) -> torch.Tensor:
    """Each task's DiCE term, [M]: zero in value; in gradient, the inner episodes' scores
    (along the trajectory that sampled them) times the adapted policy's return per step minus
    a baseline, in the surrogate's units. An episode's baseline is its task's other episodes'
    return per step plus the mean gain from adaptation (post- minus pre-update return per
    step) of the meta-batch's other tasks (`other_tasks` gives it): neither depends on the
    episode, so the term stays unbiased, and the first follows the task's own level, which
    differs most between tasks."""
    post = adaptation.post_episodes
    value = returns_per_step(post)
    units = post.task_advantage_scales().unsqueeze(1)  # the surrogate's, if its advantages were normalised
    term = torch.zeros_like(value)
    for params, episodes in zip(adaptation.trajectory[:-1], adaptation.inner_episodes, strict=True):
        gains = other_tasks(value - returns_per_step(episodes)).unsqueeze(1)
        baselines = other_episodes_returns_per_step(episodes) + gains
        weight = ((value.unsqueeze(1) - baselines) / units).detach()
        term = term + ((magic_box(episode_log_likelihoods(model, params, episodes)) - 1) * weight).sum(1)
    return term


class MetaLosses:
    """The per-task losses [M] of an estimator: their gradient through the adaptation, with
    respect to the per-task views of the meta-parameters, is the estimator's meta-gradient
    (negated). DiCE's baseline pools the other tasks of each group of `group` consecutive
    tasks of the whole meta-batch (default: all of it), across processes."""

    def __init__(self, model: nn.Module, estimator: str, context: Context | None = None, group: int = 0) -> None:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self.model = model
        self.estimator = estimator
        self.context = context or Context()
        self.group = group

    def __call__(
        self, adapted: PolicyDistribution, adaptation: Adaptation, old: OldPolicy, shard: Shard
    ) -> torch.Tensor:
        """`adapted` is the adapted policies' distribution on the post-update episodes of this
        process's tasks, `shard` of the meta-batch."""
        losses = surrogate_loss(adapted, adaptation.post_episodes, old)
        if self.estimator != "dice":
            return losses

        def other_tasks(values: torch.Tensor) -> torch.Tensor:
            pooled = leave_one_out_means(self.context.gather(values), self.group or shard.total)
            return pooled[shard.indices.start : shard.indices.stop]

        return losses - dice_sampling_term(self.model, adaptation, other_tasks)
