"""Meta-World's ML1 goals, drawn as `metaworld.ML1(name, seed)` draws them, and rlmaml tasks of them.

ML1 seeds NumPy's legacy global generator with `seed` for its 50 train goals and with
`seed + 1` for its 50 test goals, then resets the env 50 times. A reset of SawyerXYZEnv runs
its reset_model twice (once itself, once through MujocoEnv.reset), and each run draws the
object and the goal uniformly from the family's boxes (one `uniform` call for the six
numbers) until they lie at least 0.15 apart in x and y; the goal kept is the second run's.
The same draws from a RandomState of that seed give the same goals, without building
Meta-World's envs or touching the global generator.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..protocol import Task
from ..tasks import finite_vector, make_rng
from .families import MIN_OBJECT_TO_GOAL, Family

GOALS_PER_SPLIT = 50  # Meta-World's _N_GOALS
SPLITS = ("train", "test")
BOUNDS_SLACK = 1e-9  # a task written out and read back may differ from its draw in the last digit


def ml1_rand_vecs(family: Family, seed: int) -> np.ndarray:
    """The 50 (object, goal) rows, (50, 6), of ML1's split seeded with `seed`."""
    draws = np.random.RandomState(seed)
    low = np.hstack((family.object_low, family.goal_low))
    high = np.hstack((family.object_high, family.goal_high))

    def placed_apart() -> np.ndarray:
        row = draws.uniform(low, high, size=low.size)
        while np.linalg.norm(row[:2] - row[3:5]) < MIN_OBJECT_TO_GOAL:
            row = draws.uniform(low, high, size=low.size)
        return row

    rows = []
    for _ in range(GOALS_PER_SPLIT):
        placed_apart()  # the first of a reset's two runs of reset_model, overwritten by the second
        rows.append(placed_apart())
    return np.array(rows)


def split_seed(split: str, benchmark_seed: int) -> int:
    """The seed ML1 gives a split; ValueError for an unknown split or a seed NumPy refuses."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if isinstance(benchmark_seed, bool) or not isinstance(benchmark_seed, (int, np.integer)):
        raise ValueError(f"benchmark_seed must be an integer, got {benchmark_seed!r}")
    if not 0 <= benchmark_seed < 2**32 - 1:
        raise ValueError(f"benchmark_seed must be in [0, 2**32 - 1), got {benchmark_seed}")
    return int(benchmark_seed) + (1 if split == "test" else 0)


class ML1Tasks:
    """A family's ML1 split as rlmaml tasks {"object": [x, y, z], "goal": [x, y, z]}."""

    def __init__(self, family: Family, split: str = "train", benchmark_seed: int = 0) -> None:
        self.family = family
        self.split = split
        self.rand_vecs = ml1_rand_vecs(family, split_seed(split, benchmark_seed))

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        """`n` of the split's 50 goals, each drawn uniformly (with replacement) from `seed`'s stream."""
        picks = make_rng(seed).integers(0, GOALS_PER_SPLIT, size=n)
        return [self.task(self.rand_vecs[i]) for i in picks]

    def all(self) -> list[Task]:
        """The split's 50 goals as tasks, in Meta-World's order."""
        return [self.task(v) for v in self.rand_vecs]

    @staticmethod
    def task(rand_vec: np.ndarray) -> Task:
        return {"object": [float(v) for v in rand_vec[:3]], "goal": [float(v) for v in rand_vec[3:]]}

    def parse(self, task: Task) -> np.ndarray:
        """A task's (object, goal) as six float64 numbers; ValueError naming the field if one is
        malformed or outside the family's box, or if object and goal are closer than Meta-World places them."""
        if not isinstance(task, Mapping) or set(task) != {"object", "goal"}:
            raise ValueError(
                f"a {self.family.name} task has the fields 'object' and 'goal' (3 numbers each), got {task!r}"
            )
        family = self.family
        parts = []
        for field, low, high in (
            ("object", family.object_low, family.object_high),
            ("goal", family.goal_low, family.goal_high),
        ):
            value = finite_vector({field: task[field]}, field, 3)
            if np.any(value < np.array(low) - BOUNDS_SLACK) or np.any(value > np.array(high) + BOUNDS_SLACK):
                raise ValueError(
                    f"task field '{field}' of {family.name} must lie in the box {low} .. {high}, got {task[field]!r}"
                )
            parts.append(value)
        if np.linalg.norm(parts[0][:2] - parts[1][:2]) < MIN_OBJECT_TO_GOAL:
            raise ValueError(
                f"task: {family.name}'s object and goal must be at least {MIN_OBJECT_TO_GOAL} apart in x and y "
                f"(Meta-World never places them closer), got {task!r}"
            )
        return np.concatenate(parts)
