"""TRPO's pieces on flat parameter vectors: conjugate gradient and the backtracking line
search (Schulman et al. 2015), independent of what produces the loss and the curvature."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int, residual_tol: float = 1e-10
) -> torch.Tensor:
    """Approximately solve A x = b for symmetric positive-definite A given only A @ v."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r.dot(r)
    for _ in range(iters):
        ap = matvec(p)
        alpha = rr / p.dot(ap)
        x += alpha * p
        r -= alpha * ap
        rr_new = r.dot(r)
        if rr_new < residual_tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def trust_region_step(direction: torch.Tensor, curvature: torch.Tensor, max_kl: float) -> torch.Tensor:
    """Scale `direction` so that its quadratic KL estimate 0.5 d'Hd equals max_kl."""
    shs = 0.5 * direction.dot(curvature)
    return direction * torch.sqrt(max_kl / shs.clamp_min(1e-12))


@dataclass
class LineSearchResult:
    accepted: bool
    steps: int  # evaluations made
    fraction: float  # of the full step taken; 0 if rejected
    loss: float
    kl: float


def backtracking_line_search(
    evaluate: Callable[[float], tuple[float, float]],
    old_loss: float,
    max_kl: float,
    max_steps: int,
    backtrack_ratio: float,
) -> LineSearchResult:
    """Try fractions 1, r, r^2, ... of the full step; accept the first whose loss is finite
    and below `old_loss` with a finite KL of at most `max_kl`. `evaluate(fraction)` returns
    (loss, kl) there. If none is accepted the caller keeps the old parameters."""
    loss, kl = old_loss, 0.0
    for step in range(max_steps):
        fraction = backtrack_ratio**step
        loss, kl = evaluate(fraction)
        if math.isfinite(loss) and math.isfinite(kl) and loss < old_loss and kl <= max_kl:
            return LineSearchResult(True, step + 1, fraction, loss, kl)
    return LineSearchResult(False, max_steps, 0.0, old_loss, 0.0)
