"""`MAML` for any `nn.Module`: the library's supervised entry point. In the spirit of
learn2learn's `MAML(model, lr).clone().adapt(loss)`, but functional and batched over tasks:
instead of cloning the model per task it adapts a dict of per-task parameters for a whole
batch of tasks at once (`vmap` over `functional_call`), with the shared inner loop
`rlmaml.core.maml.adapt`, so the query losses backpropagate to the model's parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import vmap

from rlmaml.core.functional import Params, call_per_task, expand_to_tasks, parameters_of
from rlmaml.core.maml import StepSize, adapt

TaskLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(outputs, targets) of one task -> a scalar, e.g. `torch.nn.functional.mse_loss`."""


class MAML:
    """Adapts per-task copies of `model`'s trainable parameters by gradient steps of size
    `lr` (one number, a tensor per parameter name, or a schedule of one per step). The
    adapted parameters are differentiable with respect to the model's (second-order MAML)
    unless `first_order`, which treats the inner gradients as constants.

    Inputs and targets carry a leading task dimension: [tasks, examples, ...]."""

    def __init__(self, model: nn.Module, lr: StepSize | Sequence[StepSize], first_order: bool = False) -> None:
        self.model, self.lr, self.first_order = model, lr, first_order

    @property
    def params(self) -> Params:
        """The meta-parameters: the model's trainable parameters by name, the live tensors
        that the outer optimizer steps."""
        return parameters_of(self.model)

    def adapt(self, loss: TaskLoss, inputs: torch.Tensor, targets: torch.Tensor, steps: int = 1) -> Params:
        """Every task's parameters (leading task dimension) after `steps` gradient steps of
        `loss` on its own support set (inputs[i], targets[i]), all tasks in one graph."""

        def inner_loss(task_params: Params, step: int) -> torch.Tensor:
            # a sum over tasks: each task's parameters get their own task's gradient
            return self.task_losses(loss, task_params, inputs, targets).sum()

        start = expand_to_tasks(self.params, inputs.shape[0])
        return adapt(start, inner_loss, steps, self.lr, self.first_order)[-1]

    def predict(self, task_params: Params, inputs: torch.Tensor) -> torch.Tensor:
        """The model's outputs [tasks, ...] with task i's parameters on inputs[i]."""
        outputs: torch.Tensor = call_per_task(self.model, task_params, inputs)
        return outputs

    def task_losses(
        self, loss: TaskLoss, task_params: Params, inputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """`loss` of each task's parameters on its own inputs and targets: [tasks]."""
        losses: torch.Tensor = vmap(loss)(self.predict(task_params, inputs), targets)
        return losses
