"""The meta-gradient estimators against known answers: on the Gaussian and the Bernoulli
bandits, whose exact meta-gradients and whose estimators' expectations have closed forms or
finite sums (rlmaml.rl.exact), DiCE is unbiased, while the paper's estimator and LVC are off
by exactly what theory says. Each check can fail both ways: an estimator must match its own
expectation and, where biased, stay measurably away from the exact value."""

from dataclasses import replace
from functools import partial

import numpy as np
import pytest
import torch
from conftest import rl_config

from rlmaml.core.functional import detach, parameters_of
from rlmaml.core.seeding import seed_keys
from rlmaml.rl.exact.bernoulli_bandit import BernoulliBandit
from rlmaml.rl.exact.bernoulli_bandit import estimator_expectation as bernoulli_expectation
from rlmaml.rl.exact.gaussian_bandit import GaussianBandit, estimator_expectation, exact_meta_gradient
from rlmaml.rl.experiment import settings_from
from rlmaml.rl.gradcheck import check_gradient
from rlmaml.rl.metalearner import MetaLearner
from rlmaml.rl.policy_io import build_policy
from rlmaml.rl.sampler import BatchSampler

BATCHES = 1500  # of 20 tasks x 10 episodes: a standard error of about 0.01 on dJ/dmean


def bandit_config(learn_std: bool):
    return rl_config("gaussian-bandit", f"learn_std={str(learn_std).lower()}")


def expected(config, goal, estimator: str) -> dict[str, float]:
    bandit = GaussianBandit(0.3, config.init_log_std, config.learn_std, config.fast_lr, config.fast_batch_size)
    return exact_meta_gradient(bandit, goal) if estimator == "exact" else estimator_expectation(bandit, goal, estimator)


def estimates(config, estimator: str, task=None):
    config = replace(config, estimator=estimator)
    result = check_gradient(config, build_policy(config), BATCHES, seed=3, task=task)
    return {p.name: (p.mean[0], p.stderr[0], p.exact[0]) for p in result.parameters}


@pytest.mark.parametrize("learn_std", [False, True])
@pytest.mark.parametrize("task", [{"goal": 1.0}, None])
def test_dice_is_unbiased_and_maml_and_lvc_have_their_closed_form_bias(learn_std, task):
    config = bandit_config(learn_std)
    goal = (-1.0, 1.0) if task is None else 1.0
    exact = expected(config, goal, "exact")
    for estimator in ("dice", "maml", "lvc"):
        own = expected(config, goal, estimator)
        for name, (mean, stderr, reported_exact) in estimates(config, estimator, task).items():
            assert reported_exact == pytest.approx(exact[name], rel=1e-6)  # at the float32 parameters
            assert abs(mean - own[name]) < 4 * stderr, (estimator, name, mean, own[name], stderr)
            if task and name == "mean" and estimator != "dice":  # at g = 1 the biased ones are far from exact
                assert abs(own[name] - exact[name]) > 6 * stderr, (estimator, own[name], exact[name], stderr)


def test_the_paper_estimator_overshoots_the_exact_gradient_by_45_percent():
    """The issue's numbers: mu 0.3, sigma 0.7 fixed, g 1, fast_lr 0.1, 10 episodes."""
    config = bandit_config(learn_std=False)
    assert expected(config, 1.0, "exact")["mean"] == pytest.approx(0.9184, abs=1e-4)
    assert expected(config, 1.0, "maml")["mean"] == pytest.approx(1.3272, abs=1e-4)


def adapted_parameters(estimator: str) -> list[dict[str, torch.Tensor]]:
    """Two inner steps on three navigation tasks, as meta-training takes them with `estimator`."""
    config = rl_config("navigation2d", "meta_batch_size=3", "fast_batch_size=4", "horizon=10", "num_steps=2")
    config = replace(config, estimator=estimator, normalize_advantages=False)
    policy = build_policy(config)
    learner = MetaLearner(policy, BatchSampler.from_config(config), settings_from(config))
    tasks = learner.sample_tasks(0, 0, range(3))
    keys = partial(seed_keys, 0, 0, range(3))
    adaptation = learner.adapter.adapt(parameters_of(policy), tasks, keys, [0.1, 0.1], first_order=False)
    return [detach(step) for step in adaptation.trajectory]


def test_every_estimator_adapts_as_the_paper_does_at_the_sampling_parameters():
    """LVC's likelihood ratio is 1 at the parameters that sampled the episodes and DiCE changes
    only the outer loss: the same inner steps, bit for bit."""
    maml = adapted_parameters("maml")
    for estimator in ("lvc", "dice"):
        for ours, paper in zip(adapted_parameters(estimator), maml, strict=True):
            assert all(torch.equal(ours[n], paper[n]) for n in paper), estimator


ONE_GOOD_ARM = {"probabilities": [0.05, 0.95, 0.05, 0.05, 0.05]}
BERNOULLI_BATCHES = 500  # of 20 tasks x 10 pulls: 5 s each


def bernoulli_estimates(estimator: str, task, logits):
    """check_gradient on the Bernoulli bandit at fast_lr 10, where even LVC's bias is clear."""
    config = rl_config("bernoulli-bandit", "fast_lr=10.0", f"estimator={estimator}")
    policy = build_policy(config)
    with torch.no_grad():
        policy.logits.copy_(torch.tensor(logits))
    result = check_gradient(config, policy, BERNOULLI_BATCHES, seed=5, task=task)
    (p,) = result.parameters
    bandit = BernoulliBandit(tuple(policy.logits.tolist()), config.fast_lr, config.fast_batch_size)
    probabilities = task["probabilities"] if task else None
    own = bernoulli_expectation(bandit, probabilities, estimator)
    return np.array(p.mean), np.array(p.stderr), np.array(p.exact), np.array(own)


@pytest.mark.parametrize("estimator", ["dice", "maml", "lvc"])
@pytest.mark.parametrize(("task", "logits"), [(ONE_GOOD_ARM, [0.0] * 5), (None, [0.4, -0.3, 0.0, 0.8, -0.6])])
def test_on_the_bernoulli_bandit_dice_is_unbiased_and_maml_and_lvc_have_their_closed_form_bias(estimator, task, logits):
    mean, stderr, exact, own = bernoulli_estimates(estimator, task, logits)
    assert (np.abs(mean - own) < 4 * stderr).all(), (estimator, mean, own, stderr)
    if estimator == "dice":
        assert own == pytest.approx(exact, abs=1e-12)
    elif task:  # with one good arm, both biased estimators stay measurably away from the exact value
        assert (np.abs(own - exact) > 6 * stderr).any(), (estimator, own, exact, stderr)
