"""Exact Hessian-vector products of the meta-objective's KL through the adaptation.

The mean KL between the old and the new adapted Gaussian policies, as a function of the
meta-parameters theta, is KL(out(phi(theta))): out maps the adapted parameters phi to the
policy's (mean, log_std) on every step. At theta_old the gradient of the KL with respect to
those outputs is zero, so its Hessian is exactly J^T G^T H G J, where J = d phi / d theta
(the adaptation's Jacobian), G = d out / d phi and H the KL's Hessian in the outputs, which
for diagonal Gaussians is diagonal: 1 / std^2 for the mean and 2 for log_std. Multiplying
the factors in turn (G by forward mode) skips the third- and second-order terms that
differentiating the KL gradient twice would compute only to multiply them by zero.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jvp

from rlmaml.functional import Params, flatten, unflatten

PolicyOutputs = Callable[[Params], tuple[torch.Tensor, torch.Tensor]]


class KLCurvature:
    """v -> (J^T G^T H G J + damping I) v on flat vectors of the meta-parameters.

    `meta_params` are the leaves theta; `adapted` the task-batched parameters phi(theta),
    still attached to their graph; `outputs_of` maps phi to (mean, log_std) on the episodes;
    `weights` ([T, M, E], broadcast over actions) is each step's weight in the mean KL.
    """

    def __init__(
        self,
        meta_params: Params,
        adapted: Params,
        outputs_of: PolicyOutputs,
        weights: torch.Tensor,
        damping: float,
    ) -> None:
        self.meta_params = meta_params
        self.damping = damping
        self._outputs_of = outputs_of
        self._meta = list(meta_params.values())
        self._adapted = list(adapted.values())
        self._phi = {name: p.detach().requires_grad_() for name, p in adapted.items()}
        self._outputs = outputs_of(self._phi)
        mean_weight = weights.unsqueeze(-1) * torch.exp(-2 * self._outputs[1].detach())
        self._output_hessian = (mean_weight, 2 * weights.unsqueeze(-1))
        # J^T w is linear in w: its graph, built once, gives J v = d(J^T w . v)/dw.
        self._cotangent = [torch.zeros_like(p, requires_grad=True) for p in self._adapted]
        self._jacobian_t = torch.autograd.grad(
            self._adapted, self._meta, grad_outputs=self._cotangent, create_graph=True
        )

    def jacobian_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        return list(torch.autograd.grad(self._jacobian_t, self._cotangent, grad_outputs=vector, retain_graph=True))

    def jacobian_t_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        return list(torch.autograd.grad(self._adapted, self._meta, grad_outputs=vector, retain_graph=True))

    def fisher_product(self, vector: list[torch.Tensor]) -> list[torch.Tensor]:
        """The KL's Hessian in phi times `vector`: G^T H G u, G u by forward mode."""
        primal = {name: p.detach() for name, p in self._phi.items()}
        tangent = dict(zip(primal, vector))
        _, output_tangents = jvp(self._outputs_of, (primal,), (tangent,))
        cotangents = [h * t for h, t in zip(self._output_hessian, output_tangents)]
        return list(torch.autograd.grad(self._outputs, list(self._phi.values()), cotangents, retain_graph=True))

    def __call__(self, vector: torch.Tensor) -> torch.Tensor:
        v = list(unflatten(vector, self.meta_params).values())
        product = self.jacobian_t_product(self.fisher_product(self.jacobian_product(v)))
        return flatten(product) + self.damping * vector
