"""Meta-World's ML1 and ML10 goals, drawn as `metaworld.ML1(name, seed)` and `metaworld.ML10(seed)`
draw them, and rlmaml tasks of them.

Meta-World makes a family's 50 goals by resetting its env 50 times with NumPy's legacy global
generator seeded beforehand. A reset of SawyerXYZEnv runs its reset_model twice (once itself,
once through MujocoEnv.reset), and each run draws the rand_vec from the family's box (one
`uniform` call, again while the family's reset refuses it); the goal kept is the second
run's. ML1 seeds the generator with `seed` for its train goals and `seed + 1` for its test
goals; ML10 seeds it once with `seed` before its train families, which draw one after the
other in its order, and once again with `seed` before its test families. The same draws from
a RandomState give the same goals, without building Meta-World's envs or touching the global
generator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..protocol import Task
from ..tasks import finite_vector, make_rng
from .families import ML10_TEST, ML10_TRAIN, family_named
from .families.base import TaskFamily

GOALS_PER_SPLIT = 50  # Meta-World's _N_GOALS
SPLITS = ("train", "test")
BOUNDS_SLACK = 1e-9  # a task written out and read back may differ from its draw in the last digit


def family_rand_vecs(family: TaskFamily, draws: np.random.RandomState) -> np.ndarray:
    """The 50 rand_vecs (50, n) Meta-World's 50 resets of the family keep, drawn from `draws`."""
    rows = []
    for _ in range(GOALS_PER_SPLIT):
        family.draw(draws)  # the first of a reset's two runs of reset_model, overwritten by the second
        rows.append(family.draw(draws))
    return np.array(rows)


def ml1_rand_vecs(family: TaskFamily, seed: int) -> np.ndarray:
    """The 50 rand_vecs of ML1's split seeded with `seed`."""
    return family_rand_vecs(family, np.random.RandomState(seed))


def checked_seed(benchmark_seed: int) -> int:
    if isinstance(benchmark_seed, bool) or not isinstance(benchmark_seed, (int, np.integer)):
        raise ValueError(f"benchmark_seed must be an integer, got {benchmark_seed!r}")
    if not 0 <= benchmark_seed < 2**32 - 1:
        raise ValueError(f"benchmark_seed must be in [0, 2**32 - 1), got {benchmark_seed}")
    return int(benchmark_seed)


def checked_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return split


class SplitTasks:
    """The tasks of a benchmark's split: each family's 50 goals, in Meta-World's order. A task
    is {<field>: [x, y, z], ...} of its family's rand_vec fields, with "family" when the split
    has several families (ML10)."""

    def __init__(self, families: Sequence[TaskFamily], rand_vecs: Sequence[np.ndarray]) -> None:
        self.families = list(families)
        self.by_name = {family.name: family for family in self.families}
        self.rand_vecs = list(rand_vecs)
        self.tagged = len(self.families) > 1

    @staticmethod
    def ml1(family: str, split: str = "train", benchmark_seed: int = 0) -> SplitTasks:
        chosen = family_named(family)
        seed = checked_seed(benchmark_seed) + (1 if checked_split(split) == "test" else 0)
        return SplitTasks([chosen], [ml1_rand_vecs(chosen, seed)])

    @staticmethod
    def ml10(split: str = "train", benchmark_seed: int = 0) -> SplitTasks:
        names = ML10_TRAIN if checked_split(split) == "train" else ML10_TEST
        families = [family_named(name) for name in names]
        draws = np.random.RandomState(checked_seed(benchmark_seed))
        return SplitTasks(families, [family_rand_vecs(family, draws) for family in families])

    def __len__(self) -> int:
        return GOALS_PER_SPLIT * len(self.families)

    def sample(self, n: int, seed: int | None = None) -> list[Task]:
        """`n` of the split's tasks, each drawn uniformly (with replacement) from `seed`'s stream."""
        return [self.at(int(i)) for i in make_rng(seed).integers(0, len(self), size=n)]

    def all(self) -> list[Task]:
        """Every task of the split, each family's goals in Meta-World's order, interleaved: goal i of
        every family before goal i + 1 of any (so the first n tasks cover the families evenly)."""
        count = len(self.families)
        return [self.at((i % count) * GOALS_PER_SPLIT + i // count) for i in range(len(self))]

    def at(self, index: int) -> Task:
        """Task `index` counting family by family: goal index % 50 of family index // 50."""
        family = index // GOALS_PER_SPLIT
        return self.task(self.families[family], self.rand_vecs[family][index % GOALS_PER_SPLIT])

    def task(self, family: TaskFamily, rand_vec: np.ndarray) -> Task:
        fields = {field: [float(v) for v in rand_vec[3 * i : 3 * i + 3]] for i, field in enumerate(family.fields)}
        return {"family": family.name, **fields} if self.tagged else fields

    def parse(self, task: Task) -> tuple[TaskFamily, np.ndarray]:
        """A task's family and rand_vec (float64); ValueError naming what is malformed: an unknown
        family, a missing field, a value outside the family's box, or a placement Meta-World refuses."""
        if not isinstance(task, Mapping):
            raise ValueError(f"a Meta-World task is a mapping of its fields, got {task!r}")
        if self.tagged:
            name = task.get("family")
            if name not in self.by_name:
                raise ValueError(f"task field 'family' must be one of {', '.join(self.by_name)}, got {name!r}")
            family = self.by_name[str(name)]
        else:
            family = self.families[0]
        expected = (("family",) if self.tagged else ()) + family.fields
        if set(task) != set(expected):
            quoted = [f"'{field}'" for field in expected]
            raise ValueError(
                f"a {family.name} task has the fields {', '.join(quoted[:-1])} and {quoted[-1]} "
                f"(3 numbers each but 'family'), got {task!r}"
            )
        low, high = np.array(family.low), np.array(family.high)
        parts = []
        for i, field in enumerate(family.fields):
            value = finite_vector({field: task[field]}, field, 3)
            box = slice(3 * i, 3 * i + 3)
            if np.any(value < low[box] - BOUNDS_SLACK) or np.any(value > high[box] + BOUNDS_SLACK):
                raise ValueError(
                    f"task field '{field}' of {family.name} must lie in the box {tuple(low[box])} .. "
                    f"{tuple(high[box])}, got {task[field]!r}"
                )
            parts.append(value)
        rand_vec = np.concatenate(parts)
        if not family.acceptable(rand_vec):
            raise ValueError(
                f"task: {family.name}'s {family.fields[0]} and {family.fields[1]} must be at least "
                f"{family.min_apart} apart in x and y (Meta-World never places them closer), got {task!r}"
            )
        return family, rand_vec
