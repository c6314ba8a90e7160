"""Counter-based random streams, one per (sub-)env, for envs whose steps draw randomness.

A batched env may be reset with a seed per sub-env a hundred thousand times a second:
numpy Generators cost about 11 us each to build, so each sub-env's stream is instead
SplitMix64 at (mixed key, position), computed for all sub-envs in one vectorised call. A
sub-env's draws depend on its own key and steps only, so a batched env matches as many
single envs step for step, however the sub-envs are split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
DRAWS_PER_STEP = 8  # positions a step may use; a step's j-th draw is at position step * 8 + j


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64s (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = z ^ (z >> np.uint64(31))
    return mixed


class Streams:
    """`count` independent streams of uniforms; reseeding one restarts it."""

    def __init__(self, count: int, entropy: np.random.Generator) -> None:
        self.keys = mix(entropy.integers(0, 2**63, size=count, dtype=np.uint64))
        self.steps = np.zeros(count, dtype=np.uint64)

    def seed(self, seeds: Sequence[int] | np.ndarray, where: np.ndarray | None = None) -> None:
        """Restart the streams at `where` (default all) with the given seeds, one per stream."""
        where = np.ones(len(self.keys), dtype=bool) if where is None else where
        keys = mix(np.asarray(seeds, dtype=np.int64).astype(np.uint64) + GOLDEN)
        self.keys[where] = keys[where]
        self.steps[where] = 0

    def uniforms(self, draws: int, active: np.ndarray | None = None) -> np.ndarray:
        """[count, draws] uniforms in (0, 1) for this step; the `active` streams (default all)
        move on to their next step, the others draw the same numbers again next time."""
        assert draws <= DRAWS_PER_STEP
        positions = self.steps[:, None] * np.uint64(DRAWS_PER_STEP) + np.arange(draws, dtype=np.uint64)
        z = mix(self.keys[:, None] + (positions + np.uint64(1)) * GOLDEN)
        self.steps += np.uint64(1) if active is None else active.astype(np.uint64)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def standard_normals(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Standard normals from two arrays of uniforms in (0, 1) (Box-Muller)."""
    normals: np.ndarray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normals


def reseed(streams: Streams, seed: int | Sequence[int] | None, where: np.ndarray) -> None:
    """A batched env's reset seeds: an int seeds sub-env i with seed + i (as Gymnasium's
    vector envs do), a sequence gives one per sub-env, None keeps the streams going."""
    if seed is None:
        return
    count = len(streams.keys)
    seeds = np.arange(count) + seed if isinstance(seed, int) else np.asarray(seed)
    if seeds.shape != (count,):
        raise ValueError(f"reset needs one seed per sub-env: got {len(seeds)} seeds for {count} envs")
    streams.seed(seeds, where)
