"""Milliseconds per exact curvature product of a MAML-TRPO meta-update, against its floor.

    python scripts/bench_curvature_product.py                    # navigation2d, paper config
    python scripts/bench_curvature_product.py halfcheetah-dir --products 5

Adapts one meta-batch (after one meta-iteration), builds the curvature of all its tasks as
TRPO does, and times products on a random vector (medians). The floor is the batched
product of the widest hidden layer, [tasks, steps, width] x [tasks, width, width], timed on
the same inputs: a closed-form product needs about 16 of them (6 for each of the two Hessian
products, 4 for the Gauss-Newton one), so the ratio says how much goes to everything else.
A meta-update's products times the floor is what their batched products alone cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch

from rlmaml.cli.options import count
from rlmaml.core.allocator import keep_freed_memory
from rlmaml.core.functional import parameters_of
from rlmaml.core.seeding import seed_keys
from rlmaml.rl.adaptation import step_sizes
from rlmaml.rl.api import load_rl_config
from rlmaml.rl.experiment import RLExperiment
from rlmaml.rl.mlp_curvature import GaussianMLPCurvature
from rlmaml.rl.outer_trpo import TRPO

MATRIX_PRODUCTS_PER_PRODUCT = 16


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="navigation2d")
    parser.add_argument("--products", type=count(1), default=10, help="timed products (after one warm-up)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    keep_freed_memory()  # as the rlmaml command does

    config = load_rl_config(args.config, [*args.set, "cg_subsample=1.0"])
    experiment = RLExperiment(config)
    learner, shard = experiment.learner, experiment.shard
    outer = learner.outer
    if not isinstance(outer, TRPO):
        parser.error(f"{args.config} does not use TRPO: it makes no curvature products")
    experiment.run_iteration(0)
    tasks = learner.sample_tasks(config.seed, 1, shard.indices)
    params = parameters_of(learner.model)
    adaptation = learner.adapter.adapt(
        params,
        tasks,
        partial(seed_keys, config.seed, 1, shard.indices),
        step_sizes(config.fast_lr, config.num_steps, "training"),
        config.first_order,
    )
    curvature = outer.local_curvature(adaptation, shard.total)
    vector = torch.randn(sum(p.numel() for p in params.values()), generator=torch.Generator().manual_seed(0))
    product = median_seconds(lambda: curvature.per_task(vector), args.products)
    print(f"{args.config}: {type(curvature).__name__}, {shard.total} tasks, torch threads={torch.get_num_threads()}")
    print(f"curvature product: {product * 1e3:.1f} ms (median of {args.products})")
    if isinstance(curvature, GaussianMLPCurvature):
        hidden = max(curvature.inner.inputs[1:], key=lambda t: t.shape[-1])
        width = hidden.shape[-1]
        weights = torch.randn(hidden.shape[0], width, width)
        matrix = median_seconds(lambda: torch.bmm(hidden, weights), args.products)
        floor = MATRIX_PRODUCTS_PER_PRODUCT * matrix
        print(
            f"floor: {MATRIX_PRODUCTS_PER_PRODUCT} x {matrix * 1e3:.2f} ms ([{hidden.shape[0]}, {hidden.shape[1]}, "
            f"{width}] x [{width}, {width}]) = {floor * 1e3:.1f} ms; product / floor {product / floor:.2f}"
        )
        products = config.cg_iters + 1  # the conjugate gradient's, and the step's own
        print(
            f"a meta-update's {products} products: {products * product:.2f} s; at the floor "
            f"{products * floor:.2f} s (the closed form's batched products alone)"
        )


if __name__ == "__main__":
    main()
