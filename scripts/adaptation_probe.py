"""Adapt a run's checkpoint to new tasks with any step sizes and episodes per step, and print
per step what explains the returns: the policy's standard deviation, the KL divergence of the
next step, how many episodes ended early (2D navigation: reached the goal box), and the mean
return the paper's code would have reported (see `rllab_style_mean`).

    python scripts/adaptation_probe.py runs/nav --checkpoint 250 --step-sizes 0.1 0.05 0.05
    python scripts/adaptation_probe.py runs/nav --checkpoint 250 --step-sizes 0.1 0.025 0.025 --episodes 40

With --step-sizes 0.1 0.05 0.05 (a config's fast_lr 0.1) the returns are what `rlmaml adapt
--lr-schedule paper` prints for the same checkpoint, tasks, seed and --episodes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rlmaml.rl.episodes import Episodes, masked_task_mean
from rlmaml.rl.evaluation import adapt_and_measure
from rlmaml.rl.objectives import policy_distribution
from rlmaml.rl.policy_io import load_trained_policy

RLLAB_ENVS = 40  # the paper's evaluation stepped batch_size / horizon envs side by side ...
RLLAB_STEPS = 4000  # ... until this many steps of finished episodes were in


def rllab_style_mean(episodes: Episodes, seed: int = 0) -> float:
    """Mean over tasks of the average return rllab's vectorized sampler logs: RLLAB_ENVS envs
    run episodes back to back until the finished ones hold RLLAB_STEPS steps; unfinished
    episodes are dropped, so short (here: successful) episodes count more often than their
    share. Episodes are redrawn from each task's sampled (return, length) pairs."""
    rng = np.random.default_rng(seed)
    returns = episodes.episode_returns().double().numpy()
    lengths = episodes.mask.sum(0).double().numpy()
    means = []
    for task in range(returns.shape[0]):
        clock = np.zeros(RLLAB_ENVS)
        current = rng.integers(0, returns.shape[1], RLLAB_ENVS)
        finished, steps = [], 0.0
        while steps < RLLAB_STEPS:
            ends = clock + lengths[task, current]
            env = int(np.argmin(ends))
            clock[env] = ends[env]
            steps += lengths[task, current[env]]
            finished.append(returns[task, current[env]])
            current[env] = rng.integers(0, returns.shape[1])
        means.append(float(np.mean(finished)))
    return float(np.mean(means))


def step_kl(policy: torch.nn.Module, before: dict, after: dict, episodes: Episodes) -> float:
    """Mean KL(before || after) over the steps of the episodes the step was computed on."""
    with torch.no_grad():
        kl = policy_distribution(policy, before, episodes).kl(policy_distribution(policy, after, episodes))
        return float(masked_task_mean(kl, episodes.mask).mean())


def probe(
    run_dir: Path, checkpoint: int | None, lrs: list[float], num_tasks: int, seed: int, episodes: int | None
) -> dict:
    config, policy, metadata = load_trained_policy(run_dir, checkpoint)
    result = adapt_and_measure(config, policy, num_tasks, len(lrs), seed, lrs, episodes)
    rows = []
    for k, (statistic, batch) in enumerate(zip(result.returns, result.episodes, strict=True)):
        lengths = batch.mask.sum(0)
        params = result.parameters[k]
        rows.append(
            {
                "step": k,
                "mean": statistic.mean,
                "ci95": statistic.ci95,
                "std": params["log_std"].exp().mean(0).tolist() if "log_std" in params else None,
                "kl_of_next_step": step_kl(policy, params, result.parameters[k + 1], batch) if k < len(lrs) else None,
                "ended_early": float((lengths < config.horizon).double().mean()),
                "mean_length": float(lengths.double().mean()),
                "rllab_style_mean": rllab_style_mean(batch, seed),
            }
        )
    return {
        "run_dir": str(run_dir),
        "iterations": metadata.get("iterations_done"),
        "step_sizes": lrs,
        "episodes": episodes or config.fast_batch_size,
        "num_tasks": num_tasks,
        "seed": seed,
        "steps": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--checkpoint", type=int, help="iterations of the checkpoint (default: the latest)")
    parser.add_argument("--step-sizes", type=float, nargs="+", required=True, help="one per policy-gradient step")
    parser.add_argument("--episodes", type=int, help="episodes per task and step (default: fast_batch_size)")
    parser.add_argument("--num-tasks", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if (args.episodes is not None and args.episodes < 1) or args.num_tasks < 1:
        parser.error("--episodes and --num-tasks must be at least 1")
    report = probe(args.run_dir, args.checkpoint, args.step_sizes, args.num_tasks, args.seed, args.episodes)
    print(
        f"{report['run_dir']} after {report['iterations']} iterations: {report['num_tasks']} tasks, "
        f"{report['episodes']} episodes per step, step sizes {report['step_sizes']}, seed {report['seed']}"
    )
    print(f"{'step':>4}  {'return':>15}  {'std':>13}  {'KL next':>8}  {'ended':>6}  {'length':>6}  {'rllab-style':>11}")
    for row in report["steps"]:
        std = "/".join(f"{s:.3f}" for s in row["std"]) if row["std"] else "-"
        kl = f"{row['kl_of_next_step']:.2f}" if row["kl_of_next_step"] is not None else "-"
        print(
            f"{row['step']:>4}  {row['mean']:>8.2f} ± {row['ci95']:<4.2f}  {std:>13}  {kl:>8}  "
            f"{row['ended_early']:>6.2f}  {row['mean_length']:>6.1f}  {row['rllab_style_mean']:>11.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
