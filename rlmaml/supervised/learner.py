"""Supervised MAML: adapt every task of a meta-batch with the shared core
(`rlmaml.core.maml.adapt`) in one vmapped graph, then an Adam step on the query losses.
MAML++'s options are switched by `MetaSettings`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.func import functional_call

from rlmaml.core.functional import Params, call_per_task, expand_to_tasks, flatten
from rlmaml.core.maml import StepSize, adapt
from rlmaml.runs.config_types import SupervisedConfig
from rlmaml.runs.distributed import Context, Shard
from rlmaml.runs.weights import load_weights
from rlmaml.supervised.mamlpp import (
    InnerLearningRates,
    cosine_learning_rate,
    is_first_order,
    multi_step_loss_weights,
    uses_multi_step_loss,
)
from rlmaml.supervised.models import MetaModel
from rlmaml.supervised.optimizer_state import load_optimizer_tensors, optimizer_tensors
from rlmaml.supervised.tasks import TaskBatch

PerTask = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (outputs, targets) [T, ...] -> [T]
MODEL_PREFIX, INNER_LR_PREFIX = "model.", "inner_lr."
REPORTED = ("loss_before", "loss_after", "score_before", "score_after")


@dataclass(frozen=True)
class MetaSettings:
    num_steps: int
    fast_lr: float
    first_order: bool
    meta_lr: float
    iterations: int
    multi_step_loss: bool
    multi_step_loss_iterations: int
    first_order_iterations: int
    learn_inner_lr: bool
    cosine_lr: bool
    min_meta_lr: float

    @classmethod
    def from_config(cls, config: SupervisedConfig) -> MetaSettings:
        return cls(
            num_steps=config.num_steps,
            fast_lr=config.fast_lr,
            first_order=config.first_order,
            meta_lr=config.meta_lr,
            iterations=config.iterations,
            multi_step_loss=config.multi_step_loss,
            multi_step_loss_iterations=config.multi_step_loss_iterations,
            first_order_iterations=config.first_order_iterations,
            learn_inner_lr=config.learn_inner_lr,
            cosine_lr=config.cosine_lr,
            min_meta_lr=config.min_meta_lr,
        )


@dataclass
class MetaObjective:
    """The outer loss of a meta-batch and, per task, the query loss and score before and
    after adaptation (detached)."""

    loss: torch.Tensor
    loss_before: torch.Tensor
    loss_after: torch.Tensor
    score_before: torch.Tensor
    score_after: torch.Tensor


class SupervisedMetaLearner:
    """`loss` is what the inner and outer loops minimise, `score` what is reported (MSE or
    accuracy), both per task. The model takes (inputs, stage) and names its inner-loop
    parameters in `fast_parameters()`; everything else it has is meta-learned only."""

    def __init__(
        self, model: MetaModel, loss: PerTask, score: PerTask, settings: MetaSettings, context: Context | None = None
    ) -> None:
        """With a distributed `context` each process adapts its shard of the meta-batch; the
        gradients, batch-norm statistics and reported values are reduced over all processes."""
        self.model, self.loss, self.score, self.settings = model, loss, score, settings
        self.context = context or Context()
        fast = model.fast_parameters()
        dtype = next(iter(fast.values())).dtype
        self.inner_lrs = (
            InnerLearningRates(list(fast), settings.num_steps, settings.fast_lr, dtype)
            if settings.learn_inner_lr
            else None
        )
        self.meta_parameters = {MODEL_PREFIX + name: p for name, p in model.named_parameters()}
        if self.inner_lrs is not None:
            self.meta_parameters[INNER_LR_PREFIX + "rates"] = self.inner_lrs.rates
        self.optimizer = torch.optim.Adam(self.meta_parameters.values(), lr=settings.meta_lr)
        self.skip_reason = ""  # why the last step left the weights alone, if it was not finite

    def step_sizes(self, steps: int) -> StepSize | Sequence[StepSize]:
        return self.inner_lrs.schedule(steps) if self.inner_lrs is not None else self.settings.fast_lr

    def predict(self, task_params: Params, inputs: torch.Tensor, stage: int) -> torch.Tensor:
        """Outputs [T, B, ...] of every task's parameters on its inputs, in one vmapped call."""
        if self.model.records_statistics:
            outputs: torch.Tensor
            outputs, statistics = call_per_task(self.model, task_params, inputs, stage=stage, return_stats=True)
            self.model.record_statistics(stage, self.context.gather(statistics).mean(0))
        else:
            outputs = call_per_task(self.model, task_params, inputs, stage=stage)
        return outputs

    def predict_one_task(self, params: Params, inputs: torch.Tensor, stage: int) -> torch.Tensor:
        """`predict` for a single task (inputs [1, B, ...]) with plain, unbatched parameters."""
        outputs: torch.Tensor = functional_call(self.model, params, (inputs[0],), {"stage": stage})
        return outputs.unsqueeze(0)

    def adapt(self, batch: TaskBatch, steps: int, first_order: bool, batched: bool = True) -> list[Params]:
        """Every task's parameters after 0..steps inner steps on its support set: all tasks
        at once through per-task views of the meta-parameters, or (not `batched`) the one
        task of `batch` with plain parameters."""
        forward = self.predict if batched else self.predict_one_task
        params = self.model.fast_parameters()
        if batched:
            params = expand_to_tasks(params, batch.num_tasks)

        def inner_loss(task_params: Params, step: int) -> torch.Tensor:
            outputs = forward(task_params, batch.support_inputs, step)
            return self.loss(outputs, batch.support_targets).sum()  # a sum: each task gets its own gradient

        return adapt(params, inner_loss, steps, self.step_sizes(steps), first_order)

    def meta_objective(self, batch: TaskBatch, iteration: int, batched: bool = True) -> MetaObjective:
        """The query loss after adaptation (MAML++: a weighted sum over the inner steps)."""
        s = self.settings
        forward = self.predict if batched else self.predict_one_task
        first_order = is_first_order(s.first_order, s.first_order_iterations, iteration)
        trajectory = self.adapt(batch, s.num_steps, first_order, batched)
        with torch.no_grad():
            before = forward(trajectory[0], batch.query_inputs, 0)
        if uses_multi_step_loss(s.multi_step_loss, iteration, s.multi_step_loss_iterations):
            weights = multi_step_loss_weights(s.num_steps, iteration, s.multi_step_loss_iterations)
        else:
            weights = [0.0] * (s.num_steps - 1) + [1.0]
        targets = batch.query_targets
        terms = []
        for stage, weight in enumerate(weights, start=1):
            if weight > 0.0:
                after = forward(trajectory[stage], batch.query_inputs, stage)
                terms.append(weight * self.loss(after, targets).mean())
        after = after.detach()
        return MetaObjective(
            sum(terms[1:], start=terms[0]),  # from the first term, not 0: the same sum, typed a Tensor
            self.loss(before, targets),
            self.loss(after, targets),
            self.score(before, targets),
            self.score(after, targets),
        )

    def step(
        self, batch: TaskBatch, iteration: int, shard: Shard | None = None, per_task_loop: bool = False
    ) -> dict[str, float]:
        """One Adam step on the meta-batch's outer loss; `batch` holds the tasks at
        `shard.indices` (default: the whole meta-batch). `per_task_loop` adapts the tasks one
        by one in a Python loop instead: the reference the benchmark and tests compare with."""
        s = self.settings
        shard = shard or Shard.whole(batch.num_tasks)
        lr = cosine_learning_rate(s.meta_lr, s.min_meta_lr, iteration, s.iterations) if s.cosine_lr else s.meta_lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad()
        if per_task_loop:
            if self.model.records_statistics:
                raise ValueError("the per-task loop does not record running batch-norm statistics")
            parts = []
            for t in range(batch.num_tasks):
                part = self.meta_objective(batch.tasks(slice(t, t + 1)), iteration, batched=False)
                (part.loss / batch.num_tasks).backward()
                parts.append(part)
            per_task = {name: torch.cat([getattr(p, name) for p in parts]) for name in REPORTED}
        else:
            objective = self.meta_objective(batch, iteration)
            objective.loss.backward()
            per_task = {name: getattr(objective, name) for name in REPORTED}
        self.combine_gradients(batch.num_tasks / shard.total)
        self.skip_reason = self.guarded_optimizer_step()
        reported = {name: float(self.context.gather(values).mean()) for name, values in per_task.items()}
        return {**reported, "meta_lr": lr, "update_skipped": float(bool(self.skip_reason))}

    def guarded_optimizer_step(self) -> str:
        """Adam's step unless the gradient is not finite; undone (weights and Adam's state)
        if it makes a weight non-finite. Returns why the step was skipped, or ''."""
        parameters = list(self.meta_parameters.values())
        if not all(p.grad is None or torch.isfinite(p.grad).all() for p in parameters):
            self.optimizer.zero_grad()
            return "the meta-gradient is not finite"
        before = [p.detach().clone() for p in parameters]
        optimizer_before = copy.deepcopy(self.optimizer.state_dict())
        self.optimizer.step()
        if all(torch.isfinite(p).all() for p in parameters):
            return ""
        with torch.no_grad():
            for p, old in zip(parameters, before, strict=True):
                p.copy_(old)
        self.optimizer.load_state_dict(optimizer_before)
        return "Adam's step makes the weights non-finite"

    def combine_gradients(self, share: float) -> None:
        """The meta-batch's gradient from each process's (the mean over its tasks, weighing
        `share` of the meta-batch), added in rank order so that every process gets the same."""
        if self.context.world_size == 1:
            return
        grads = [p.grad for p in self.meta_parameters.values() if p.grad is not None]  # the same on every rank
        total = self.context.sum_over_tasks(flatten([g * share for g in grads]).unsqueeze(0))
        for grad, summed in zip(grads, total.split([g.numel() for g in grads]), strict=True):
            grad.copy_(summed.view_as(grad))

    def evaluate(self, batch: TaskBatch, steps: int) -> list[torch.Tensor]:
        """The score per task [T] after 0..steps first-order inner steps (nothing here is
        differentiated through the adaptation)."""
        trajectory = self.adapt(batch, steps, first_order=True)
        with torch.no_grad():
            return [
                self.score(self.predict(params, batch.query_inputs, stage), batch.query_targets)
                for stage, params in enumerate(trajectory)
            ]

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Weights, batch-norm statistics, learned inner rates and Adam's state, by name."""
        tensors = {MODEL_PREFIX + name: t for name, t in self.model.state_dict().items()}
        if self.inner_lrs is not None:
            tensors[INNER_LR_PREFIX + "rates"] = self.inner_lrs.rates
        return {**tensors, **optimizer_tensors(self.optimizer, list(self.meta_parameters))}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        model_state = {k.removeprefix(MODEL_PREFIX): t for k, t in tensors.items() if k.startswith(MODEL_PREFIX)}
        load_weights(self.model, model_state, "the checkpoint's model")
        if self.inner_lrs is not None:
            with torch.no_grad():
                self.inner_lrs.rates.copy_(tensors[INNER_LR_PREFIX + "rates"])
        load_optimizer_tensors(self.optimizer, list(self.meta_parameters), tensors)
