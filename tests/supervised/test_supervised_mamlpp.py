"""MAML++'s schedules, learned step sizes and batch-norm modes."""

import math

import pytest
import torch

from rlmaml.supervised.mamlpp import (
    InnerLearningRates,
    cosine_learning_rate,
    is_first_order,
    multi_step_loss_weights,
    uses_multi_step_loss,
)
from rlmaml.supervised.models import ConvNet


def test_multi_step_loss_weights_anneal_from_uniform_to_the_final_step():
    assert multi_step_loss_weights(5, 0, 100) == pytest.approx([0.2] * 5)
    middle = multi_step_loss_weights(5, 50, 100)
    assert middle[0] == pytest.approx(0.1)
    assert middle[-1] == pytest.approx(0.6)
    assert sum(middle) == pytest.approx(1)
    end = multi_step_loss_weights(5, 100, 100)
    assert end[:-1] == pytest.approx([0.006] * 4)
    assert end[-1] == pytest.approx(1 - 4 * 0.006)
    assert uses_multi_step_loss(True, 99, 100)
    assert not uses_multi_step_loss(True, 100, 100)
    assert not uses_multi_step_loss(False, 0, 100)


def test_derivative_order_annealing_and_cosine_learning_rate():
    assert [is_first_order(False, 3, i) for i in range(5)] == [True, True, True, False, False]
    assert is_first_order(True, 0, 10)
    assert cosine_learning_rate(1e-3, 1e-5, 0, 100) == pytest.approx(1e-3)
    assert cosine_learning_rate(1e-3, 1e-5, 50, 100) == pytest.approx((1e-3 + 1e-5) / 2)
    assert cosine_learning_rate(1e-3, 1e-5, 100, 100) == pytest.approx(1e-5)


def test_learned_rates_are_per_parameter_and_step_and_reuse_the_last_beyond_training():
    rates = InnerLearningRates(["a", "b"], steps=2, initial=0.1)
    with torch.no_grad():
        rates.rates.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    schedule = rates.schedule(3)
    assert [{k: v.item() for k, v in step.items()} for step in schedule] == [
        {"a": 1.0, "b": 3.0},
        {"a": 2.0, "b": 4.0},
        {"a": 2.0, "b": 4.0},
    ]


def test_running_batch_norm_records_per_stage_statistics_and_uses_them_in_eval_mode():
    torch.manual_seed(0)
    model = ConvNet(channels=1, ways=2, filters=3, blocks=1, stages=2, running=True)
    x = torch.randn(8, 1, 6, 6) * 2 + 5
    _, stats = model(x, stage=1, return_stats=True)
    assert model.records_statistics
    model.record_statistics(1, stats)
    norm = model.norms[0]
    assert torch.allclose(norm.running_mean[1], 0.1 * stats[0, 0])
    assert torch.all(norm.running_mean[0] == 0)
    model.eval()
    assert not model.records_statistics
    one = x[:1]
    # in eval mode an image's output no longer depends on the rest of the batch
    assert torch.allclose(model(one, stage=1), model(x, stage=1)[:1], atol=1e-6)
    transductive = ConvNet(channels=1, ways=2, filters=3, blocks=1, stages=2).eval()
    assert not torch.allclose(transductive(one, 1), transductive(x, 1)[:1], atol=1e-3)


def test_per_step_batch_norm_weights_are_chosen_by_stage():
    model = ConvNet(channels=1, ways=2, filters=3, blocks=1, stages=2)
    with torch.no_grad():
        model.norms[0].bias[1].fill_(math.pi)
    x = torch.randn(4, 1, 6, 6)
    assert not torch.allclose(model(x, stage=0), model(x, stage=1))
    assert torch.allclose(model(x, stage=1), model(x, stage=7))  # later stages reuse the last
