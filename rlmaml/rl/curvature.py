"""Exact Hessian-vector products of the meta-objective's KL through the adaptation.

The mean KL between the old and the new adapted policies, as a function of the
meta-parameters theta, is KL(out(phi(theta))): out maps the adapted parameters phi to the
policy's outputs on every step (a Gaussian's mean and log_std, a categorical's logits). At
theta_old the gradient of the KL with respect to those outputs is zero, so its Hessian is
exactly J^T G^T H G J, where J = d phi / d theta (the adaptation's Jacobian), G = d out / d phi
and H the KL's Hessian in the outputs, which the distribution gives
(rlmaml.rl.distributions: diagonal for diagonal Gaussians, diag(p) - p p^T in a
categorical's logits). Multiplying
the factors in turn skips the third- and second-order terms that
differentiating the KL gradient twice would compute only to multiply them by zero.

The forward products J v and G u come from the graphs of the linear maps w -> J^T w and
c -> G^T c, built once per meta-update: d(J^T w . v)/dw = J v. On CPU this measured about
three times faster than forward-mode (torch.func.jvp) for G u. For the paper's policy,
rlmaml.rl.mlp_curvature computes the same factors in closed form (`CurvatureProduct` is
what both provide).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

import torch

from rlmaml.core.functional import Params, unflatten
from rlmaml.rl.distributions import PolicyDistribution

PolicyOutputs = Callable[[Params], PolicyDistribution]
JacobianKind = Literal["identity", "symmetric", "general"]


class CurvatureProduct(ABC):
    """v -> (J^T G^T H G J + damping I) v on flat vectors of the meta-parameters, from the
    factors' products on per-task vectors (lists in the parameters' order, [tasks, ...]).
    `task_params` are the per-task views of the meta-parameters theta that the adaptation
    started from; J is block-diagonal over tasks in these views. `jacobian` says what is
    known of each task's block: "identity" for first-order MAML, "symmetric" for one
    gradient step with a scalar step size (J_i = I - lr * Hessian_i), else "general"."""

    def __init__(self, task_params: Params, damping: float, jacobian: JacobianKind) -> None:
        self.damping = damping
        self.jacobian = jacobian
        self._views = list(task_params.values())
        self.shapes = {name: p.shape[1:] for name, p in task_params.items()}

    @abstractmethod
    def jacobian_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        """J v, per task."""

    @abstractmethod
    def jacobian_t_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        """J^T w, per task."""

    @abstractmethod
    def fisher_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        """The KL's Hessian in phi times `vector`: G^T H G u, per task."""

    def per_task(self, vector: torch.Tensor) -> torch.Tensor:
        """Each task's term of the product, undamped, as rows [tasks, parameters]: the
        caller adds them up, across processes if the tasks are spread over several."""
        shared = unflatten(vector, self.shapes)
        per_task = [v.expand_as(view) for v, view in zip(shared.values(), self._views, strict=True)]
        product = self.jacobian_t_product(self.fisher_product(self.jacobian_product(per_task)))
        return per_task_rows(product)

    def __call__(self, vector: torch.Tensor) -> torch.Tensor:
        return self.per_task(vector).sum(0) + self.damping * vector


class KLCurvature(CurvatureProduct):
    """The factors' products by automatic differentiation, for any policy and adaptation.

    `adapted` are the adapted parameters phi, still attached to their graph from
    `task_params`; `outputs_of` maps phi to the policy's distribution on the episodes;
    `weights` ([T, M, E]) is each step's weight in the mean KL. With a "symmetric" Jacobian,
    J^T w takes the cheaper forward-product path.
    """

    def __init__(
        self,
        task_params: Params,
        adapted: Params,
        outputs_of: PolicyOutputs,
        weights: torch.Tensor,
        damping: float,
        jacobian: JacobianKind = "general",
    ) -> None:
        super().__init__(task_params, damping, jacobian)
        self._adapted = list(adapted.values())
        self._phi = {name: p.detach().requires_grad_() for name, p in adapted.items()}
        distribution = outputs_of(self._phi)
        self._all_outputs = distribution.outputs
        # outputs that depend on phi (a frozen log_std does not: its tangent is zero)
        self._live = [k for k, output in enumerate(self._all_outputs) if output.requires_grad]
        self._outputs = [self._all_outputs[k] for k in self._live]
        self._output_hessian = distribution.kl_hessian(weights)
        if jacobian != "identity":
            self._cotangent, self._jacobian_t = transpose_graph(self._adapted, self._views)
        phi = list(self._phi.values())
        self._output_cotangent, self._output_jacobian_t = transpose_graph(self._outputs, phi)

    def jacobian_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.jacobian == "identity":
            return vector
        return list(torch.autograd.grad(self._jacobian_t, self._cotangent, vector, retain_graph=True))

    def jacobian_t_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.jacobian != "general":
            return self.jacobian_product(vector)
        return list(torch.autograd.grad(self._adapted, self._views, vector, retain_graph=True))

    def fisher_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        live_tangents = torch.autograd.grad(self._output_jacobian_t, self._output_cotangent, vector, retain_graph=True)
        tangents = [torch.zeros_like(output) for output in self._all_outputs]
        for k, tangent in zip(self._live, live_tangents, strict=True):
            tangents[k] = tangent
        cotangents = self._output_hessian(tangents)
        live_cotangents = [cotangents[k] for k in self._live]
        return list(torch.autograd.grad(self._outputs, list(self._phi.values()), live_cotangents, retain_graph=True))


def per_task_rows(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Per-task tensors [tasks, ...] of every parameter as one row per task, in flatten's order."""
    return torch.cat([t.reshape(t.shape[0], -1) for t in tensors], dim=1)


def transpose_graph(
    outputs: list[torch.Tensor], inputs: list[torch.Tensor]
) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
    """(w, J^T w) for the Jacobian J of outputs in inputs, with w a placeholder cotangent:
    J^T w is linear in w, so differentiating it along v gives J v."""
    cotangent = [torch.zeros_like(o, requires_grad=True) for o in outputs]
    return cotangent, torch.autograd.grad(outputs, inputs, grad_outputs=cotangent, create_graph=True)
