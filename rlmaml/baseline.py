"""rllab's linear feature baseline, fitted per task in one batched solve."""

from __future__ import annotations

import torch

from rlmaml.episodes import Episodes


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
    [-10, 10], masked to zero after the episode ended; shape [T, M, E, F]."""
    obs = episodes.observations.double().clamp(-10.0, 10.0)
    steps = episodes.mask.shape[0]
    time = (torch.arange(steps, dtype=torch.float64) / 100.0).view(steps, 1, 1, 1).expand(*obs.shape[:-1], 1)
    features = torch.cat([obs, obs.pow(2), time, time.pow(2), time.pow(3), torch.ones_like(time)], dim=-1)
    return features * episodes.mask.double().unsqueeze(-1)


class LinearFeatureBaseline:
    """Least-squares value fit per task; the ridge term grows tenfold (up to `max_tries`
    times) for the tasks whose solution is not finite, as rllab does."""

    def __init__(self, reg_coeff: float = 1e-5, max_tries: int = 5) -> None:
        self.reg_coeff = reg_coeff
        self.max_tries = max_tries

    def fit_predict(self, episodes: Episodes, gamma: float) -> torch.Tensor:
        """Fit on the episodes' own returns and return the values [T, M, E] (float64)."""
        features = baseline_features(episodes)
        targets = discounted_returns(episodes.rewards.double(), episodes.mask.double(), gamma)
        num_tasks, num_features = features.shape[1], features.shape[-1]
        x = features.movedim(1, 0).reshape(num_tasks, -1, num_features)
        y = targets.movedim(1, 0).reshape(num_tasks, -1, 1)
        gram, moment = x.transpose(1, 2) @ x, x.transpose(1, 2) @ y
        eye = torch.eye(num_features, dtype=torch.float64)
        reg = torch.full((num_tasks, 1, 1), self.reg_coeff, dtype=torch.float64)
        coeffs = torch.zeros(num_tasks, num_features, 1, dtype=torch.float64)
        todo = torch.ones(num_tasks, dtype=torch.bool)
        for _ in range(self.max_tries):
            solution, _ = torch.linalg.solve_ex(gram[todo] + reg[todo] * eye, moment[todo])
            finite = torch.isfinite(solution).all(dim=(1, 2))
            coeffs[todo.nonzero().squeeze(1)[finite]] = solution[finite]
            todo[todo.clone()] = ~finite
            if not todo.any():
                break
            reg[todo] *= 10.0
        return torch.einsum("tmef,mf->tme", features, coeffs.squeeze(-1))
