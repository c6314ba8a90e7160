"""Train 2D navigation with each meta-gradient estimator and outer optimizer, then compare
the return after one adaptation step on 40 new tasks and draw the training curves.

    python scripts/estimator_comparison.py --out runs/estimators --seeds 1 2 3 --iterations 200
    python scripts/estimator_comparison.py --out runs/estimators --report-only

Each run is `rlmaml train` into OUT/METHOD-sSEED (resumed if it is there already), so the
script can be stopped and started again; then `rlmaml adapt RUN --num-tasks 40 --steps 1`
(the same 40 tasks for every run, seed 0) and `rlmaml plot` of each method's seeds. Prints
one line per method: the mean over seeds of the return after one step and its 95 % CI
over the seeds' means (Student's t: with 3 seeds it is 2.2 times the normal one's width),
the mean meta-update seconds per iteration. Exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from rlmaml.cli import main as rlmaml

# Student's t 97.5 % quantiles by degrees of freedom (a CI over a few seeds)
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}

METHODS = {
    "maml-trpo": ("navigation2d", []),
    "dice-trpo": ("navigation2d", ["estimator=dice"]),
    "lvc-trpo": ("navigation2d", ["estimator=lvc"]),
    "promp": ("promp-navigation2d", []),
}


def train(run: Path, config: str, settings: list[str], iterations: int, seed: int) -> None:
    resume = ["--resume"] if (run / "config.yaml").is_file() else []
    overrides = [*settings, f"iterations={iterations}", f"seed={seed}"]
    if rlmaml(["train", config, "--out", str(run), "--quiet", *resume, "--set", *overrides]) != 0:
        raise SystemExit(f"training {run} failed")


def return_after_one_step(run: Path) -> float:
    report = run / "adapt-1step.json"
    if not report.is_file():
        command = ["adapt", str(run), "--num-tasks", "40", "--steps", "1", "--seed", "0", "--json", str(report)]
        if rlmaml(command) != 0:
            raise SystemExit(f"adapting {run} failed")
    return float(json.loads(report.read_text())["returns"][1]["mean"])


def meta_update_seconds(run: Path) -> float:
    with (run / "progress.csv").open() as f:
        return statistics.median(float(row["time_meta_update"]) for row in csv.DictReader(f))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the runs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--report-only", action="store_true", help="no training: report the runs there")
    args = parser.parse_args(argv)
    for name in args.methods:
        config, settings = METHODS[name]
        runs = [args.out / f"{name}-s{seed}" for seed in args.seeds]
        if not args.report_only:
            for run, seed in zip(runs, args.seeds, strict=True):
                train(run, config, settings, args.iterations, seed)
        runs = [run for run in runs if (run / "progress.csv").is_file()]
        if not runs:
            continue
        after = [return_after_one_step(run) for run in runs]
        mean = float(np.mean(after))
        spread_of_seeds = float(np.std(after, ddof=1)) if len(after) > 1 else 0.0
        ci = T_975.get(len(after) - 1, 1.96) * spread_of_seeds / len(after) ** 0.5
        seconds = statistics.median(meta_update_seconds(run) for run in runs)
        spread = f" ± {ci:.2f} over {len(runs)} seeds" if len(runs) > 1 else " (one seed)"
        seeds = ", ".join(f"{value:.2f}" for value in after)
        print(f"{name:<10} after 1 step {mean:8.2f}{spread} ({seeds}); meta-update {seconds:.2f} s")
        rlmaml(["plot", *map(str, runs), "--out", str(args.out / f"{name}.png")])
    all_runs = [str(args.out / f"{n}-s{s}") for n in args.methods for s in args.seeds]
    present = [run for run in all_runs if (Path(run) / "progress.csv").is_file()]
    if present:
        rlmaml(["plot", *present, "--out", str(args.out / "estimators.png")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
