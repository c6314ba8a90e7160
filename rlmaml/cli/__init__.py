"""The `rlmaml` command: train and plot; adapt, export, baselines and compare (meta-RL);
evaluate (supervised). Bad input exits with code 2 and one line, a failed run with 1."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from rlmaml.errors import RunFailed, Stopped, UserError
from rlmaml.core.statistics import StepStatistic


def parse_task(pairs: list[str]) -> dict[str, Any]:
    """`goal=0.3,-0.2 other=1` -> {"goal": [0.3, -0.2], "other": 1.0}."""
    from rlmaml.runs.config import parse_assignment

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
    from rlmaml.rl.environments import make_env

    env = make_env(config)
    try:
        env.unwrapped.set_task(task)
    except ValueError as error:
        raise UserError(f"--task: {error}") from None
    finally:
        env.close()
    return task


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg")


def image_path(text: str) -> Path:
    """An argparse type: a figure's path, its format checked before any work is done."""
    path = Path(text)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"'{text}' is not an image file name: end it in {', '.join(IMAGE_SUFFIXES)}")
    return path


def write_json(path: str, report: dict[str, Any]) -> None:
    """The report at `path`, its folder created, written whole or not at all."""
    from rlmaml.runs.checkpoint import atomic_write

    text = json.dumps(report, indent=2)
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The config named on the command line with its --set and --seed overrides."""
    from rlmaml.runs.config import load_config

    overrides = set_pairs(args)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    return load_config(args.config, overrides)


def set_pairs(args: argparse.Namespace) -> list[str]:
    """The key=value pairs given with --set, in order."""
    return [pair for group in args.set for pair in group]


def set_keys(args: argparse.Namespace) -> set[str]:
    """The config keys given with --set."""
    from rlmaml.runs.config import parse_assignment

    return {parse_assignment(pair)[0] for pair in set_pairs(args)}


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: a value that is not finite is written as null."""
    return value if math.isfinite(value) else None


def cmd_train(args: argparse.Namespace) -> None:
    """Under torchrun each process runs this; the processes share the meta-batch."""
    import time

    from rlmaml.runs.config import typed_config
    from rlmaml.runs.config_types import SupervisedConfig
    from rlmaml.runs.distributed import session
    from rlmaml.runs.memory import check_training
    from rlmaml.runs.run_dir import keep_run_settings
    from rlmaml.runs.trainer import Trainer

    config = config_from_args(args)
    check_training(config)
    name = Path(args.config).stem
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with session(args.timeout, args.device) as context:
        if args.resume:
            config = keep_run_settings(config, out, set_keys(args), context)
        run_config = typed_config(config)
        if isinstance(run_config, SupervisedConfig):
            from rlmaml.supervised.experiment import SupervisedExperiment

            experiment = SupervisedExperiment(run_config, context)
        else:
            from rlmaml.rl.experiment import RLExperiment

            experiment = RLExperiment(config, context)
        trainer = Trainer(run_config, out, experiment, args.resume, not args.quiet, context)
        trainer.run()
    if context.is_main:
        print(f"run written to {out}" + (f" by {context.world_size} processes" if context.world_size > 1 else ""))


def print_returns(returns: list[StepStatistic]) -> None:
    print(f"{'step':>4}  {'mean return':>12}  {'95% CI':>8}")
    for r in returns:
        print(f"{r.step:>4}  {r.mean:>12.2f}  {'±' + format(r.ci95, '.2f'):>8}")


def returns_json(returns: list[StepStatistic]) -> list[dict[str, Any]]:
    return [{**vars(r), "ci95": finite_or_none(r.ci95)} for r in returns]


def cmd_adapt(args: argparse.Namespace) -> None:
    if args.video:
        from rlmaml.rl.video import choose_headless_backend

        choose_headless_backend()  # before MuJoCo is imported
    from rlmaml.rl.evaluation import adapt_and_measure, with_episodes
    from rlmaml.runs.memory import check_adaptation
    from rlmaml.runs.run_dir import load_trained_policy, read_run_config

    run_config = with_episodes(read_run_config(Path(args.run_dir)), args.episodes)
    check_adaptation(run_config, 1 if args.task else args.num_tasks, args.steps)
    config, policy, metadata = load_trained_policy(Path(args.run_dir), args.checkpoint)
    config = with_episodes(config, args.episodes)
    if args.plot and "Navigation2D" not in config["env"]:
        raise UserError(f"--plot draws 2D-navigation trajectories; this run's env is {config['env']}")
    if args.video:
        if "Navigation2D" in config["env"]:
            raise UserError("--video renders MuJoCo envs; for 2D navigation draw the trajectories with --plot")
        from rlmaml.rl.video import check_rendering

        check_rendering(config)
    tasks: Any = [check_task(config, parse_task(args.task))] if args.task else args.num_tasks
    result = adapt_and_measure(config, policy, tasks, args.steps, args.seed, args.lr_schedule)
    print(
        f"{config['env']}: {len(result.tasks)} task(s), {config['fast_batch_size']} episodes per step, "
        f"{args.lr_schedule} step sizes, policy after {metadata.get('iterations_done', '?')} meta-iterations"
    )
    print_returns(result.returns)
    if args.json:
        report = {
            "env": config["env"],
            "num_tasks": len(result.tasks),
            "episodes_per_step": config["fast_batch_size"],
            "lr_schedule": args.lr_schedule,
            "returns": returns_json(result.returns),
        }
        write_json(args.json, report)
    if args.plot:
        from rlmaml.runs.plots import plot_navigation

        plot_navigation(result, Path(args.plot))
    if args.video:
        from rlmaml.rl.video import write_adaptation_videos

        before, after = ({name: p[0] for name, p in result.parameters[k].items()} for k in (0, -1))  # task 0
        paths = write_adaptation_videos(
            config, policy, before, after, result.tasks[0], args.steps, Path(args.video), args.seed
        )
        print(f"videos of task {result.tasks[0]}: {', '.join(map(str, paths))}")


def cmd_export(args: argparse.Namespace) -> None:
    from rlmaml.rl.evaluation import adapt_and_measure, with_episodes
    from rlmaml.rl.export import save_atomically, to_ppo
    from rlmaml.runs.memory import check_adaptation
    from rlmaml.runs.run_dir import load_trained_policy, read_run_config

    out = Path(args.out)
    if out.suffix != ".zip":
        raise UserError(f"--out {out}: Stable-Baselines3 files end in .zip; give a path like policy.zip")
    check_adaptation(with_episodes(read_run_config(Path(args.run_dir)), args.episodes), 1, args.steps)
    config, policy, _ = load_trained_policy(Path(args.run_dir), args.checkpoint)
    task = check_task(config, parse_task(args.task))
    result = adapt_and_measure(config, policy, [task], args.steps, args.seed, args.lr_schedule, args.episodes)
    print_returns(result.returns)
    adapted = {name: p[0] for name, p in result.parameters[-1].items()}
    save_atomically(to_ppo(config, policy, adapted), out)
    print(
        f"wrote {out}: PPO.load('{out}') acts in {config['env']} (horizon {config['horizon']}) "
        f"after env.unwrapped.set_task({task})"
    )


def cmd_baselines(args: argparse.Namespace) -> None:
    from rlmaml.rl.baselines import train_baselines
    from rlmaml.runs.config import is_supervised

    config = config_from_args(args)
    if is_supervised(config):
        raise UserError(f"baselines are for meta-RL configs; {args.config} is a supervised config")
    train_baselines(config, Path(args.out), tuple(args.methods), args.timesteps, args.envs, 1 if args.verbose else 0)
    print(f"baselines written to {args.out}")


def cmd_compare(args: argparse.Namespace) -> None:
    from rlmaml.rl.compare import compare, format_table, methods_to_compare
    from rlmaml.rl.evaluation import with_episodes
    from rlmaml.runs.memory import check_adaptation
    from rlmaml.runs.run_dir import load_trained_policy, read_run_config

    check_adaptation(with_episodes(read_run_config(Path(args.run_dir)), args.episodes), args.num_tasks, args.steps)
    config, policy, _ = load_trained_policy(Path(args.run_dir), args.checkpoint)
    methods = methods_to_compare(config, policy, [Path(d) for d in args.baseline_dirs])
    results = compare(
        methods, args.num_tasks, args.steps, args.seed, args.lr_schedule, args.adapt_oracle, args.episodes
    )
    episodes = with_episodes(config, args.episodes)["fast_batch_size"]
    print(
        f"{config['env']}: {args.num_tasks} new tasks, {episodes} episodes per step, "
        f"{args.lr_schedule} step sizes; mean return ± 95% CI"
    )
    print(format_table(results))
    if args.json:
        report = {
            "env": config["env"],
            "num_tasks": args.num_tasks,
            "lr_schedule": args.lr_schedule,
            "methods": {label: returns_json(returns) for label, returns in results.items()},
        }
        write_json(args.json, report)
    from rlmaml.runs.plots import plot_comparison

    figure = args.plot or Path(args.run_dir) / "compare.png"
    plot_comparison(results, config["env"], args.num_tasks, figure)
    print(f"figure written to {figure}")


def cmd_plot(args: argparse.Namespace) -> None:
    from rlmaml.runs.plots import META_RL_PANELS, plot_training_curves, supervised_panels

    kind, groups = group_runs([Path(d) for d in args.run_dirs])
    if kind == META_RL:
        plot_training_curves(groups, args.out, META_RL_PANELS, args.window or 1)
    else:
        plot_training_curves(groups, args.out, supervised_panels(kind == "classification"), args.window)
    print(f"wrote {args.out}")


META_RL = "meta-RL"  # the kind of a run without a supervised `mode`


def run_kind(config: dict[str, Any]) -> str:
    """What a run's progress.csv holds: meta-RL returns, sinusoid losses, or classification
    losses and accuracies."""
    from rlmaml.runs.config import is_supervised

    return config["mode"] if is_supervised(config) else META_RL


def group_runs(run_dirs: list[Path]) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The runs' kind and {label: progress of each run}: runs whose configs differ only in
    seed and length form one group. All runs must be of one kind, as they share the axes."""
    from rlmaml.runs.plots import read_progress
    from rlmaml.runs.run_dir import read_run_config

    groups: dict[str, list[dict[str, Any]]] = {}
    configs: dict[str, dict[str, Any]] = {}
    run_configs = [read_run_config(run_dir) for run_dir in run_dirs]
    kinds = [run_kind(config) for config in run_configs]
    for run_dir, kind in zip(run_dirs, kinds):
        if kind != kinds[0]:
            raise UserError(
                f"{run_dir} is a {kind} run but {run_dirs[0]} is a {kinds[0]} run; plot runs of one kind together"
            )
    for run_dir, config in zip(run_dirs, run_configs):
        progress = read_progress(run_dir) if (run_dir / "progress.csv").is_file() else {}
        if not progress:
            raise UserError(f"{run_dir} has no progress.csv rows yet")
        same_but_seed = {k: v for k, v in config.items() if k not in ("seed", "iterations", "checkpoint_every")}
        key = json.dumps(same_but_seed, sort_keys=True)
        configs[key] = same_but_seed
        groups.setdefault(key, []).append(progress)
    labels = group_labels(list(configs.values()))
    return kinds[0], {label: groups[key] for label, key in zip(labels, configs)}


def task_name(config: dict[str, Any]) -> str:
    """A run's problem in a few words: the env, the sinusoid, or the dataset with ways and shots."""
    if run_kind(config) == META_RL:
        return config["env"].removeprefix("rlmaml/")
    if config["mode"] == "classification":
        return f"{config['dataset']} {config['ways']}-way {config['shots']}-shot"
    return config["mode"]


def group_labels(configs: list[dict[str, Any]]) -> list[str]:
    """Each group's problem name, plus the config keys on which it differs from groups of the same problem."""
    labels = []
    for config in configs:
        same_task = [other for other in configs if task_name(other) == task_name(config)]
        differing = [key for key in config if any(other[key] != config[key] for other in same_task)]
        labels.append(" ".join([task_name(config), *(f"{k}={config[k]}" for k in differing)]))
    return labels


def cmd_evaluate(args: argparse.Namespace) -> None:
    from rlmaml.runs.memory import check_evaluation
    from rlmaml.runs.run_dir import read_run_config
    from rlmaml.supervised.evaluation import evaluate_held_out
    from rlmaml.supervised.experiment import load_trained_experiment

    overrides = {key: value for key, value in (("shots", args.shots), ("data_dir", args.data_dir)) if value is not None}
    saved = read_run_config(Path(args.run_dir))
    if run_kind(saved) == "sinusoid" and (args.data_dir or args.split != "test"):
        raise UserError("--data-dir and --split are for classification runs; sinusoid tasks are drawn anew")
    check_evaluation({**saved, **overrides}, args.num_tasks, args.steps)
    config, experiment, metadata = load_trained_experiment(Path(args.run_dir), overrides, args.checkpoint)
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
    print(f"{'step':>4}  {label:>10}  {'95% CI':>8}  {'median':>10}")
    for s in scores:
        ci = "±" + format(s.ci95 * scale, ".3f")
        print(f"{s.step:>4}  {s.mean * scale:>10.3f}  {ci:>8}  {s.median * scale:>10.3f}")
    diverged = [s for s in scores if s.diverged]
    if diverged:
        last, first = diverged[-1], diverged[0]
        print(
            f"the score is not finite on {last.diverged} of {args.num_tasks} tasks by step {last.step} "
            f"(from step {first.step}): the inner steps diverge there; the median is robust to it"
        )
    if args.json:
        steps_json = [
            {**vars(s), **{key: finite_or_none(getattr(s, key)) for key in ("mean", "ci95", "median")}} for s in scores
        ]
        write_json(args.json, {"metric": metric, "steps": steps_json})
    if args.plot:
        from rlmaml.core.statistics import EVALUATION_ITERATION
        from rlmaml.supervised.plots import plot_sinusoid

        batch = experiment.problem.tasks.sample(range(4), args.seed, EVALUATION_ITERATION)
        plot_sinusoid(experiment.learner, batch, steps, args.plot)


def cmd_config(args: argparse.Namespace) -> None:
    from rlmaml.runs.config import load_config, typed_config
    from rlmaml.runs.config_help import render_config

    print(render_config(args.config, typed_config(load_config(args.config, set_pairs(args)))))


def cmd_zoo(args: argparse.Namespace) -> None:
    from rlmaml.zoo.entries import describe, listing, zoo_entries

    entries = zoo_entries(Path(args.dir))
    print(listing(entries, Path(args.dir)))
    if args.json:
        write_json(args.json, {"zoo": str(args.dir), "entries": [describe(entry) for entry in entries]})


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


def add_checkpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        type=count(0),
        metavar="N",
        help="use the checkpoint saved after N iterations (default: the latest)",
    )


def add_schedule(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lr-schedule",
        choices=("training", "paper"),
        default="training",
        help="step sizes: fast_lr at every step (training), or fast_lr then fast_lr/2 (the paper's evaluation)",
    )


def add_episodes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--episodes",
        type=count(1),
        metavar="N",
        help="episodes per task and step (default: the run's fast_batch_size; the paper's evaluation "
        "sampled 4000 env steps a step: 40 for navigation2d, 20 for the locomotion configs)",
    )


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line with exit code 2, like every other bad input (argparse would
    print the whole usage first); subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"rlmaml: error: {message} (usage: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="rlmaml", description="Model-Agnostic Meta-Learning for RL and few-shot supervised learning"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="meta-train from a config", epilog="`rlmaml config NAME` explains every key of a config"
    )
    train.add_argument("config", help="a YAML path or the name of a packaged config, e.g. navigation2d, sinusoid")
    train.add_argument("--out", help="run directory (default runs/NAME-TIMESTAMP)")
    train.add_argument(
        "--set", nargs="+", action="append", default=[], metavar="KEY=VALUE", help="override config keys"
    )
    train.add_argument("--seed", type=count(0), help="shorthand for --set seed=N")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where the learner runs (sampling stays on the CPU)"
    )
    train.add_argument(
        "--timeout",
        type=count(1),
        default=300,
        metavar="SECONDS",
        help="under torchrun: how long a process waits for the others before the run stops (default 300)",
    )
    train.set_defaults(run=cmd_train)

    adapt = commands.add_parser("adapt", help="adapt a meta-trained policy to new tasks")
    adapt.add_argument("run_dir", help="a run directory written by `rlmaml train`")
    add_checkpoint(adapt)
    adapt.add_argument("--num-tasks", type=count(1), default=40, help="new tasks to sample (default 40)")
    adapt.add_argument("--steps", type=count(0), default=3, help="policy-gradient steps (default 3)")
    adapt.add_argument("--task", nargs="+", metavar="KEY=VALUE", help="one task instead, e.g. goal=0.3,-0.2")
    adapt.add_argument("--seed", type=count(0), default=0, help="seed of the evaluation tasks and episodes")
    adapt.add_argument("--json", help="write the returns per step to this JSON file")
    adapt.add_argument("--plot", type=image_path, help="draw 2D-navigation trajectories to this image file")
    add_schedule(adapt)
    add_episodes(adapt)
    adapt.add_argument("--video", metavar="DIR", help="MuJoCo envs: write before.gif and after.gif of the first task")
    adapt.set_defaults(run=cmd_adapt)

    export = commands.add_parser("export", help="adapt to one task and write a Stable-Baselines3 PPO file")
    export.add_argument("run_dir", help="a run directory written by `rlmaml train`")
    add_checkpoint(export)
    export.add_argument("--task", nargs="+", required=True, metavar="KEY=VALUE", help="the task, e.g. direction=-1")
    export.add_argument("--steps", type=count(0), default=1, help="policy-gradient steps (default 1)")
    export.add_argument("--out", required=True, help="the .zip file to write")
    export.add_argument("--seed", type=count(0), default=0, help="seed of the adaptation episodes")
    add_schedule(export)
    add_episodes(export)
    export.set_defaults(run=cmd_export)

    baselines = commands.add_parser("baselines", help="train the random, pretrained and oracle baselines with PPO")
    baselines.add_argument("config", help="the meta-RL config to compare against, e.g. navigation2d")
    baselines.add_argument("--out", required=True, help="directory of the baselines")
    baselines.add_argument(
        "--timesteps", type=count(1), default=1_000_000, help="PPO env steps per trained method (default 1,000,000)"
    )
    baselines.add_argument(
        "--methods", nargs="+", choices=("random", "pretrained", "oracle"), default=["random", "pretrained", "oracle"]
    )
    baselines.add_argument("--envs", type=count(1), default=8, help="parallel envs of PPO (default 8)")
    baselines.add_argument(
        "--set", nargs="+", action="append", default=[], metavar="KEY=VALUE", help="override config keys"
    )
    baselines.add_argument("--seed", type=count(0), help="shorthand for --set seed=N")
    baselines.add_argument("--verbose", action="store_true", help="print PPO's training log")
    baselines.set_defaults(run=cmd_baselines)

    compare = commands.add_parser("compare", help="adapt MAML and baselines on the same tasks; table and figure")
    compare.add_argument("run_dir", help="a MAML run directory")
    add_checkpoint(compare)
    compare.add_argument("baseline_dirs", nargs="+", help="directories written by `rlmaml baselines`")
    compare.add_argument("--num-tasks", type=count(1), default=40, help="new tasks (default 40)")
    compare.add_argument("--steps", type=count(0), default=3, help="policy-gradient steps (default 3)")
    compare.add_argument("--seed", type=count(0), default=0, help="seed of the tasks and episodes")
    compare.add_argument("--json", help="write the returns per method and step to this JSON file")
    compare.add_argument(
        "--plot", type=image_path, help="image file of return against gradient steps (default RUN_DIR/compare.png)"
    )
    compare.add_argument(
        "--adapt-oracle", action="store_true", help="adapt the oracle too (by default it is measured unadapted)"
    )
    add_schedule(compare)
    add_episodes(compare)
    compare.set_defaults(run=cmd_compare)

    plot = commands.add_parser("plot", help="training curves of one or more runs (several seeds: mean and band)")
    plot.add_argument("run_dirs", nargs="+", help="run directories written by `rlmaml train`")
    plot.add_argument("--out", type=image_path, required=True, help="image file to write, e.g. curves.png")
    plot.add_argument(
        "--window",
        type=count(1),
        help="trailing means over this many iterations (default: 1 for meta-RL, 1/50 of the shortest run otherwise)",
    )
    plot.set_defaults(run=cmd_plot)

    evaluate = commands.add_parser("evaluate", help="adapt a supervised meta-trained model to held-out tasks")
    evaluate.add_argument("run_dir", help="a run directory written by `rlmaml train` with a supervised config")
    evaluate.add_argument("--num-tasks", type=count(1), default=600, help="held-out tasks (default 600)")
    evaluate.add_argument("--steps", type=count(0), help="inner steps (default: the config's eval_steps)")
    evaluate.add_argument("--shots", type=count(1), help="support examples per task or class (default: the config's)")
    evaluate.add_argument("--split", choices=("test", "val"), default="test", help="classes to draw tasks from")
    evaluate.add_argument("--data-dir", help="where the dataset is, if not the run's data_dir")
    evaluate.add_argument("--seed", type=count(0), default=0, help="seed of the held-out tasks")
    evaluate.add_argument("--json", help='write {"metric", "steps": [{"step", "mean", "ci95"}]} to this file')
    evaluate.add_argument(
        "--plot", type=image_path, help="sinusoid runs: draw the fit before and after adaptation to this image file"
    )
    add_checkpoint(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)

    config = commands.add_parser("config", help="every key of a config: its value, meaning, type, range and default")
    config.add_argument("config", help="a YAML path or the name of a packaged config, e.g. navigation2d, sinusoid")
    config.add_argument(
        "--set", nargs="+", action="append", default=[], metavar="KEY=VALUE", help="override config keys"
    )
    config.set_defaults(run=cmd_config)

    zoo = commands.add_parser("zoo", help="list the zoo's meta-trained entries against the paper's numbers")
    zoo.add_argument("--dir", default="zoo", help="the zoo folder (default: zoo/ of the current directory)")
    zoo.add_argument("--json", help="write the listing to this JSON file")
    zoo.set_defaults(run=cmd_zoo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (UserError, RunFailed) as error:
        print(f"rlmaml: error: {error}", file=sys.stderr)
        return 2 if isinstance(error, UserError) else 1
    except Stopped as stop:
        print(f"rlmaml: {stop}", file=sys.stderr)
        return 128 + stop.signum
    except OSError as error:  # the disk, not the input: full, gone, or not ours to write
        where = f": {error.filename}" if error.filename else ""
        print(f"rlmaml: error: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "rlmaml: interrupted; files are written whole or not at all (training keeps its last checkpoint)",
            file=sys.stderr,
        )
        return 130
    return 0
