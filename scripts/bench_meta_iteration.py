"""Seconds per MAML-TRPO meta-iteration, split into sampling, adaptation and meta-update.

    python scripts/bench_meta_iteration.py                       # navigation2d, paper config
    python scripts/bench_meta_iteration.py halfcheetah-vel --iterations 5
    python scripts/bench_meta_iteration.py ant-dir --weights zoo/ant-dir   # a trained policy

A trained policy costs more than a fresh one where episodes end early (the Ant falls less
as it learns): `--weights RUN_DIR` starts from the run's newest checkpoint to measure that.

Prints every iteration, then medians over the measured ones (the first is a warm-up and
is not counted) and the process's peak resident memory. With TRPO, the meta-update is split
further: its gradient, building the curvature's graphs, the conjugate gradient's curvature
products (with the step's own product) and the line search.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import torch

from rlmaml.cli.options import count
from rlmaml.core.allocator import keep_freed_memory
from rlmaml.errors import UserError
from rlmaml.rl.api import load_rl_config
from rlmaml.rl.experiment import RLExperiment
from rlmaml.rl.outer_trpo import TRPO
from rlmaml.runs.run_dir import load_latest_checkpoint

# pytorch-maml-rl's seconds per iteration on the same paper configs (all tasks in its curvature),
# measured side by side on a 2-core machine of this kind (issue 18), with OMP_NUM_THREADS=1, its
# fastest setting: with its default threads navigation2d took 8.3-10.3 s and HalfCheetah's two
# sampler workers deadlocked after fork.
REFERENCE_SECONDS = {"navigation2d": 3.46, "halfcheetah-vel": 28.1, "halfcheetah-dir": 28.1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="navigation2d")
    parser.add_argument("--iterations", type=count(1), default=10, help="measured iterations (after one warm-up)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--weights", type=Path, metavar="RUN_DIR", help="start from this run's newest checkpoint")
    args = parser.parse_args()
    keep_freed_memory()  # as the rlmaml command does

    config = load_rl_config(args.config, args.set)
    experiment = RLExperiment(config)
    if args.weights is not None:
        start_from(experiment, args.weights, parser)
    print(
        f"{args.config}: {config.meta_batch_size} tasks x {config.fast_batch_size} episodes x "
        f"{config.horizon} steps, {config.num_steps} inner step(s), first_order={config.first_order}, "
        f"cg_iters={config.cg_iters}, cg_subsample={config.cg_subsample} "
        f"({'exact curvature' if config.cg_subsample == 1.0 else 'subsampled curvature'}), "
        f"torch threads={torch.get_num_threads()}"
    )
    outer = experiment.learner.outer
    split = ("gradient", "curvature", "cg_products", "line_search") if isinstance(outer, TRPO) else ()
    columns = ("total", "time_sampling", "time_adaptation", "time_meta_update", *split)
    measured: dict[str, list[float]] = {c: [] for c in columns}
    for iteration in range(args.iterations + 1):
        start = time.perf_counter()
        stats = experiment.run_iteration(iteration)
        stats["total"] = time.perf_counter() - start
        if isinstance(outer, TRPO):  # a skipped update leaves out the parts it did not reach
            stats.update({part: 0.0 for part in split} | outer.stopwatch.reset())
        print(
            f"iteration {iteration:3d}{' (warm-up)' if iteration == 0 else ''}: "
            + "  ".join(f"{c.removeprefix('time_')} {stats[c]:.3f}s" for c in columns)
            + f"  return {stats['return_before']:.1f} -> {stats['return_after']:.1f}"
        )
        if iteration > 0:
            for c in columns:
                measured[c].append(stats[c])
    medians = {c: statistics.median(v) for c, v in measured.items()}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"median over {args.iterations} iterations: "
        + "  ".join(f"{c.removeprefix('time_')} {medians[c]:.3f}s" for c in columns)
    )
    print(f"peak resident memory: {peak_mib:.0f} MiB")
    if args.config in REFERENCE_SECONDS and config.cg_subsample == 1.0 and args.weights is None:
        ref = REFERENCE_SECONDS[args.config]
        print(
            f"pytorch-maml-rl with OMP_NUM_THREADS=1 (issue 18's figure, not run here): {ref:.2f}s, "
            f"{ref / medians['total']:.1f}x the speed"
        )


def start_from(experiment: RLExperiment, run_dir: Path, parser: argparse.ArgumentParser) -> None:
    """Load the run's newest checkpoint into the experiment (the policy and the outer state)."""
    try:
        checkpoint, tensors, metadata = load_latest_checkpoint(run_dir)
        experiment.restore(tensors, metadata["state"])
    except UserError as error:
        parser.error(f"--weights {run_dir}: {error}")
    print(f"weights from {checkpoint} (iteration {metadata['iterations_done']})")


if __name__ == "__main__":
    main()
