"""`rlmaml evaluate`: adapt a supervised meta-trained model to held-out tasks and report its
loss or accuracy after each inner step."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.options import add_checkpoint, add_seed, count, image_path
from rlmaml.cli.output import write_json
from rlmaml.errors import UserError


def add_evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by `rlmaml train` with a supervised config")
    parser.add_argument("--num-tasks", type=count(1), default=600, help="held-out tasks (default 600)")
    parser.add_argument("--steps", type=count(0), help="inner steps (default: the config's eval_steps)")
    parser.add_argument("--shots", type=count(1), help="support examples per task or class (default: the config's)")
    parser.add_argument("--split", choices=("test", "val"), default="test", help="classes to draw tasks from")
    parser.add_argument("--data-dir", help="where the dataset is, if not the run's data_dir")
    add_seed(parser, "the held-out tasks")
    parser.add_argument("--json", help='write {"metric", "steps": [{"step", "mean", "ci95"}]} to this file')
    parser.add_argument(
        "--plot", type=image_path, help="sinusoid runs: draw the fit before and after adaptation to this image file"
    )
    add_checkpoint(parser)
    parser.set_defaults(run=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from rlmaml.core.statistics import finite_or_none
    from rlmaml.runs.config import typed_config
    from rlmaml.runs.config_types import SinusoidConfig, SupervisedConfig
    from rlmaml.runs.memory import check_evaluation
    from rlmaml.runs.run_dir import read_run_config
    from rlmaml.supervised.evaluation import evaluate_held_out
    from rlmaml.supervised.experiment import load_trained_experiment

    overrides = {key: value for key, value in (("shots", args.shots), ("data_dir", args.data_dir)) if value is not None}
    saved = typed_config(read_run_config(Path(args.run_dir)))
    if isinstance(saved, SinusoidConfig) and (args.data_dir or args.split != "test"):
        raise UserError("--data-dir and --split are for classification runs; sinusoid tasks are drawn anew")
    if isinstance(saved, SupervisedConfig):  # load_trained_experiment refuses a meta-RL run
        check_evaluation(replace(saved, **overrides), args.num_tasks, args.steps)
    _, experiment, metadata = load_trained_experiment(Path(args.run_dir), overrides, args.checkpoint)
    config = experiment.config
    if args.plot and not isinstance(config, SinusoidConfig):
        raise UserError(f"--plot draws sinusoid regression; this run is {config.mode}")
    steps = config.eval_steps if args.steps is None else args.steps
    metric = experiment.problem.metric
    scores = evaluate_held_out(experiment, args.num_tasks, steps, args.seed, args.split)
    held_out = "new tasks" if isinstance(config, SinusoidConfig) else f"tasks of the {args.split} classes"
    print(
        f"{config.mode}: {args.num_tasks} {held_out}, {config.shots}-shot, "
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
        from rlmaml.core.seeding import EVALUATION_ITERATION
        from rlmaml.supervised.plots import plot_sinusoid
        from rlmaml.supervised.sinusoid import SinusoidBatch

        batch = experiment.problem.tasks.sample(range(4), args.seed, EVALUATION_ITERATION)
        assert isinstance(batch, SinusoidBatch)  # --plot is refused above for any other run
        plot_sinusoid(experiment.learner, batch, steps, args.plot)
