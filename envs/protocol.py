"""The task protocol: what rlmaml needs of an env beyond Gymnasium's API.

A task is a mapping of field names to numbers or arrays, e.g. {"goal": [0.3, -0.2]} or
{"direction": -1}. Every env of this package, and every wrapper rlmaml puts around one,
implements `TaskEnv` (single env) or `TaskVectorEnv` (batched env), so callers set tasks on
the env they were given, never on `env.unwrapped`. Both protocols are runtime-checkable:
`isinstance(env, TaskEnv)` says whether `env` itself offers the task methods (Gymnasium 1.x
wrappers do not forward attributes, so a plain `gymnasium.make` result does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

# numbers, or a name where an env mixes kinds of task (Meta-World ML10's "family")
TaskValue: TypeAlias = float | str | Sequence[float] | npt.NDArray[np.float64]
Task: TypeAlias = Mapping[str, TaskValue]


@runtime_checkable
class TaskEnv(Protocol):
    """A single env with a task distribution; the task set persists across resets."""

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        """`n` tasks drawn from the env's distribution; the same seed gives the same tasks."""
        ...

    def set_task(self, task: Task) -> None:
        """Make `task` the env's task; ValueError naming the field if it is malformed."""
        ...

    def get_task(self) -> Task: ...


@runtime_checkable
class TaskVectorEnv(Protocol):
    """A batched env with one task per sub-env; each persists across resets."""

    def sample_tasks(self, n: int, seed: int | None = None) -> list[Task]:
        """`n` tasks drawn from the env's distribution; the same seed gives the same tasks."""
        ...

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """Task i for sub-env i; ValueError if there is not one per sub-env or one is malformed."""
        ...

    def get_tasks(self) -> list[Task]: ...
