"""The `rlmaml` command: train, adapt (meta-RL), evaluate (supervised). Bad input exits with
code 2 and one line."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlmaml.errors import UserError


def parse_task(pairs: list[str]) -> dict[str, Any]:
    """`goal=0.3,-0.2 other=1` -> {"goal": [0.3, -0.2], "other": 1.0}."""
    from rlmaml.config import parse_assignment

    task: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_assignment(pair)
        if isinstance(value, str) and "," in value:
            try:
                value = [float(v) for v in value.split(",")]
            except ValueError:
                raise UserError(f"--task {key}: expected comma-separated numbers, got '{value}'") from None
        task[key] = value
    return task


def check_task(config: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """The task if the run's env accepts it; else UserError with the env's reason."""
    import gymnasium as gym

    env = gym.make(config["env"], **config["env_kwargs"])
    try:
        env.unwrapped.set_task(task)
    except ValueError as error:
        raise UserError(f"--task: {error}") from None
    finally:
        env.close()
    return task


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: a confidence interval that cannot be computed is written as null."""
    return value if math.isfinite(value) else None


def cmd_train(args: argparse.Namespace) -> None:
    import time

    from rlmaml.config import is_supervised, load_config
    from rlmaml.trainer import Trainer

    overrides = [pair for group in args.set for pair in group]
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    config = load_config(args.config, overrides)
    name = Path(args.config).stem
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if is_supervised(config):
        from rlmaml.supervised.experiment import SupervisedExperiment

        experiment = SupervisedExperiment(config)
    else:
        from rlmaml.rl_experiment import RLExperiment

        experiment = RLExperiment(config)
    Trainer(config, out, experiment, resume=args.resume, show_progress=not args.quiet).run()
    print(f"run written to {out}")


def cmd_adapt(args: argparse.Namespace) -> None:
    from rlmaml.evaluation import adapt_and_measure
    from rlmaml.run import load_trained_policy

    config, policy, metadata = load_trained_policy(Path(args.run_dir))
    if args.plot and "Navigation2D" not in config["env"]:
        raise UserError(f"--plot draws 2D-navigation trajectories; this run's env is {config['env']}")
    tasks: Any = [check_task(config, parse_task(args.task))] if args.task else args.num_tasks
    result = adapt_and_measure(config, policy, tasks, args.steps, args.seed)
    print(
        f"{config['env']}: {len(result.tasks)} task(s), {config['fast_batch_size']} episodes per step, "
        f"policy after {metadata.get('iterations_done', '?')} meta-iterations"
    )
    print(f"{'step':>4}  {'mean return':>12}  {'95% CI':>8}")
    for r in result.returns:
        print(f"{r.step:>4}  {r.mean:>12.2f}  {'±' + format(r.ci95, '.2f'):>8}")
    if args.json:
        report = {
            "env": config["env"],
            "num_tasks": len(result.tasks),
            "episodes_per_step": config["fast_batch_size"],
            "returns": [{**vars(r), "ci95": finite_or_none(r.ci95)} for r in result.returns],
        }
        Path(args.json).write_text(json.dumps(report, indent=2))
    if args.plot:
        from rlmaml.plots import plot_navigation

        plot_navigation(result, Path(args.plot))


def cmd_evaluate(args: argparse.Namespace) -> None:
    from rlmaml.supervised.evaluation import evaluate_held_out
    from rlmaml.supervised.experiment import load_trained_experiment

    overrides = {key: value for key, value in (("shots", args.shots), ("data_dir", args.data_dir)) if value is not None}
    from rlmaml.run import read_run_config

    if read_run_config(Path(args.run_dir)).get("mode") == "sinusoid" and (args.data_dir or args.split != "test"):
        raise UserError("--data-dir and --split are for classification runs; sinusoid tasks are drawn anew")
    config, experiment, metadata = load_trained_experiment(Path(args.run_dir), overrides)
    if args.plot and config["mode"] != "sinusoid":
        raise UserError(f"--plot draws sinusoid regression; this run is {config['mode']}")
    steps = config["eval_steps"] if args.steps is None else args.steps
    metric = experiment.problem.metric
    scores = evaluate_held_out(experiment, args.num_tasks, steps, args.seed, args.split)
    held_out = "new tasks" if config["mode"] == "sinusoid" else f"tasks of the {args.split} classes"
    print(
        f"{config['mode']}: {args.num_tasks} {held_out}, {config['shots']}-shot, "
        f"model after {metadata.get('iterations_done', '?')} meta-iterations"
    )
    scale, label = (100.0, "accuracy %") if metric == "accuracy" else (1.0, "MSE")
    print(f"{'step':>4}  {label:>10}  {'95% CI':>8}")
    for s in scores:
        print(f"{s.step:>4}  {s.mean * scale:>10.3f}  {'±' + format(s.ci95 * scale, '.3f'):>8}")
    if args.json:
        steps_json = [{**vars(s), "ci95": finite_or_none(s.ci95)} for s in scores]
        Path(args.json).write_text(json.dumps({"metric": metric, "steps": steps_json}, indent=2))
    if args.plot:
        from rlmaml.statistics import EVALUATION_ITERATION
        from rlmaml.supervised.plots import plot_sinusoid

        batch = experiment.problem.tasks.sample(range(4), args.seed, EVALUATION_ITERATION)
        plot_sinusoid(experiment.learner, batch, steps, Path(args.plot))


def count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlmaml", description="Model-Agnostic Meta-Learning for RL and few-shot supervised learning"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="meta-train from a config")
    train.add_argument("config", help="a YAML path or the name of a packaged config, e.g. navigation2d, sinusoid")
    train.add_argument("--out", help="run directory (default runs/NAME-TIMESTAMP)")
    train.add_argument(
        "--set", nargs="+", action="append", default=[], metavar="KEY=VALUE", help="override config keys"
    )
    train.add_argument("--seed", type=count(0), help="shorthand for --set seed=N")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    adapt = commands.add_parser("adapt", help="adapt a meta-trained policy to new tasks")
    adapt.add_argument("run_dir", help="a run directory written by `rlmaml train`")
    adapt.add_argument("--num-tasks", type=count(1), default=40, help="new tasks to sample (default 40)")
    adapt.add_argument("--steps", type=count(0), default=3, help="policy-gradient steps (default 3)")
    adapt.add_argument("--task", nargs="+", metavar="KEY=VALUE", help="one task instead, e.g. goal=0.3,-0.2")
    adapt.add_argument("--seed", type=count(0), default=0, help="seed of the evaluation tasks and episodes")
    adapt.add_argument("--json", help="write the returns per step to this JSON file")
    adapt.add_argument("--plot", help="draw 2D-navigation trajectories to this image file")
    adapt.set_defaults(run=cmd_adapt)

    evaluate = commands.add_parser("evaluate", help="adapt a supervised meta-trained model to held-out tasks")
    evaluate.add_argument("run_dir", help="a run directory written by `rlmaml train` with a supervised config")
    evaluate.add_argument("--num-tasks", type=count(1), default=600, help="held-out tasks (default 600)")
    evaluate.add_argument("--steps", type=count(0), help="inner steps (default: the config's eval_steps)")
    evaluate.add_argument("--shots", type=count(1), help="support examples per task or class (default: the config's)")
    evaluate.add_argument("--split", choices=("test", "val"), default="test", help="classes to draw tasks from")
    evaluate.add_argument("--data-dir", help="where the dataset is, if not the run's data_dir")
    evaluate.add_argument("--seed", type=count(0), default=0, help="seed of the held-out tasks")
    evaluate.add_argument("--json", help='write {"metric", "steps": [{"step", "mean", "ci95"}]} to this file')
    evaluate.add_argument("--plot", help="sinusoid runs: draw the fit before and after adaptation to this image file")
    evaluate.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except UserError as error:
        print(f"rlmaml: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rlmaml: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130
    return 0
