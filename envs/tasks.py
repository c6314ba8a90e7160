"""Helpers shared by every task distribution: seeding, validation of task dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Task = dict[str, Any]


def make_rng(seed: int | Sequence[int] | None) -> np.random.Generator:
    """A generator from an int, a sequence of ints (e.g. run seed, iteration, task) or None."""
    return np.random.default_rng(seed)


def finite_vector(task: Task, field: str, size: int) -> np.ndarray:
    """`task[field]` as a float64 array of `size` finite numbers, else ValueError naming it."""
    if not isinstance(task, dict) or field not in task:
        raise ValueError(f"task must be a dict with the field '{field}', got {task!r}")
    try:
        value = np.asarray(task[field], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"task field '{field}' must be {size} numbers, got {task[field]!r}") from None
    if value.size != size or not np.all(np.isfinite(value)):
        raise ValueError(f"task field '{field}' must be {size} finite numbers, got {task[field]!r}")
    return value


def finite_scalar(task: Task, field: str) -> float:
    """`task[field]` as one finite float, else ValueError naming the field."""
    return float(finite_vector(task, field, size=1)[0])


def check_task_count(tasks: Sequence[Task], num_envs: int) -> None:
    if len(tasks) != num_envs:
        raise ValueError(f"set_tasks needs one task per sub-env: got {len(tasks)} tasks for {num_envs} envs")
