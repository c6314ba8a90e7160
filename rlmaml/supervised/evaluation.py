"""Held-out tasks: the score (MSE or accuracy) after each inner step, with a 95 % CI over tasks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rlmaml.core.seeding import EVALUATION_ITERATION
from rlmaml.core.statistics import StepStatistic, mean_and_ci95
from rlmaml.supervised.experiment import SupervisedExperiment


@dataclass
class HeldOutStatistic(StepStatistic):
    """The mean with its CI, and the median and count of non-finite scores: a few tasks on
    which many plain inner steps diverge can dominate the mean, not the median."""

    median: float
    diverged: int

    @classmethod
    def of(cls, step: int, scores: np.ndarray) -> HeldOutStatistic:
        """Only an MSE can be non-finite; a NaN one (inf - inf) ranks with the infinite ones."""
        finite = np.isfinite(scores)
        median = float(np.median(np.where(finite, scores, np.inf)))
        return cls(step, *mean_and_ci95(scores), median, int((~finite).sum()))


def evaluate_held_out(
    experiment: SupervisedExperiment, num_tasks: int, steps: int, seed: int, split: str = "test"
) -> list[HeldOutStatistic]:
    """Adapt to `num_tasks` tasks of `split` (for classification, classes never seen in
    meta-training), a meta-batch at a time. The model is in eval mode, so batch norm in
    `running` mode uses its recorded statistics."""
    model = experiment.problem.model
    was_training = model.training
    model.eval()
    chunk = experiment.config.meta_batch_size
    scores: list[list[torch.Tensor]] = [[] for _ in range(steps + 1)]
    try:
        for start in range(0, num_tasks, chunk):
            indices = range(start, min(start + chunk, num_tasks))
            batch = experiment.problem.tasks.sample(indices, seed, EVALUATION_ITERATION, split)
            for step, per_task in enumerate(experiment.learner.evaluate(batch, steps)):
                scores[step].append(per_task)
    finally:
        model.train(was_training)
    return [HeldOutStatistic.of(step, torch.cat(s).numpy()) for step, s in enumerate(scores)]
