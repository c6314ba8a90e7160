"""The paper's networks, written so that `torch.func.functional_call` under `vmap` runs
one task per batch entry: batch norm is functional, so each task normalises with its own
statistics. Models take the adaptation stage (how many inner updates their parameters
have had) so that MAML++ can keep weights and statistics per stage."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from rlmaml.core.functional import Params, parameters_of


class MetaModel(nn.Module):
    """A network the supervised meta-learner adapts: it takes (inputs, stage), names the
    parameters the inner loop adapts, and may record running batch-norm statistics."""

    @property
    def records_statistics(self) -> bool:
        """Whether training forwards should report their batch statistics to `record_statistics`."""
        return False

    def record_statistics(self, stage: int, statistics: torch.Tensor) -> None:
        """Fold one meta-batch's batch statistics (averaged over tasks) into the running ones."""
        raise NotImplementedError(f"{type(self).__name__} records no batch statistics")

    def fast_parameters(self) -> Params:
        """What the inner loop adapts: everything, unless the model says otherwise."""
        return parameters_of(self)


class RegressionMLP(MetaModel):
    """Fully connected ReLU network (40-40 in the paper) from x to y."""

    def __init__(self, hidden_sizes: Sequence[int], inputs: int = 1, outputs: int = 1) -> None:
        super().__init__()
        sizes = [inputs, *hidden_sizes]
        layers: list[nn.Module] = []
        for size_in, size_out in pairwise(sizes):
            layers += [nn.Linear(size_in, size_out), nn.ReLU()]
        self.layers = nn.Sequential(*layers, nn.Linear(sizes[-1], outputs))

    def forward(self, x: torch.Tensor, stage: int = 0) -> torch.Tensor:
        """`stage` is accepted for the common model interface; an MLP has nothing per stage."""
        outputs: torch.Tensor = self.layers(x)
        return outputs


class StagedBatchNorm(nn.Module):
    """Batch norm with an affine transform and running statistics per adaptation stage
    (MAML++'s per-step batch norm; one stage is plain batch norm). It normalises with the
    batch's own statistics (transductive, as MAML does) unless it is `running` and the model
    is in eval mode: then with the statistics recorded during meta-training."""

    running_mean: torch.Tensor  # buffers [stages, channels]
    running_var: torch.Tensor

    def __init__(self, channels: int, stages: int, running: bool, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.stages, self.running, self.momentum, self.eps = stages, running, momentum, eps
        self.weight = nn.Parameter(torch.ones(stages, channels))
        self.bias = nn.Parameter(torch.zeros(stages, channels))
        self.register_buffer("running_mean", torch.zeros(stages, channels))
        self.register_buffer("running_var", torch.ones(stages, channels))

    def forward(self, x: torch.Tensor, stage: int) -> torch.Tensor:
        s = min(stage, self.stages - 1)
        if self.running and not self.training:
            return F.batch_norm(
                x, self.running_mean[s], self.running_var[s], self.weight[s], self.bias[s], eps=self.eps
            )
        return F.batch_norm(x, None, None, self.weight[s], self.bias[s], training=True, eps=self.eps)

    @torch.no_grad()
    def record(self, stage: int, statistics: torch.Tensor) -> None:
        s = min(stage, self.stages - 1)
        self.running_mean[s].lerp_(statistics[0], self.momentum)
        self.running_var[s].lerp_(statistics[1], self.momentum)


class ConvNet(MetaModel):
    """`blocks` x (3x3 conv with `filters` channels, stride 2, batch norm, ReLU), then the
    mean over space and a linear head: MAML's Omniglot network (28 -> 14 -> 7 -> 4 -> 2).
    Batch-norm weights are meta-learned but not adapted in the inner loop, as in MAML."""

    def __init__(
        self, channels: int, ways: int, filters: int = 64, blocks: int = 4, stages: int = 1, running: bool = False
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(channels if b == 0 else filters, filters, 3, stride=2, padding=1) for b in range(blocks)
        )
        self.norms = nn.ModuleList(StagedBatchNorm(filters, stages, running) for _ in range(blocks))
        self.head = nn.Linear(filters, ways)
        self.running = running

    @property
    def records_statistics(self) -> bool:
        return self.running and self.training

    def forward(
        self, x: torch.Tensor, stage: int = 0, return_stats: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits [B, ways]; with `return_stats` also the batch statistics [blocks, 2, filters]."""
        statistics = []
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = conv(x)
            if return_stats:
                # running variance is unbiased, as torch.nn.BatchNorm2d records it
                statistics.append(torch.stack([x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=True)]))
            x = F.relu(norm(x, stage))
        logits: torch.Tensor = self.head(x.mean((-2, -1)))
        return (logits, torch.stack(statistics)) if return_stats else logits

    def record_statistics(self, stage: int, statistics: torch.Tensor) -> None:
        for norm, used in zip(self.norms, statistics, strict=True):
            cast(StagedBatchNorm, norm).record(stage, used)  # torch types a ModuleList's items as Module

    def fast_parameters(self) -> Params:
        """What the inner loop adapts: convolutions and head, not the batch-norm affine."""
        return {name: p for name, p in parameters_of(self).items() if not name.startswith("norms.")}
