"""Meta-World's own envs, to check rlmaml's families against and to time them side by side.

metaworld 3.1.1 writes 11 numbers into its mocap weld, which MuJoCo 3.17 and later gave 12,
so its envs fail to build under rlmaml's MuJoCo: `import_metaworld` patches its
reset_mocap_welds to write the first 11 (the twelfth keeps its compiled value), as rlmaml's
own loader does. Nothing else of Meta-World is changed.
"""

from __future__ import annotations

import importlib
import pickle
from typing import Any

import mujoco
import numpy as np

from .installed import MOCAP_WELD


def import_metaworld() -> Any:
    """metaworld with its weld patched; ImportError if it (or what it imports) is missing."""
    sawyer_env = importlib.import_module("metaworld.sawyer_xyz_env")
    metaworld = importlib.import_module("metaworld")

    def reset_mocap_welds(self: Any) -> None:
        for i in range(self.model.neq):
            if self.model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
                self.model.eq_data[i, : len(MOCAP_WELD)] = MOCAP_WELD

    sawyer_env.SawyerMocapBase.reset_mocap_welds = reset_mocap_welds
    return metaworld


def ml1(family: str, seed: int) -> Any:
    """Meta-World's ML1 benchmark of the family, as `metaworld.ML1(family + "-v3", seed)`."""
    return import_metaworld().ML1(f"{family}-v3", seed=seed)


def rand_vecs(tasks: list[Any]) -> np.ndarray:
    """The rand_vec of each of Meta-World's tasks (pickles it made in this process)."""
    return np.array([pickle.loads(task.data)["rand_vec"] for task in tasks])


def reference_env(benchmark: Any, family: str, index: int) -> Any:
    """Meta-World's env of the family on the benchmark's train task `index`, reset."""
    env = benchmark.train_classes[f"{family}-v3"]()
    env.set_task(benchmark.train_tasks[index])
    env.reset()
    return env
