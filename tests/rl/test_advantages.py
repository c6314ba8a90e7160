"""GAE, the linear feature baseline and per-task normalisation, against hand computations."""

import pytest
import torch

from rlmaml.rl.advantages import gae, normalise_per_task
from rlmaml.rl.baseline import LinearFeatureBaseline, baseline_features, discounted_returns
from rlmaml.rl.episodes import Episodes


def test_gae_matches_a_hand_computation():
    # one episode of 3 steps that ends after step 2, padded to T = 4
    rewards = torch.tensor([1.0, 2.0, 3.0, 0.0]).view(4, 1)
    values = torch.tensor([0.5, 1.0, 1.5, 9.0]).view(4, 1)
    mask = torch.tensor([1.0, 1.0, 1.0, 0.0]).view(4, 1)
    g, lam = 0.9, 0.5
    d0 = 1 + g * 1.0 - 0.5
    d1 = 2 + g * 1.5 - 1.0
    d2 = 3 + g * 0.0 - 1.5  # the value after the last step is zero
    expected = [d0 + g * lam * (d1 + g * lam * d2), d1 + g * lam * d2, d2, 0.0]
    got = gae(rewards, values, mask, g, lam).view(-1)
    assert torch.allclose(got, torch.tensor(expected))


def test_gae_with_lambda_one_and_zero_values_is_the_discounted_return():
    rewards = torch.rand(7, 3)
    mask = torch.ones(7, 3)
    assert torch.allclose(gae(rewards, torch.zeros(7, 3), mask, 0.95, 1.0), discounted_returns(rewards, mask, 0.95))


def random_episodes(steps=12, tasks=3, per_task=4, obs_dim=2, seed=0) -> Episodes:
    gen = torch.Generator().manual_seed(seed)
    mask = torch.ones(steps, tasks, per_task)
    mask[8:, 0, 1] = 0.0  # one episode ends early
    return Episodes(
        observations=torch.randn(steps, tasks, per_task, obs_dim, generator=gen),
        actions=torch.zeros(steps, tasks, per_task, 2),
        rewards=torch.randn(steps, tasks, per_task, generator=gen) * mask,
        mask=mask,
    )


def test_baseline_is_the_per_task_least_squares_fit():
    episodes = random_episodes()
    values = LinearFeatureBaseline(reg_coeff=0.0).fit_predict(episodes, gamma=0.9)
    features = baseline_features(episodes)
    returns = discounted_returns(episodes.rewards.double(), episodes.mask.double(), 0.9)
    for task in range(episodes.num_tasks):
        valid = episodes.mask[:, task].bool()
        x, y = features[task][valid], returns[:, task][valid]
        coeffs = torch.linalg.lstsq(x, y.unsqueeze(-1)).solution
        assert torch.allclose(values[:, task][valid], (x @ coeffs).squeeze(-1), atol=1e-6)
        assert (values[:, task][~valid] == 0).all()


def test_a_task_without_a_finite_fit_gets_zero_values_and_leaves_the_others_alone():
    episodes = random_episodes()
    clean = LinearFeatureBaseline().fit_predict(episodes, gamma=0.9)
    episodes.rewards[3, 1, 0] = float("nan")
    values = LinearFeatureBaseline().fit_predict(episodes, gamma=0.9)
    assert (values[:, 1] == 0).all()
    assert torch.equal(values[:, 0], clean[:, 0])
    assert torch.equal(values[:, 2], clean[:, 2])


def test_normalisation_is_per_task_over_valid_steps():
    episodes = random_episodes()
    adv, _ = normalise_per_task(episodes.rewards * 10 + 3, episodes.mask)
    for task in range(episodes.num_tasks):
        valid = adv[:, task][episodes.mask[:, task].bool()]
        assert valid.mean().abs() < 1e-5
        assert valid.std(unbiased=False) == pytest.approx(1.0, abs=1e-4)
