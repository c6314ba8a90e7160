"""`rlmaml baselines` and `rlmaml compare`: train the paper's PPO baselines for a meta-RL
config, then adapt MAML and them on the same new tasks (a table and a figure)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.adapt import add_split
from rlmaml.cli.options import (
    add_checkpoint,
    add_episodes,
    add_overrides,
    add_schedule,
    add_seed,
    config_from_args,
    count,
    image_path,
)
from rlmaml.cli.output import returns_json, write_json
from rlmaml.errors import UserError

# rlmaml.rl.baselines.METHODS, not imported: `rlmaml --help` loads no torch
METHODS = ("random", "pretrained", "oracle")


def add_baselines(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="the meta-RL config to compare against, e.g. navigation2d")
    parser.add_argument("--out", required=True, help="directory of the baselines")
    parser.add_argument(
        "--timesteps", type=count(1), default=1_000_000, help="PPO env steps per trained method (default 1,000,000)"
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--envs", type=count(1), default=8, help="parallel envs of PPO (default 8)")
    add_overrides(parser)
    parser.add_argument("--verbose", action="store_true", help="print PPO's training log")
    parser.set_defaults(run=cmd_baselines)


def add_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a MAML run directory")
    add_checkpoint(parser)
    parser.add_argument("baseline_dirs", nargs="+", help="directories written by `rlmaml baselines`")
    parser.add_argument(
        "--num-tasks", type=count(1), help="new tasks (default 40; with --split, every goal of the split)"
    )
    parser.add_argument("--steps", type=count(0), default=3, help="policy-gradient steps (default 3)")
    add_seed(parser, "the tasks and episodes")
    parser.add_argument("--json", help="write the returns (and success rates) per method and step to this JSON file")
    parser.add_argument(
        "--plot", type=image_path, help="image file of return against gradient steps (default RUN_DIR/compare.png)"
    )
    parser.add_argument(
        "--adapt-oracle", action="store_true", help="adapt the oracle too (by default it is measured unadapted)"
    )
    add_schedule(parser)
    add_episodes(parser)
    add_split(parser)
    parser.set_defaults(run=cmd_compare)


def cmd_baselines(args: argparse.Namespace) -> None:
    from rlmaml.rl.baselines import train_baselines
    from rlmaml.runs.config_types import RLConfig

    config = config_from_args(args)
    if not isinstance(config, RLConfig):
        raise UserError(f"baselines are for meta-RL configs; {args.config} is a supervised config")
    train_baselines(config, Path(args.out), tuple(args.methods), args.timesteps, args.envs, 1 if args.verbose else 0)
    print(f"baselines written to {args.out}")


def cmd_compare(args: argparse.Namespace) -> None:
    from rlmaml.rl.compare import compare, format_table, methods_to_compare
    from rlmaml.rl.evaluation import with_episodes
    from rlmaml.rl.policy_io import load_trained_policy, read_rl_run_config
    from rlmaml.rl.tasks import evaluation_tasks, on_split
    from rlmaml.runs.memory import check_adaptation

    run_config = on_split(with_episodes(read_rl_run_config(Path(args.run_dir)), args.episodes), args.split)
    tasks = evaluation_tasks(run_config, args.num_tasks, args.split)
    num_tasks = tasks if isinstance(tasks, int) else len(tasks)
    check_adaptation(run_config, num_tasks, args.steps)
    config, policy, metadata = load_trained_policy(Path(args.run_dir), args.checkpoint)
    unsplit = methods_to_compare(config, policy, [Path(d) for d in args.baseline_dirs])  # checks the env settings
    methods = {label: (on_split(method, args.split), adapted) for label, (method, adapted) in unsplit.items()}
    results = compare(methods, tasks, args.steps, args.seed, args.lr_schedule, args.adapt_oracle, args.episodes)
    episodes = with_episodes(config, args.episodes).fast_batch_size
    print(
        f"{config.env}: {num_tasks} {'tasks of the ' + args.split + ' split' if args.split else 'new tasks'}, "
        f"{episodes} episodes per step, {args.lr_schedule} step sizes; mean return ± 95% CI"
    )
    print(format_table({label: measured.returns for label, measured in results.items()}))
    successes = {label: m.successes for label, m in results.items() if m.successes is not None}
    if successes:
        print("success rate ± 95% CI (an episode succeeds if any of its steps does)")
        print(format_table(successes, percent=True))
    if args.json:
        report: dict[str, object] = {
            "env": config.env,
            "iterations_done": metadata.get("iterations_done"),  # of the MAML policy
            "num_tasks": num_tasks,
            "steps": args.steps,
            "episodes_per_step": episodes,
            "lr_schedule": args.lr_schedule,
            "seed": args.seed,
            "adapt_oracle": args.adapt_oracle,
            "methods": {label: returns_json(measured.returns) for label, measured in results.items()},
        }
        if successes:
            report |= {
                "split": run_config.env_kwargs.get("split", "train"),
                "successes": {label: returns_json(rates) for label, rates in successes.items()},
            }
        by_family = {label: m.successes_by_family for label, m in results.items() if m.successes_by_family}
        if by_family:
            report["successes_by_family"] = by_family
        write_json(args.json, report)
    from rlmaml.rl.plots import plot_comparison

    figure = args.plot or Path(args.run_dir) / "compare.png"
    plot_comparison(results, config.env, num_tasks, figure)
    print(f"figure written to {figure}")
