"""Estimators compared where no exact meta-gradient is known (a tabular MDP after a sampled
inner step): each one's per-batch variance, and the cosine of its mean to a reference, the mean
of dice (unbiased) over many more batches drawn independently of the compared ones.

The reference has its own standard error: a cosine below 1 mixes the estimator's bias with the
reference's noise and its own; compare estimators at the same batch counts, against the same
reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch
from torch import nn

from rlmaml.envs.protocol import Task
from rlmaml.rl.gradcheck import GradientCheck, check_gradient
from rlmaml.runs.config_types import RLConfig

EstimatorName = Literal["maml", "dice", "lvc"]
REFERENCE_ESTIMATOR: EstimatorName = "dice"
REFERENCE_SEED_OFFSET = 1  # the reference's batches are those of seed + 1: independent of the compared ones


def flat_mean(check: GradientCheck) -> torch.Tensor:
    return torch.tensor([m for p in check.parameters for m in p.mean], dtype=torch.float64)


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    value = float(torch.nn.functional.cosine_similarity(a, b, dim=0))
    return value if math.isfinite(value) else math.nan


@dataclass(frozen=True)
class Comparison:
    """The compared estimators' checks and the reference they are measured against."""

    reference: GradientCheck
    checks: list[GradientCheck]

    def cosine_to_reference(self, check: GradientCheck) -> float:
        return cosine(flat_mean(check), flat_mean(self.reference))

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": {"estimator": self.reference.estimator, "batches": self.reference.batches},
            "estimators": [
                {**check.to_json(), "cosine_to_reference": self.cosine_to_reference(check)} for check in self.checks
            ],
        }


def compare_estimators(
    config: RLConfig,
    policy: nn.Module,
    estimators: Sequence[EstimatorName],
    batches: int,
    reference_batches: int,
    seed: int,
    task: Task | None = None,
) -> Comparison:
    """`batches` estimates of each estimator at `policy`'s parameters (seeded by `seed`), and the
    dice reference over `reference_batches` batches of seed + REFERENCE_SEED_OFFSET."""
    reference_config = replace(config, estimator=REFERENCE_ESTIMATOR)
    reference = check_gradient(reference_config, policy, reference_batches, seed + REFERENCE_SEED_OFFSET, task)
    checks = [check_gradient(replace(config, estimator=e), policy, batches, seed, task) for e in estimators]
    return Comparison(reference, checks)
