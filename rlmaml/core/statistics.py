"""What both modes report after adaptation: a mean per inner step with its 95 % CI."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class StepStatistic:
    """Return, MSE or accuracy after `step` adaptation steps: mean and 95 % CI half-width."""

    step: int
    mean: float
    ci95: float


def mean_and_ci95(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its normal-approximation 95 % confidence interval."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float(values.mean()), float("nan")  # written as null in JSON
    with np.errstate(invalid="ignore", over="ignore"):  # an infinite value gives inf or nan, said as such
        return float(values.mean()), float(1.96 * values.std(ddof=1) / math.sqrt(values.size))


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: a value that is not finite is written as null."""
    return value if math.isfinite(value) else None
