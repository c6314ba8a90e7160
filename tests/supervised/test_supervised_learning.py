"""Short meta-trainings that must learn: sinusoids adapt better with every inner step, and
Omniglot 5-way 1-shot beats chance by a wide margin on characters never trained on."""

import pytest
from supervised_support import OMNIGLOT, config_of, requires_omniglot, single_thread  # noqa: F401

from rlmaml.runs.config_types import ClassificationConfig, SinusoidConfig
from rlmaml.supervised.evaluation import evaluate_held_out
from rlmaml.supervised.experiment import SupervisedExperiment

pytestmark = pytest.mark.usefixtures("single_thread")


def meta_train(config: SinusoidConfig | ClassificationConfig) -> SupervisedExperiment:
    experiment = SupervisedExperiment(config)
    for iteration in range(config.iterations):
        experiment.run_iteration(iteration)
    return experiment


def test_sinusoid_loss_falls_with_inner_steps_on_held_out_tasks():
    experiment = meta_train(config_of("sinusoid", iterations=500))
    mse = [s.mean for s in evaluate_held_out(experiment, num_tasks=200, steps=10, seed=0)]
    assert mse[1] < 0.8 * mse[0], mse
    assert mse[10] < mse[5] < mse[1], mse


@requires_omniglot
def test_omniglot_5_way_1_shot_beats_chance_by_a_wide_margin():
    config = config_of("omniglot-5w1s", data_dir=str(OMNIGLOT), iterations=80, meta_batch_size=8, query_shots=5)
    experiment = meta_train(config)
    accuracy = [s.mean for s in evaluate_held_out(experiment, num_tasks=100, steps=3, seed=0)]
    assert accuracy[0] < 0.3, "before adaptation the labels are a permutation: chance is 20 %"
    assert accuracy[3] > 0.6, accuracy
