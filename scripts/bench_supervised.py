"""Meta-iterations per second of supervised MAML: the meta-batch adapted in one vmapped
graph against a Python loop over its tasks, on sinusoid regression and Omniglot 5-way
1-shot at the paper's settings (meta-batch 25 and 32, second-order, one inner step).

    python scripts/bench_supervised.py
    python scripts/bench_supervised.py --iterations 30 --threads 1

Each iteration samples the tasks, adapts, and takes the Adam step. Batched and looped
iterations alternate, so both see the same machine load; the first of each is a warm-up.
Prints medians, and the hours 60,000 Omniglot iterations would take at that speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from rlmaml.core.allocator import keep_freed_memory
from rlmaml.runs.config import load_config, typed_config
from rlmaml.runs.config_types import ClassificationConfig, SinusoidConfig
from rlmaml.supervised.experiment import SupervisedExperiment

SHARED_OMNIGLOT = Path(__file__).resolve().parents[2] / "shared/data/omniglot"
PAPER_ITERATIONS = 60_000


def seconds_per_iteration(config: SinusoidConfig | ClassificationConfig, iterations: int) -> tuple[float, float]:
    """Median seconds of a batched and of a looped meta-iteration."""
    batched, looped = SupervisedExperiment(config), SupervisedExperiment(config)
    times: dict[bool, list[float]] = {False: [], True: []}
    for iteration in range(iterations + 1):
        for per_task_loop, experiment in ((False, batched), (True, looped)):
            start = time.perf_counter()
            experiment.run_iteration(iteration, per_task_loop=per_task_loop)
            if iteration > 0:
                times[per_task_loop].append(time.perf_counter() - start)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="measured iterations of each kind (after a warm-up)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--data-dir", default=str(SHARED_OMNIGLOT), help="Omniglot archives")
    args = parser.parse_args()
    keep_freed_memory()  # as the rlmaml command does
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"load average before: {os.getloadavg()[0]:.2f}, {args.iterations} measured iterations of each kind"
    )
    print(f"{'config':<15} {'tasks':>5} {'batched it/s':>13} {'loop it/s':>10} {'speed-up':>9}")
    for name, overrides in (("sinusoid", []), ("omniglot-5w1s", [f"data_dir={args.data_dir}"])):
        config = typed_config(load_config(name, overrides))
        assert isinstance(config, (SinusoidConfig, ClassificationConfig))
        batched, looped = seconds_per_iteration(config, args.iterations)
        print(
            f"{name:<15} {config.meta_batch_size:>5} {1 / batched:>13.1f} {1 / looped:>10.1f} {looped / batched:>8.2f}x"
        )
        if name == "omniglot-5w1s":
            hours = PAPER_ITERATIONS * batched / 3600
            print(f"omniglot-5w1s: {PAPER_ITERATIONS:,} batched iterations at this speed: {hours:.1f} h")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
