"""Meta-iterations per second on 1 and 2 processes under torchrun, and the scaling ratio.

    python scripts/bench_scaling.py                                  # halfcheetah-vel, 5 iterations each
    python scripts/bench_scaling.py navigation2d --iterations 3 --set meta_batch_size=4 horizon=20

Each run is `torchrun --standalone --nproc_per_node P -m rlmaml train CONFIG`, every process
given its share of the machine's cores (OMP_NUM_THREADS = cores / P; MuJoCo's threads follow
torchrun's LOCAL_WORLD_SIZE); a 1-process run on one thread is measured for reference.
Seconds per meta-iteration are the median of progress.csv's wall_time differences, the
first iteration (a warm-up) not counted.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rlmaml.cli.options import count


def launch_command(config: str, processes: int, iterations: int, overrides: list[str], out: Path) -> list[str]:
    settings = [f"iterations={iterations + 1}", f"checkpoint_every={iterations + 1}", *overrides]
    return [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"),
        *("-m", "rlmaml", "train", config, "--out", str(out), "--quiet", "--set", *settings),
    ]


def seconds_per_iteration(run_dir: Path) -> float:
    with (run_dir / "progress.csv").open() as f:
        wall = [float(row["wall_time"]) for row in csv.DictReader(f)]
    return statistics.median(b - a for a, b in itertools.pairwise(wall))


def measure(config: str, processes: int, threads: int, iterations: int, overrides: list[str], root: Path) -> float:
    out = root / f"p{processes}-t{threads}"
    command = launch_command(config, processes, iterations, overrides, out)
    print(f"OMP_NUM_THREADS={threads} {shlex.join(command)}", flush=True)
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return seconds_per_iteration(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="halfcheetah-vel")
    parser.add_argument("--iterations", type=count(2), default=5, help="measured iterations per run (after a warm-up)")
    parser.add_argument("--processes", type=count(2), default=2, help="the larger run's processes (default 2)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides for every run")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    runs = [(1, cores), (args.processes, max(1, cores // args.processes)), (1, 1)]
    with tempfile.TemporaryDirectory(prefix="bench_scaling-") as root:
        seconds = {run: measure(args.config, *run, args.iterations, args.set, Path(root)) for run in runs}
    print(f"\n{args.config} on {cores} cores, median over {args.iterations} meta-iterations after a warm-up")
    print(f"{'processes':>9}  {'threads each':>12}  {'s/iteration':>11}  {'iterations/s':>12}")
    for (processes, threads), value in seconds.items():
        print(f"{processes:>9}  {threads:>12}  {value:>11.2f}  {1 / value:>12.3f}")
    ratio = seconds[runs[0]] / seconds[runs[1]]
    print(f"scaling ratio, {args.processes} processes against 1 (same cores): {ratio:.2f}x")


if __name__ == "__main__":
    main()
