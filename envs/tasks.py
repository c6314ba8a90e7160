"""Helpers shared by every task distribution: seeding, validation of task dicts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from .protocol import Task

Parsed = TypeVar("Parsed")

# What set_task accepts of a family sampled from [low, high]: that range widened by PROBE_WIDTHS
# times its width either side. The MAML paper's code took any number, and a task a little outside
# the training range is a fair probe of generalisation; a task a hundred widths away is a typo,
# and 1e300 turns the rewards into inf and NaN. Sampling bounds are at most MAX_MAGNITUDE in size:
# no goal of these envs is a thousand kilometres away, nor any velocity a thousand km/s.
PROBE_WIDTHS = 10
MAX_MAGNITUDE = 1e6


def make_rng(seed: int | Sequence[int] | None) -> np.random.Generator:
    """A generator from an int, a sequence of ints (e.g. run seed, iteration, task) or None."""
    return np.random.default_rng(seed)


def finite_vector(task: Task, field: str, size: int) -> np.ndarray:
    """`task[field]` as a float64 array of `size` finite numbers, else ValueError naming it."""
    if not isinstance(task, Mapping) or field not in task:
        raise ValueError(f"task must be a dict with the field '{field}', got {task!r}")
    try:
        value = np.asarray(task[field], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"task field '{field}' must be {size} numbers, got {task[field]!r}") from None
    if value.size != size or not np.all(np.isfinite(value)):
        expected = "a finite number" if size == 1 else f"{size} finite numbers"
        raise ValueError(f"task field '{field}' must be {expected}, got {task[field]!r}")
    unknown = [str(key) for key in task if key != field]
    if unknown:
        raise ValueError(f"task field '{unknown[0]}' is not one of this env's: its tasks have only '{field}'")
    return value


def sampling_range(low_name: str, low: float, high_name: str, high: float) -> tuple[float, float]:
    """A family's sampling bounds as floats: finite, ordered and at most MAX_MAGNITUDE in size,
    else ValueError naming them."""
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"{low_name} and {high_name} must be finite with {low_name} < {high_name}, got {low}, {high}")
    if max(abs(low), abs(high)) > MAX_MAGNITUDE:
        raise ValueError(f"{low_name} and {high_name} must lie within +-{MAX_MAGNITUDE:g}, got {low:g}, {high:g}")
    return low, high


def vector_in_range(task: Task, field: str, size: int, low: float, high: float) -> np.ndarray:
    """`finite_vector`, each number within [low, high] widened by PROBE_WIDTHS widths either side."""
    value = finite_vector(task, field, size)
    margin = PROBE_WIDTHS * (high - low)
    if np.any(value < low - margin) or np.any(value > high + margin):
        raise ValueError(
            f"task field '{field}' must lie within [{low - margin:g}, {high + margin:g}] (the sampling range "
            f"[{low:g}, {high:g}] and {PROBE_WIDTHS} times its width either side), got {task[field]!r}"
        )
    return value


def finite_scalar(task: Task, field: str) -> float:
    """`task[field]` as one finite float, else ValueError naming the field."""
    return float(finite_vector(task, field, size=1)[0])


def check_task_count(tasks: Sequence[Task], num_envs: int) -> None:
    if len(tasks) != num_envs:
        raise ValueError(f"set_tasks needs one task per sub-env: got {len(tasks)} tasks for {num_envs} envs")


def parsed_tasks(tasks: Sequence[Task], num_envs: int, parse: Callable[[Task], Parsed]) -> list[Parsed]:
    """`parse` of each sub-env's task, in order. A task given for several sub-envs (rlmaml's
    sampler gives each once per episode) is parsed once: gradient checks set hundreds of thousands."""
    check_task_count(tasks, num_envs)
    distinct = {id(t): t for t in tasks}
    parsed = {key: parse(t) for key, t in distinct.items()}
    return [parsed[id(t)] for t in tasks]
