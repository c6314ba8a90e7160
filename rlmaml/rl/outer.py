"""The outer optimizer's interface: what updates the meta-parameters from a recorded adaptation.

TRPO (rlmaml.rl.outer_trpo) and ProMP (rlmaml.rl.outer_promp). An optimizer gets, at
construction, a way to `Replay` the adaptation from other meta-parameters (TRPO's line
search and subsampled curvature use it; ProMP re-adapts through it at each of its steps),
and, at each update, the meta-batch's `Adaptation`, whose post-update episodes are the
ones the meta-objective is measured on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from torch import Tensor

from rlmaml.core.functional import Params
from rlmaml.rl.adaptation import Adaptation
from rlmaml.runs.distributed import Shard

# (shared meta-parameters, recorded adaptation, first_order) -> the per-task trajectory
Replay = Callable[[Params, Adaptation, bool], list[Params]]


@dataclass(frozen=True)
class OuterStep:
    """What one update of the meta-parameters did, over the whole meta-batch."""

    surrogate_before: float  # the meta-objective's loss at the old meta-parameters
    surrogate_after: float  # ... at the new ones (the old value if nothing was accepted)
    kl: float  # mean KL of the adapted policies, old to new meta-parameters
    steps: int  # evaluations of the meta-objective the update made (TRPO: its line search's)
    accepted: bool  # whether the meta-parameters moved
    skip_reason: str = ""  # what was not finite, if the update had to be skipped


class OuterOptimizer(Protocol):
    """Updates the meta-parameters; what it keeps between updates (ProMP: Adam's moments)
    goes into checkpoints through `state` and comes back through `load_state`."""

    def update(self, params: Params, adaptation: Adaptation, shard: Shard) -> OuterStep:
        """Update `params`, the model's live meta-parameters, in place (or leave them bit for
        bit as they were) from the adaptation of this process's tasks, `shard` of the
        meta-batch; every process of a distributed run takes the same step."""
        ...

    def state(self) -> dict[str, Tensor]:
        """What the optimizer carries from one update to the next, as checkpoint tensors."""
        ...

    def load_state(self, tensors: dict[str, Tensor]) -> None:
        """Carry on from `state`'s tensors (none: start afresh)."""
        ...
