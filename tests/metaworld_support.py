"""Meta-World's own envs for tests (see rlmaml.envs.metaworld.reference), skipping with the
reason where metaworld is not installed."""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
import pytest

from rlmaml.envs.metaworld import installed, reference


def ml1(family: str, seed: int) -> Any:
    """Meta-World's ML1 benchmark; skip the test if metaworld is not installed."""
    try:
        return reference.ml1(family, seed)
    except ImportError as error:
        pytest.skip(f"metaworld is not installed ({error}); {installed.INSTALL}")


def ml10(seed: int) -> Any:
    """Meta-World's ML10 benchmark; skip the test if metaworld is not installed."""
    try:
        return reference.ml10(seed)
    except ImportError as error:
        pytest.skip(f"metaworld is not installed ({error}); {installed.INSTALL}")


def scripted_policy(family: str) -> Any:
    """Meta-World's scripted policy for the family (it reads the goal from the observation's last three numbers)."""
    policies = importlib.import_module("metaworld.policies")
    words = family.replace("insert", "insertion").split("-")
    return getattr(policies, "Sawyer" + "".join(word.capitalize() for word in words) + "V3Policy")()


def skip_without_metaworld() -> None:
    """Skip the test, naming why, where Meta-World's models are not installed."""
    try:
        installed.assets_dir()
    except gym.error.DependencyNotInstalled as error:
        pytest.skip(str(error))
