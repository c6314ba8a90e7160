"""Meta-World's own envs, to check rlmaml's families against and to time them side by side.

metaworld 3.1.1 writes 11 numbers into its mocap weld, which MuJoCo 3.17 and later gave 12,
so its envs fail to build under rlmaml's MuJoCo: `import_metaworld` patches its
reset_mocap_welds to write the first 11 (the twelfth keeps its compiled value), as rlmaml's
own loader does. Nothing else of Meta-World is changed.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .installed import write_mocap_welds


def import_metaworld() -> Any:
    """metaworld with its weld patched; ImportError if it (or what it imports) is missing."""
    sawyer_env = importlib.import_module("metaworld.sawyer_xyz_env")
    metaworld = importlib.import_module("metaworld")

    def reset_mocap_welds(self: Any) -> None:
        write_mocap_welds(self.model)

    sawyer_env.SawyerMocapBase.reset_mocap_welds = reset_mocap_welds
    return metaworld


def ml1(family: str, seed: int) -> Any:
    """Meta-World's ML1 benchmark of the family, as `metaworld.ML1(family + "-v3", seed)`."""
    return import_metaworld().ML1(f"{family}-v3", seed=seed)


def ml10(seed: int) -> Any:
    """Meta-World's ML10 benchmark, as `metaworld.ML10(seed)`."""
    return import_metaworld().ML10(seed=seed)


def env_class(benchmark: Any, family: str) -> Any:
    """The benchmark's env class of the family, from its train or its test classes."""
    return {**benchmark.train_classes, **benchmark.test_classes}[f"{family}-v3"]


def rand_vecs(benchmark: Any, family: str, tasks: list[Any]) -> np.ndarray:
    """The rand_vec of each of the benchmark's tasks of the family, in order, as Meta-World's env
    reads it in set_task (its tasks are pickles; rlmaml does not unpickle them itself)."""
    env = env_class(benchmark, family)()
    vecs = []
    for task in tasks:
        if task.env_name != f"{family}-v3":
            continue
        env.set_task(task)
        vecs.append(np.array(env._last_rand_vec))
    env.close()
    return np.array(vecs)


def reference_env(benchmark: Any, family: str, index: int) -> Any:
    """Meta-World's env of the family on the benchmark's train task `index`, reset."""
    env = env_class(benchmark, family)()
    env.set_task(benchmark.train_tasks[index])
    env.reset()
    return env
