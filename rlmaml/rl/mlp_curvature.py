"""The exact curvature products of rlmaml.rl.curvature, written out for the paper's policy.

For a Gaussian policy whose mean is an MLP of Linear layers with tanh or ReLU between them,
adapted by one REINFORCE step, the two factors of each product have closed forms:
J v = v - lr * H v, with H the inner loss's Hessian (Pearlmutter's R-operator: a forward
tangent pass, then a backward pass carrying the second-order terms), and the KL's
Gauss-Newton product G^T H_out G u (a tangent pass, a diagonal, a plain backward pass).
Autograd's double backward computes the same numbers, but rebuilds every activation's first
and second derivative and many temporaries at each of the conjugate gradient's products;
here what does not change between products is computed once per meta-update, so a product
is the batched matrix products and a few elementwise ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rlmaml.core.functional import Params
from rlmaml.rl.curvature import CurvatureProduct
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.policies import GaussianMLPPolicy


def mlp_layers(model: nn.Module) -> tuple[list[str], str] | None:
    """(the Linear layers' parameter prefixes, the activation) if `model` is a Gaussian MLP
    policy that the closed forms cover, else None."""
    if type(model) is not GaussianMLPPolicy or not isinstance(model.mean, nn.Sequential):
        return None
    modules = list(model.mean)
    linears, between = modules[::2], modules[1::2]
    kinds = {type(m) for m in between}
    if not all(type(m) is nn.Linear for m in linears) or len(kinds) > 1 or not kinds <= {nn.Tanh, nn.ReLU}:
        return None
    return [f"mean.{2 * k}" for k in range(len(linears))], "tanh" if nn.Tanh in kinds else "relu"


def task_major(tensor: Tensor) -> Tensor:
    """[T, M, E, ...] as [M, T * E, ...], each task's steps one contiguous block."""
    moved = tensor.movedim(1, 0).contiguous()
    return moved.reshape(moved.shape[0], -1, *moved.shape[3:])


def pack_steps(keep: Tensor, *tensors: Tensor) -> list[Tensor]:
    """Task-major `tensors` [M, N, ...] with each task's kept steps (`keep` [M, N]) moved to
    the front, in order, and cut to the most any task keeps. The steps left in or cut are
    ones that weigh zero (past an episode's end), so sums over steps are unchanged while an
    Ant batch whose episodes end early costs the products only its live steps."""
    longest = int(keep.sum(1).max())
    if longest == keep.shape[1]:
        return list(tensors)
    order = torch.argsort((~keep).to(torch.uint8), dim=1, stable=True)[:, :longest]
    return [t.gather(1, order.view(*order.shape, *[1] * (t.dim() - 2)).expand(-1, -1, *t.shape[2:])) for t in tensors]


@dataclass
class Tangent:
    """A forward tangent through the MLP: every layer's pre-activation tangent and every
    hidden layer's output tangent (the input's is zero)."""

    pre: list[Tensor]
    hidden: list[Tensor]


class MLPPass:
    """One forward pass of the per-task MLP mean on inputs [M, N, in], with what its tangent
    and backward passes reuse: each hidden layer's output and slope."""

    def __init__(self, params: Params, prefixes: list[str], activation: str, inputs: Tensor) -> None:
        # contiguous: per-task views of shared parameters are expanded, which bmm would copy each time
        self.weights = [params[f"{p}.weight"].detach().contiguous() for p in prefixes]
        self.biases = [params[f"{p}.bias"].detach().contiguous() for p in prefixes]
        self.inputs = [inputs]  # each layer's input: the observations, then the hidden outputs
        self.tanh = activation == "tanh"
        self.slopes: list[Tensor] = []
        for weight, bias in zip(self.weights[:-1], self.biases[:-1], strict=True):
            pre = torch.baddbmm(bias.unsqueeze(1), self.inputs[-1], weight.transpose(1, 2))
            if self.tanh:
                out = torch.tanh(pre)
                self.slopes.append(1 - out * out)
            else:
                out = torch.relu(pre)
                self.slopes.append((pre > 0).to(pre.dtype))
            self.inputs.append(out)
        self.output = torch.baddbmm(self.biases[-1].unsqueeze(1), self.inputs[-1], self.weights[-1].transpose(1, 2))

    def tangent(self, weights: list[Tensor], biases: list[Tensor]) -> tuple[Tensor, Tangent]:
        """The output's tangent along (weights, biases), and the tangents on the way."""
        tangent = Tangent([], [])
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            pre = torch.baddbmm(b.unsqueeze(1), self.inputs[k], w.transpose(1, 2))
            if k > 0:
                pre = pre.baddbmm_(tangent.hidden[-1], self.weights[k].transpose(1, 2))
            tangent.pre.append(pre)
            if k < len(self.slopes):
                tangent.hidden.append(self.slopes[k] * pre)
        return tangent.pre[-1], tangent

    def backward(
        self, cotangent: Tensor, second: tuple[Backward, Tangent, list[Tensor]] | None = None, bend: bool = False
    ) -> Backward:
        """The pullback of an output cotangent [M, N, out]. With `second` = (the loss's own
        backward, a tangent, its weights), the R-operator's backward: `cotangent` is then the
        tangent of the loss's output gradient, and the terms of the tangent are added. `bend`
        keeps the second-derivative factors that later R-operator passes reuse (`Backward.bent`):
        only the loss's own backward needs them, not the Gauss-Newton product's."""
        deltas, grads_in = [cotangent], list[Tensor]()
        for k in range(len(self.weights) - 1, 0, -1):
            grad_in = torch.bmm(deltas[0], self.weights[k])
            if second:
                grad_in = grad_in.baddbmm_(second[0].deltas[k], second[2][k])
            delta = grad_in * self.slopes[k - 1]
            if second and second[0].bent:  # ReLU's second derivative is zero
                delta = delta.addcmul_(second[0].bent[k - 1], second[1].pre[k - 1])
            grads_in.insert(0, grad_in)
            deltas.insert(0, delta)
        weights = [outer_sum(d, x) for d, x in zip(deltas, self.inputs, strict=True)]
        if second:
            for k in range(1, len(weights)):
                weights[k] = weights[k].baddbmm_(second[0].deltas[k].transpose(1, 2), second[1].hidden[k - 1])
        bent = []
        if bend and self.tanh:  # tanh'' = -2 tanh tanh'
            bent = [g * (-2 * h * d) for g, h, d in zip(grads_in, self.inputs[1:], self.slopes, strict=True)]
        return Backward(deltas, bent, weights, [d.sum(1) for d in deltas])


def outer_sum(cotangent: Tensor, inputs: Tensor) -> Tensor:
    """A layer's weight gradient, sum over steps of cotangent x input^T ([M, out, in]), with the
    narrower of the two first: MKL's product of [out, N] by [N, 2] took 4x that of [2, N] by [N, out]."""
    if inputs.shape[-1] < cotangent.shape[-1]:
        return torch.bmm(inputs.transpose(1, 2), cotangent).transpose(1, 2)
    return torch.bmm(cotangent.transpose(1, 2), inputs)


@dataclass
class Backward:
    """A backward pass: each layer's output cotangent, the hidden layers' input cotangents
    times their activation's second derivative (what an R-operator pass reuses; none for
    ReLU, whose second derivative is zero, or in an R-operator pass), and the weights' and
    biases' gradients."""

    deltas: list[Tensor]
    bent: list[Tensor]
    weights: list[Tensor]
    biases: list[Tensor]


class GaussianMLPCurvature(CurvatureProduct):
    """KLCurvature's products for a Gaussian MLP policy (`layers` from `mlp_layers`), in
    closed form. `start` and `adapted` are the per-task parameters before and after the one
    REINFORCE step of size `lr` on `inner` (None with first-order MAML, whose Jacobian is the
    identity); the KL is measured on `post` with per-step `weights` [T, M, E]."""

    def __init__(
        self,
        model: GaussianMLPPolicy,
        layers: tuple[list[str], str],
        start: Params,
        adapted: Params,
        inner: Episodes | None,
        post: Episodes,
        weights: Tensor,
        lr: float,
        damping: float,
    ) -> None:
        super().__init__(start, damping, "identity" if inner is None else "symmetric")
        (self.prefixes, activation), self.lr = layers, lr
        self.learns_std = "log_std" in start
        fixed_log_std = model.log_std.detach().expand(post.num_tasks, -1)
        step_weights = task_major(weights)
        observations, step_weights = pack_steps(step_weights != 0, task_major(post.observations), step_weights)
        self.post = MLPPass(adapted, self.prefixes, activation, observations)
        post_std = adapted["log_std"].detach() if self.learns_std else fixed_log_std
        self.mean_weight = step_weights.unsqueeze(-1) * torch.exp(-2 * post_std).unsqueeze(1)
        self.log_std_weight = 2 * step_weights.sum(1, keepdim=True)
        if inner is not None:
            log_std = start["log_std"].detach() if self.learns_std else fixed_log_std
            self.std = torch.exp(log_std).unsqueeze(1)
            mask = task_major(inner.mask)
            counts = mask.sum(1, keepdim=True).clamp_min(1.0)
            coefficient = task_major(inner.computed_advantages() * inner.mask) / counts
            observations, actions, coefficient = pack_steps(
                mask != 0, task_major(inner.observations), task_major(inner.actions), coefficient
            )
            self.inner = MLPPass(start, self.prefixes, activation, observations)
            self.coefficient = coefficient.unsqueeze(-1)
            self.score = (actions - self.inner.output) / self.std  # u = (a - mean) / std
            self.loss_backward = self.inner.backward(-self.coefficient * self.score / self.std, bend=True)

    def split(self, vector: list[Tensor]) -> tuple[list[Tensor], list[Tensor], Tensor | None]:
        """A per-task vector in the parameters' order as (weights, biases, log_std or None)."""
        named = dict(zip(self.shapes, vector, strict=True))
        weights = [named[f"{p}.weight"] for p in self.prefixes]
        biases = [named[f"{p}.bias"] for p in self.prefixes]
        return weights, biases, named.get("log_std")

    def join(self, weights: list[Tensor], biases: list[Tensor], log_std: Tensor | None) -> list[Tensor]:
        named = {f"{p}.weight": w for p, w in zip(self.prefixes, weights, strict=True)}
        named |= {f"{p}.bias": b for p, b in zip(self.prefixes, biases, strict=True)}
        if log_std is not None:
            named["log_std"] = log_std
        return [named[name] for name in self.shapes]

    def hessian_product(self, vector: list[Tensor]) -> list[Tensor]:
        """The inner loss's Hessian times `vector`, per task."""
        weights, biases, log_std = self.split([v.contiguous() for v in vector])
        mean_tangent, tangent = self.inner.tangent(weights, biases)
        c, u, std = self.coefficient, self.score, self.std
        top = c * mean_tangent / std**2
        if log_std is not None:
            top = top + 2 * c * u * log_std.unsqueeze(1) / std
        second = self.inner.backward(top, (self.loss_backward, tangent, weights))
        log_std_part = None
        if log_std is not None:
            log_std_part = (2 * c * u * (mean_tangent / std + u * log_std.unsqueeze(1))).sum(1)
        return self.join(second.weights, second.biases, log_std_part)

    def jacobian_product(self, vector: list[Tensor]) -> list[Tensor]:
        if self.jacobian == "identity":
            return vector
        return [v - self.lr * h for v, h in zip(vector, self.hessian_product(vector), strict=True)]

    def jacobian_t_product(self, vector: list[Tensor]) -> list[Tensor]:
        return self.jacobian_product(vector)  # J = I - lr * Hessian is symmetric

    def fisher_product(self, vector: list[Tensor]) -> list[Tensor]:
        weights, biases, log_std = self.split([v.contiguous() for v in vector])
        mean_tangent, _ = self.post.tangent(weights, biases)
        pulled = self.post.backward(self.mean_weight * mean_tangent)
        log_std_part = self.log_std_weight * log_std if log_std is not None else None
        return self.join(pulled.weights, pulled.biases, log_std_part)
