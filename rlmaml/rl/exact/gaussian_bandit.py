"""A one-step Gaussian bandit whose MAML meta-objective, meta-gradient and the expectations of three
meta-gradient estimators are known to machine precision, to measure sampled estimators against.

One task: the policy N(mean, std^2) acts once and earns r(a) = -(a - g)^2. One inner policy-gradient
step of size alpha on K episodes (advantages = rewards, no baseline) gives theta' = theta + alpha * ghat,
and the meta-objective is J(theta) = E[V(theta')] with V(theta') = -((mean' - g)^2 + std'^2).
theta' depends on the K samples only through sums of per-sample terms (mean' through sum f_k, std'^2
through prod_k e_k), so every expectation factors into one-sample Gaussian moments, computed by
Gauss-Hermite quadrature, and is averaged over the goal by Gauss-Legendre quadrature when the goal
is drawn uniformly from a range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import torch
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from torch import Tensor

Goal = float | tuple[float, float]
"""A fixed goal g, or a range (low, high) that g is drawn from uniformly."""

Estimator = Literal["maml", "lvc", "dice"]
"""maml: the MAML paper's code, which differentiates through the inner step with its samples held
fixed; lvc: ProMP's low-variance curvature (Rothfuss et al. 2019), which adds the outer product of
the scores to the Hessian; dice: unbiased, the maml term plus V(theta') times the inner scores."""

ESTIMATORS: tuple[Estimator, ...] = ("maml", "lvc", "dice")


@dataclass(frozen=True)
class GaussianBandit:
    """The policy's parameters and its inner step: `fast_lr` (alpha) on `episodes` (K) one-step
    episodes. With `learn_std` False the std is a constant and theta is the mean alone.

    A constant std makes every integrand a polynomial, which the quadrature integrates exactly. A
    learned one brings exp(-(2 alpha std^2 / K) z^4 + ...) into std'^2: the default node counts give
    machine precision (a test compares twice as many) while 2 alpha std^2 / K stays below about
    0.04 for |mean - g| up to 3 std; beyond, raise `hermite_nodes` (numpy's hermegauss works up to
    about 350)."""

    mean: float
    log_std: float
    learn_std: bool
    fast_lr: float
    episodes: int
    hermite_nodes: int = 120
    legendre_nodes: int = 48

    @property
    def names(self) -> tuple[str, ...]:
        """The learned parameters, in the order of theta."""
        return ("mean", "log_std") if self.learn_std else ("mean",)

    def parameters(self) -> dict[str, Tensor]:
        """Float64 scalars at the bandit's point, for `meta_objective`; the learned ones require grad."""
        return {
            "mean": torch.tensor(self.mean, dtype=torch.float64, requires_grad=True),
            "log_std": torch.tensor(self.log_std, dtype=torch.float64, requires_grad=self.learn_std),
        }


def _goal_nodes(goal: Goal, count: int) -> tuple[Tensor, Tensor]:
    """Goals and weights summing to one: the goal itself, or Gauss-Legendre nodes on the range."""
    if isinstance(goal, tuple):
        low, high = goal
        y, v = leggauss(count)
        return torch.as_tensor(low + (high - low) * (y + 1) / 2), torch.as_tensor(v / v.sum())
    return torch.tensor([float(goal)], dtype=torch.float64), torch.ones(1, dtype=torch.float64)


class _Moments:
    """The per-sample quantities at the quadrature nodes (goal nodes x Hermite nodes, with leading
    axes for theta's indices) and the expectations E[sum_k X(a_k) T] / K that the estimators are
    made of, for T one of D = mean' - g, D^2 and S = std'^2; one value per goal node."""

    def __init__(self, bandit: GaussianBandit, goal: Goal, mean: Tensor, log_std: Tensor) -> None:
        x, w = hermegauss(bandit.hermite_nodes)
        goals, self.goal_weights = _goal_nodes(goal, bandit.legendre_nodes)
        self.weights = torch.as_tensor(w / w.sum())
        self.k, self.alpha = bandit.episodes, bandit.fast_lr
        self.d = mean - goals
        self.var = torch.exp(2 * log_std)
        z = torch.as_tensor(x).expand(len(goals), -1)
        a = mean + log_std.exp() * z
        self.r = -((a - goals[:, None]) ** 2)
        dev = (a - mean) / self.var  # d log pi / d mean
        self.score = torch.stack([dev, z**2 - 1])
        self.hessian = torch.stack(
            [torch.stack([-1 / self.var.expand_as(z), -2 * dev]), torch.stack([-2 * dev, -2 * z**2])]
        )
        self.f = self.r * dev
        # the factor each sample multiplies std'^2 by; a constant std is the factor one
        self.e = torch.exp(2 * self.alpha * self.r * (z**2 - 1) / self.k) if bandit.learn_std else torch.ones_like(z)
        self.mean_f, self.mean_f2, self.mean_e = self.expect(self.f), self.expect(self.f**2), self.expect(self.e)

    def expect(self, x: Tensor) -> Tensor:
        """E[x(a)] for one sample a ~ N(mean, std^2)."""
        return (x * self.weights).sum(-1)

    def _sum_f(self, x: Tensor, power: int) -> Tensor:
        """E[sum_k x_k F^power] / K, F = sum_j f_j, by which samples j coincide with k."""
        m0, c = self.expect(x), self.k - 1
        if power == 0:
            return m0
        m1 = self.expect(x * self.f)
        if power == 1:
            return m1 + c * m0 * self.mean_f
        m2 = self.expect(x * self.f**2)
        return m2 + c * (m0 * self.mean_f2 + 2 * m1 * self.mean_f) + c * (c - 1) * m0 * self.mean_f**2

    def times_d(self, x: Tensor) -> Tensor:
        """E[sum_k x_k D] / K with D = d + (alpha / K) F."""
        return self.d * self._sum_f(x, 0) + self.alpha / self.k * self._sum_f(x, 1)

    def times_d2(self, x: Tensor) -> Tensor:
        """E[sum_k x_k D^2] / K."""
        c = self.alpha / self.k
        return self.d**2 * self._sum_f(x, 0) + 2 * self.d * c * self._sum_f(x, 1) + c**2 * self._sum_f(x, 2)

    def times_s(self, x: Tensor) -> Tensor:
        """E[sum_k x_k S] / K with S = std^2 prod_j e_j."""
        return self.var * self.expect(x * self.e) * self.mean_e ** (self.k - 1)

    def over_goals(self, x: Tensor) -> Tensor:
        """The average over the goal nodes (the last axis)."""
        return (x * self.goal_weights).sum(-1)


def meta_objective(bandit: GaussianBandit, goal: Goal, params: Mapping[str, Tensor] | None = None) -> Tensor:
    """J = E[V(theta')], a float64 scalar differentiable in params["mean"] and params["log_std"]
    (default: `bandit.parameters()`)."""
    p = bandit.parameters() if params is None else params
    m = _Moments(bandit, goal, p["mean"], p["log_std"])
    one = torch.ones_like(m.r)
    return m.over_goals(-(m.times_d2(one) + m.times_s(one)))


def exact_meta_gradient(bandit: GaussianBandit, goal: Goal) -> dict[str, float]:
    """dJ/dtheta for the learned parameters, by autograd through `meta_objective`."""
    p = bandit.parameters()
    grads = torch.autograd.grad(meta_objective(bandit, goal, p), [p[n] for n in bandit.names])
    return {n: g.item() for n, g in zip(bandit.names, grads, strict=True)}


@torch.no_grad()
def estimator_expectation(bandit: GaussianBandit, goal: Goal, estimator: Estimator) -> dict[str, float]:
    """E[estimate of dJ/dtheta] over the inner samples (and the post-update ones, whose gradient
    estimate is unbiased for gradV(theta') = (-2 D, -2 S)).

    maml and lvc are E[(I + alpha dghat/dtheta)^T gradV(theta')] with dghat/dtheta = (1/K)
    sum_k r_k C_k, C the Hessian of log pi (plus score score^T for lvc); dice adds
    E[V(theta') sum_k score_k], which restores the dependence of the inner samples on theta."""
    p = bandit.parameters()
    m = _Moments(bandit, goal, p["mean"], p["log_std"])
    n = len(bandit.names)
    score, curvature = m.score[:n], m.hessian[:n, :n]
    if estimator == "lvc":
        curvature = curvature + score[:, None] * score[None, :]
    a = m.r * curvature
    # gradV(theta') = -2 (D, S), or -2 D for a constant std: the moment of sum_k x_k times its entry j
    moment: list[Callable[[Tensor], Tensor]] = [m.times_d, m.times_s]
    one = torch.ones_like(m.r)
    rows = [moment[i](one) + m.alpha * sum(moment[j](a[j, i]) for j in range(n)) for i in range(n)]
    grad = -2 * torch.stack(rows)
    if estimator == "dice":
        grad = grad - m.k * (m.times_d2(score) + m.times_s(score))
    return {name: value.item() for name, value in zip(bandit.names, m.over_goals(grad), strict=True)}
