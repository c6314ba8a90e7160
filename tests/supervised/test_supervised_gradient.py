"""The supervised meta-gradient through the adaptation, checked numerically in float64, and
the vmapped meta-batch against a Python loop over its tasks."""

import pytest
import torch
from supervised_support import config_of, single_thread  # noqa: F401

from rlmaml.core.functional import flatten
from rlmaml.supervised.experiment import SupervisedExperiment
from rlmaml.supervised.learner import MetaSettings, SupervisedMetaLearner
from rlmaml.supervised.models import ConvNet
from rlmaml.supervised.problems import accuracy_per_task, cross_entropy_per_task
from rlmaml.supervised.tasks import TaskBatch

pytestmark = pytest.mark.usefixtures("single_thread")


def sinusoid_learner(**overrides) -> tuple[SupervisedMetaLearner, TaskBatch]:
    config = config_of("sinusoid", hidden_sizes=[5], meta_batch_size=3, shots=4, query_shots=4, **overrides)
    experiment = SupervisedExperiment(config)
    experiment.problem.model.double()
    b = experiment.problem.tasks.sample(range(3), seed=0, iteration=0)
    batch = TaskBatch(b.support_inputs, b.support_targets, b.query_inputs, b.query_targets)
    return experiment.learner, TaskBatch(*(t.double() for t in vars(batch).values()))


def image_learner(first_order: bool = False) -> tuple[SupervisedMetaLearner, TaskBatch]:
    """A tiny conv net with every MAML++ option that has parameters: per-step batch-norm
    weights, learned per-layer per-step inner learning rates, the multi-step loss."""
    torch.manual_seed(0)
    model = ConvNet(channels=1, ways=2, filters=2, blocks=2, stages=3).double()
    settings = MetaSettings(
        num_steps=2,
        fast_lr=0.3,
        first_order=first_order,
        meta_lr=1e-3,
        iterations=10,
        multi_step_loss=True,
        multi_step_loss_iterations=10,
        first_order_iterations=0,
        learn_inner_lr=True,
        cosine_lr=False,
        min_meta_lr=0.0,
    )
    learner = SupervisedMetaLearner(model, cross_entropy_per_task, accuracy_per_task, settings)
    generator = torch.Generator().manual_seed(1)
    labels = torch.tensor([[0, 1, 0, 1]] * 3)
    batch = TaskBatch(
        torch.rand(3, 4, 1, 6, 6, generator=generator, dtype=torch.float64),
        labels,
        torch.rand(3, 4, 1, 6, 6, generator=generator, dtype=torch.float64),
        labels,
    )
    return learner, batch


def central_differences(learner: SupervisedMetaLearner, batch: TaskBatch, h: float = 1e-6) -> torch.Tensor:
    values = list(learner.meta_parameters.values())
    grads = []
    for p in values:
        flat = p.data.view(-1)
        for i in range(flat.numel()):
            original = flat[i].item()
            flat[i] = original + h
            plus = learner.meta_objective(batch, iteration=0).loss.item()
            flat[i] = original - h
            minus = learner.meta_objective(batch, iteration=0).loss.item()
            flat[i] = original
            grads.append((plus - minus) / (2 * h))
    return torch.tensor(grads, dtype=torch.float64)


def autograd_meta_gradient(learner: SupervisedMetaLearner, batch: TaskBatch) -> torch.Tensor:
    loss = learner.meta_objective(batch, iteration=0).loss
    return flatten(torch.autograd.grad(loss, list(learner.meta_parameters.values())))


@pytest.mark.parametrize(
    "make", [lambda: sinusoid_learner(num_steps=2, fast_lr=0.05), image_learner], ids=["mlp-2-steps", "convnet-maml++"]
)
def test_second_order_meta_gradient_matches_finite_differences(make):
    learner, batch = make()
    autograd = autograd_meta_gradient(learner, batch)
    numeric = central_differences(learner, batch)
    assert torch.allclose(autograd, numeric, rtol=1e-5, atol=1e-8), (autograd - numeric).abs().max()


def test_first_order_gradient_differs_from_second_order():
    second = autograd_meta_gradient(*image_learner())
    first = autograd_meta_gradient(*image_learner(first_order=True))
    assert (first - second).norm() > 1e-3 * second.norm(), "the check cannot tell first from second order"


def test_vmapped_meta_batch_equals_a_loop_over_tasks():
    learner, batch = image_learner()
    batched = autograd_meta_gradient(learner, batch)
    params = list(learner.meta_parameters.values())
    looped = sum(
        flatten(
            torch.autograd.grad(learner.meta_objective(batch.tasks(slice(t, t + 1)), 0, batched=False).loss, params)
        )
        for t in range(batch.num_tasks)
    )
    assert torch.allclose(batched, looped / batch.num_tasks, rtol=1e-10, atol=1e-12)
