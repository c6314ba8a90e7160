"""rllab's linear feature baseline, fitted per task in one batched solve."""

from __future__ import annotations

import torch

from rlmaml.rl.episodes import Episodes


def discounted_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """Reward-to-go sum_k gamma^k r_{t+k} within each episode, [T, ...] time-major."""
    returns = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = (rewards[t] + gamma * running) * mask[t]
        returns[t] = running
    return returns


def baseline_features(episodes: Episodes) -> torch.Tensor:
    """[obs, obs^2, t, t^2, t^3, 1] per step with t = step / 100 and obs clipped to
    [-10, 10], masked to zero after the episode ended; task-major [M, T, E, F], the layout
    the per-task fit multiplies. Written in place: fitting an Ant meta-batch (40 x 8,000 steps,
    254 features) peaked at 1.9 GB this way against 2.9 GB built by concatenation."""
    mask = episodes.mask.double().movedim(1, 0).unsqueeze(-1)
    obs = episodes.observations.movedim(1, 0).double().clamp(-10.0, 10.0)
    num_tasks, steps, per_task, dim = obs.shape
    features = torch.empty(num_tasks, steps, per_task, 2 * dim + 4, dtype=torch.float64)
    torch.mul(obs, mask, out=features[..., :dim])
    torch.mul(obs.pow(2), mask, out=features[..., dim : 2 * dim])
    time = (torch.arange(steps, dtype=torch.float64) / 100.0).unsqueeze(-1)
    powers = torch.cat([time, time.pow(2), time.pow(3), torch.ones_like(time)], dim=-1)
    torch.mul(powers.view(1, steps, 1, 4), mask, out=features[..., 2 * dim :])
    return features


def solve_ridge(gram: torch.Tensor, moment: torch.Tensor, reg_coeff: float, max_tries: int) -> torch.Tensor:
    """Per task, (gram + reg I)^-1 moment for [M, F, F] Gram matrices and [M, F, 1] moments.

    Cholesky with its own failure check, not LU: batched LU in MKL fails or hangs on some
    CPUs with 2 threads (issue 14). A task whose factorisation fails or whose solution is not
    finite retries with a tenfold ridge, as rllab does; one still unsolved after `max_tries`
    gets the eigenvalue pseudo-inverse, and a task with non-finite input gets zeros (its
    baseline predicts 0, so its advantages are its returns)."""
    num_tasks, num_features = gram.shape[0], gram.shape[-1]
    coeffs = gram.new_zeros(num_tasks, num_features, 1)
    todo = torch.isfinite(gram).all(dim=(1, 2)) & torch.isfinite(moment).all(dim=(1, 2))
    reg = gram.new_full((num_tasks, 1, 1), reg_coeff)
    eye = torch.eye(num_features, dtype=gram.dtype)
    for _ in range(max_tries):
        tasks = todo.nonzero().squeeze(1)
        if len(tasks) == 0:
            return coeffs
        factor, info = torch.linalg.cholesky_ex(gram[tasks] + reg[tasks] * eye)
        solution = torch.cholesky_solve(moment[tasks], factor)
        solved = (info == 0) & torch.isfinite(solution).all(dim=(1, 2))
        coeffs[tasks[solved]] = solution[solved]
        todo[tasks[solved]] = False
        reg[tasks[~solved]] *= 10.0
    for task in todo.nonzero().squeeze(1).tolist():
        coeffs[task] = pseudo_inverse_solve(gram[task], moment[task])
    return coeffs


def pseudo_inverse_solve(gram: torch.Tensor, moment: torch.Tensor) -> torch.Tensor:
    """The minimum-norm least-squares solution of one symmetric system through its
    eigenvalues (those below 1e-12 of the largest are dropped); zeros if that fails too."""
    try:
        values, vectors = torch.linalg.eigh(0.5 * (gram + gram.T))
    except RuntimeError:
        return torch.zeros_like(moment)
    keep = values > 1e-12 * values.abs().max()
    inverse = torch.where(keep, 1.0 / torch.where(keep, values, 1.0), 0.0)
    solution = vectors @ (inverse.unsqueeze(1) * (vectors.T @ moment))
    return solution if torch.isfinite(solution).all() else torch.zeros_like(moment)


class LinearFeatureBaseline:
    """Least-squares value fit per task (rllab's ridge rule, see `solve_ridge`)."""

    def __init__(self, reg_coeff: float = 1e-5, max_tries: int = 5) -> None:
        self.reg_coeff = reg_coeff
        self.max_tries = max_tries

    def fit_predict(self, episodes: Episodes, gamma: float) -> torch.Tensor:
        """Fit on the episodes' own returns and return the values [T, M, E] (float64)."""
        features = baseline_features(episodes)
        targets = discounted_returns(episodes.rewards.double(), episodes.mask.double(), gamma)
        num_tasks, steps, per_task, num_features = features.shape
        x = features.view(num_tasks, -1, num_features)
        y = targets.movedim(1, 0).reshape(num_tasks, -1, 1)
        coeffs = solve_ridge(x.transpose(1, 2) @ x, x.transpose(1, 2) @ y, self.reg_coeff, self.max_tries)
        return torch.bmm(x, coeffs).view(num_tasks, steps, per_task).movedim(0, 1)
