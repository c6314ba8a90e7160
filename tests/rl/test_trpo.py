"""TRPO pieces, and the meta-update's trust region on real MAML iterations."""

import math
from dataclasses import fields

import pytest
import torch

from rlmaml.core.functional import detach
from rlmaml.rl.advantages import AdvantageSettings
from rlmaml.rl.metalearner import MAMLSettings, MetaLearner
from rlmaml.rl.objectives import OldPolicy, surrogate_and_kl
from rlmaml.rl.outer_trpo import TRPOSettings
from rlmaml.rl.policies import GaussianMLPPolicy
from rlmaml.rl.sampler import BatchSampler
from rlmaml.rl.trpo import backtracking_line_search, conjugate_gradient, trust_region_step
from rlmaml.runs.distributed import Shard


def test_conjugate_gradient_solves_a_positive_definite_system():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(12, 12, generator=gen, dtype=torch.float64)
    matrix = a @ a.T + 0.5 * torch.eye(12, dtype=torch.float64)
    b = torch.randn(12, generator=gen, dtype=torch.float64)
    x = conjugate_gradient(lambda v: matrix @ v, b, iters=40, residual_tol=1e-20)
    assert torch.allclose(matrix @ x, b, atol=1e-8)


def test_trust_region_step_has_the_requested_quadratic_kl():
    matrix = torch.diag(torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64))
    step = trust_region_step(
        torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64), matrix @ torch.ones(3, dtype=torch.float64), 0.01
    )
    assert 0.5 * step @ matrix @ step == pytest.approx(0.01)


def test_line_search_accepts_only_improvement_within_the_trust_region():
    calls = []

    def evaluate(fraction):
        calls.append(fraction)
        return {1.0: (float("nan"), 0.0), 0.5: (-1.0, 0.5), 0.25: (0.5, 0.001), 0.125: (-0.2, 0.004)}[fraction]

    result = backtracking_line_search(evaluate, old_loss=0.0, max_kl=0.01, max_steps=10, backtrack_ratio=0.5)
    assert result.accepted
    assert result.fraction == 0.125
    assert result.steps == 4
    assert calls == [1.0, 0.5, 0.25, 0.125]


def test_line_search_keeps_the_old_parameters_when_nothing_is_accepted():
    result = backtracking_line_search(lambda f: (1.0, 0.0), old_loss=0.0, max_kl=0.01, max_steps=3, backtrack_ratio=0.5)
    assert not result.accepted
    assert result.fraction == 0.0
    assert result.steps == 3


def test_every_accepted_meta_update_respects_max_kl_and_lowers_the_surrogate():
    """The KL and the surrogate are measured again here, after the update, on the
    post-adaptation episodes: not taken from the line search's own bookkeeping."""
    torch.manual_seed(0)
    model = GaussianMLPPolicy(2, 2, (16, 16), "tanh")
    learner = MetaLearner(
        model, BatchSampler("rlmaml/Navigation2D-v0", {}, 5, 30), MAMLSettings(outer=TRPOSettings(max_kl=0.005))
    )
    accepted = 0
    for iteration in range(4):
        tasks = learner.sample_tasks(0, iteration, range(4))
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        result = learner.step(tasks, 0, iteration, Shard.whole(4))
        adaptation, update = result.adaptation, result.update
        post = adaptation.post_episodes
        old = OldPolicy.of(model, detach(adaptation.trajectory[-1]), post)
        after = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
        with torch.enable_grad():
            adapted = learner.adapter.replay(after, adaptation, first_order=True)[-1]
        loss, kl = (value.mean() for value in surrogate_and_kl(model, detach(adapted), post, old))
        changed = any(not torch.equal(before[n], after[n]) for n in before)
        assert changed == update.accepted
        statistics = [result.env_steps, result.return_before, result.return_after, result.time_meta_update]
        assert all(math.isfinite(v) for v in [*statistics, update.surrogate_before, update.surrogate_after, update.kl])
        if changed:
            accepted += 1
            assert 0.0 < kl.item() <= 0.005
            assert loss.item() < update.surrogate_before
    assert accepted > 0


def test_the_settings_are_the_config_keys_of_their_names():
    """Each field of MAMLSettings and TRPOSettings is set from the config key of its name."""
    from conftest import rl_config

    from rlmaml.rl.experiment import settings_from

    changed = {"num_steps": 3, "fast_lr": 0.2, "first_order": True, "estimator": "dice"}
    changed |= {"max_kl": 0.02, "cg_iters": 7, "cg_damping": 1e-3, "ls_max_steps": 9, "ls_backtrack_ratio": 0.5}
    changed |= {"cg_subsample": 0.25, "closed_form_curvature": False}
    advantages = {"gamma": 0.9, "gae_lambda": 0.95, "baseline": "none", "normalize_advantages": False}
    settings = settings_from(rl_config(**changed, **advantages))
    inner = {f.name: getattr(settings, f.name) for f in fields(MAMLSettings) if f.name not in ("outer", "advantages")}
    outer = {f.name: getattr(settings.outer, f.name) for f in fields(TRPOSettings)}
    assert {**inner, **outer} == changed
    assert settings.advantages == AdvantageSettings(0.9, 0.95, baseline=False, gae=True, normalize=False)
    assert all(value != getattr(rl_config(), name) for name, value in (changed | advantages).items())
