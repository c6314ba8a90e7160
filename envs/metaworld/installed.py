"""Meta-World's robot and scene models, read from an installed metaworld package.

rlmaml ships none of Meta-World's models: a user installs metaworld 3.1.1 without its
dependencies (`pip install --no-deps metaworld==3.1.1`; its own pin, mujoco==3.3.0, clashes
with rlmaml's mujoco>=4.0, which an extra cannot express). The package is located, never
imported: its __init__ builds every benchmark's envs and needs scipy, imageio and packaging.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

SUPPORTED_VERSION = "3.1.1"
INSTALL = f"pip install --no-deps metaworld=={SUPPORTED_VERSION}"

# What Meta-World writes into the mocap weld's parameters (SawyerMocapBase.reset_mocap_welds):
# anchor 0, relative pose 0 with the quaternion (-1, 0, 0, 0), torque scale 5. MuJoCo 3.17 gave a
# weld a twelfth number, which keeps its compiled value here.
MOCAP_WELD = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0)


def assets_dir() -> Path:
    """The installed metaworld's assets folder; DependencyNotInstalled naming the install
    command if metaworld is missing or not version SUPPORTED_VERSION."""
    try:
        version = importlib.metadata.version("metaworld")
        spec = importlib.util.find_spec("metaworld")
    except (importlib.metadata.PackageNotFoundError, ImportError, ValueError):
        version, spec = None, None
    if spec is None or spec.origin is None:
        raise gym.error.DependencyNotInstalled(f"Meta-World families need metaworld's models: {INSTALL}")
    if version != SUPPORTED_VERSION:
        raise gym.error.DependencyNotInstalled(
            f"Meta-World families are checked against metaworld {SUPPORTED_VERSION}, found {version}: {INSTALL}"
        )
    if importlib.util.find_spec("scipy") is None:
        raise gym.error.DependencyNotInstalled(
            "Meta-World families need scipy (for its quaternions): pip install scipy"
        )
    return Path(spec.origin).parent / "assets"


def load_model(relative_path: str) -> mujoco.MjModel:
    """The model at `relative_path` under metaworld's assets, its mocap welds set as Meta-World sets them."""
    model = mujoco.MjModel.from_xml_path(str(assets_dir() / relative_path))
    write_mocap_welds(model)
    return model


def write_mocap_welds(model: mujoco.MjModel) -> None:
    """The weld parameters Meta-World writes, in the first 11 of each weld's numbers."""
    for i in range(model.neq):
        if model.eq_type[i] == mujoco.mjtEq.mjEQ_WELD:
            model.eq_data[i, : len(MOCAP_WELD)] = np.array(MOCAP_WELD)
