"""rlmaml: Model-Agnostic Meta-Learning for reinforcement learning, on Gymnasium and MuJoCo.

Importing the package registers its environments (`rlmaml/Navigation2D-v0`, ...) with
Gymnasium, which is also what `gymnasium.make("rlmaml:rlmaml/Navigation2D-v0")` does. The
library API below is imported on first use, so that importing the envs does not load torch:
`MAML` (supervised, any `nn.Module`), `make_meta_learner` and `adapt_policy` (meta-RL).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rlmaml import envs as envs

if TYPE_CHECKING:
    from rlmaml.core.learner import MAML
    from rlmaml.rl.api import AdaptedPolicy, adapt_policy, make_meta_learner

__version__ = "0.1.0"
__all__ = ["MAML", "AdaptedPolicy", "adapt_policy", "make_meta_learner"]

_HOMES = {
    "MAML": "rlmaml.core.learner",
    "AdaptedPolicy": "rlmaml.rl.api",
    "adapt_policy": "rlmaml.rl.api",
    "make_meta_learner": "rlmaml.rl.api",
}


def __getattr__(name: str) -> Any:
    """The API's names, imported from their modules when first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'rlmaml' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
