"""Meta-World's shaping functions, on arrays: one value per sub-env.

Written from the definitions in Meta-World's reward_utils (after dm_control's `tolerance`):
`tolerance(x, (lower, upper), margin)` is 1 inside [lower, upper] and falls off outside as
the long-tail sigmoid 1 / ((d * 3)^2 + 1), d being the distance to the nearer bound in units
of `margin` (so 0.1 at one margin out), or as the Gaussian exp(-(d * s)^2 / 2) of the same
value there where a family asks for it (Meta-World's default); with margin 0 it is 0 outside. The Hamacher product
a * b / (a + b - a * b) is a soft "and" of two values in [0, 1] (0 where both are 0).
"""

from __future__ import annotations

import numpy as np

# 1 / value_at_margin - 1 with Meta-World's value_at_margin 0.1, under the square root
LONG_TAIL_SCALE = np.sqrt(1 / 0.1 - 1)


def tolerance(
    x: np.ndarray,
    lower: float,
    upper: float,
    margin: np.ndarray | float,
    sigmoid: str = "long_tail",
    value_at_margin: float = 0.1,
) -> np.ndarray:
    """The tolerance of each x ("long_tail" or "gaussian" fall-off); margin per element or shared, never negative."""
    x = np.asarray(x, dtype=np.float64)
    margin = np.broadcast_to(np.asarray(margin, dtype=np.float64), x.shape)
    inside = (lower <= x) & (x <= upper)
    outside_by = np.where(x < lower, lower - x, x - upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = outside_by / margin
        if sigmoid == "long_tail":
            scale = LONG_TAIL_SCALE if value_at_margin == 0.1 else np.sqrt(1 / value_at_margin - 1)
            falloff = 1 / ((d * scale) ** 2 + 1)
        elif sigmoid == "gaussian":
            falloff = np.exp(-0.5 * (d * np.sqrt(-2 * np.log(value_at_margin))) ** 2)
        else:
            raise ValueError(f"sigmoid must be 'long_tail' or 'gaussian', got {sigmoid!r}")
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
