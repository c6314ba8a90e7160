"""Meta-World's shaping functions, on arrays: one value per sub-env.

Written from the definitions in Meta-World's reward_utils (after dm_control's `tolerance`):
`tolerance(x, (lower, upper), margin)` is 1 inside [lower, upper] and falls off outside as
the long-tail sigmoid 1 / ((d * 3)^2 + 1), d being the distance to the nearer bound in units
of `margin` (so 0.1 at one margin out); with margin 0 it is 0 outside. The Hamacher product
a * b / (a + b - a * b) is a soft "and" of two values in [0, 1] (0 where both are 0).
"""

from __future__ import annotations

import numpy as np

# 1 / value_at_margin - 1 with Meta-World's value_at_margin 0.1, under the square root
LONG_TAIL_SCALE = np.sqrt(1 / 0.1 - 1)


def tolerance(x: np.ndarray, lower: float, upper: float, margin: np.ndarray | float) -> np.ndarray:
    """The long-tail tolerance of each x; margin per element or shared, never negative."""
    x = np.asarray(x, dtype=np.float64)
    margin = np.broadcast_to(np.asarray(margin, dtype=np.float64), x.shape)
    inside = (lower <= x) & (x <= upper)
    outside_by = np.where(x < lower, lower - x, x - upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = outside_by / margin
        falloff = 1 / ((d * LONG_TAIL_SCALE) ** 2 + 1)
    return np.where(inside, 1.0, np.where(margin == 0, 0.0, falloff))


def hamacher_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b / (a + b - a * b), 0 where the denominator is 0."""
    denominator = a + b - a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        product = (a * b) / denominator
    return np.where(denominator > 0, product, 0.0)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row pair (N, k) (rows of one may be shared, (k,))."""
    difference = np.asarray(a) - np.asarray(b)
    lengths: np.ndarray = np.sqrt(np.sum(difference * difference, axis=-1))
    return lengths
