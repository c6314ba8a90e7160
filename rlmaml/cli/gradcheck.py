"""`rlmaml gradcheck`: a meta-gradient estimator's mean, standard error and variance over
independent meta-batches, against the exact meta-gradient where the package knows it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rlmaml.cli.options import add_checkpoint, add_seed, add_set, count, set_pairs
from rlmaml.cli.output import write_json
from rlmaml.errors import UserError

if TYPE_CHECKING:
    from rlmaml.envs.protocol import Task
    from rlmaml.rl.gradcheck import GradientCheck, ParameterEstimate
    from rlmaml.runs.config_types import RLConfig

ESTIMATOR_NAMES: tuple[Literal["maml", "dice", "lvc"], ...] = ("maml", "dice", "lvc")  # estimators.ESTIMATORS, no torch
SHOWN_ELEMENTS = 5  # a larger parameter tensor is shown as one row of norms


def add_gradcheck(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="a YAML path or a packaged config's name, e.g. gaussian-bandit")
    parser.add_argument(
        "--run", dest="run_dir", metavar="RUN_DIR", help="check at a trained run's parameters instead of a config's"
    )
    add_checkpoint(parser)
    add_set(parser)
    parser.add_argument("--task", nargs="+", metavar="KEY=VALUE", help="every task this one, e.g. goal=1")
    parser.add_argument(
        "--estimator",
        choices=(*ESTIMATOR_NAMES, "all"),
        help="the meta-gradient estimator (default: the config's); all: each in turn",
    )
    parser.add_argument(
        "--reference-batches",
        type=count(2),
        metavar="N",
        help="also compare with dice's mean over N batches of seed + 1 (where no exact value is known)",
    )
    parser.add_argument("--batches", type=count(2), default=1000, help="independent meta-batches (default 1000)")
    add_seed(parser, "the batches' tasks and episodes")
    parser.add_argument("--json", help="write the estimates to this JSON file")
    parser.set_defaults(run=cmd_gradcheck)


def cmd_gradcheck(args: argparse.Namespace) -> None:
    from rlmaml.rl.api import load_rl_config
    from rlmaml.rl.gradcheck import check_gradient
    from rlmaml.rl.gradcompare import compare_estimators
    from rlmaml.rl.policy_io import build_policy, load_trained_policy
    from rlmaml.rl.tasks import check_task, parse_task

    if (args.config is None) == (args.run_dir is None):
        raise UserError("give a config or --run RUN_DIR, not both")
    if args.checkpoint is not None and args.run_dir is None:
        raise UserError("--checkpoint picks a checkpoint of --run RUN_DIR")
    one = args.estimator not in (None, "all")
    overrides = [*set_pairs(args), *([f"estimator={args.estimator}"] if one else [])]
    if args.run_dir:
        run_config, policy, _ = load_trained_policy(Path(args.run_dir), args.checkpoint)
        config = load_rl_config(run_config, overrides)
    else:
        config = load_rl_config(args.config, overrides)
        policy = build_policy(config)
    task = check_task(config, parse_task(args.task)) if args.task else None
    estimators = ESTIMATOR_NAMES if args.estimator == "all" else (config.estimator,)
    if args.reference_batches is None and len(estimators) == 1:
        result = check_gradient(config, policy, args.batches, args.seed, task)
        print_check(config, result, task)
        if args.json:
            write_json(args.json, result.to_json())
        return
    reference_batches = args.reference_batches or args.batches
    comparison = compare_estimators(config, policy, estimators, args.batches, reference_batches, args.seed, task)
    for result in comparison.checks:
        print_check(config, result, task)
        print(f"cosine to the reference (dice, {reference_batches} batches of seed {args.seed + 1}) ", end="")
        print(f"{comparison.cosine_to_reference(result):.6f}")
    if args.json:
        write_json(args.json, comparison.to_json())


def print_check(config: RLConfig, result: GradientCheck, task: Task | None) -> None:
    where = (f"task {task}" if len(str(task)) <= 80 else "one task") if task else f"{config.meta_batch_size} tasks"
    print(
        f"{config.env}: estimator {result.estimator}, {result.batches} batches of {where} x "
        f"{config.fast_batch_size} episodes, {1000 * result.seconds_per_batch:.2f} ms per batch"
    )
    print_estimates(result)


def print_estimates(result: GradientCheck) -> None:
    """One row per element of dJ/dtheta (norms for a large tensor), then the totals."""
    print(f"{'parameter':<24} {'mean':>11} {'stderr':>10} {'exact':>11} {'bias/SE':>8} {'variance':>10}")
    for p in result.parameters:
        if len(p.mean) <= SHOWN_ELEMENTS:
            print_elements(p)
        else:
            print_norms(p)
    cosine = result.cosine_to_exact()
    print(f"total per-batch variance {result.total_variance():.4g}", end="")
    print(f"; cosine to the exact gradient {cosine:.6f}" if cosine is not None else f"; {result.exact_note}")


def print_elements(p: ParameterEstimate) -> None:
    missing: list[float | None] = [None] * len(p.mean)
    exact: list[float | None] = list(p.exact) if p.exact else missing
    bias: list[float | None] = list(p.bias_in_stderrs() or missing)
    for i, (m, s, v) in enumerate(zip(p.mean, p.stderr, p.variance, strict=True)):
        name = p.name if len(p.mean) == 1 else f"{p.name}[{i}]"
        e, b = exact[i], bias[i]
        shown_exact = f"{e:>11.5g}" if e is not None else f"{'-':>11}"
        shown_bias = f"{b:>8.1f}" if b is not None else f"{'-':>8}"
        print(f"{name:<24} {m:>11.5g} {s:>10.3g} {shown_exact} {shown_bias} {v:>10.4g}")


def print_norms(p: ParameterEstimate) -> None:
    """|mean|, the root-mean-square stderr, |exact|, the largest |bias/SE| and the summed variance."""
    norm = sum(m * m for m in p.mean) ** 0.5
    rms = (sum(s * s for s in p.stderr) / len(p.stderr)) ** 0.5
    exact = f"{sum(e * e for e in p.exact) ** 0.5:>11.5g}" if p.exact else f"{'-':>11}"
    bias = p.bias_in_stderrs()
    worst = f"{max(abs(b) for b in bias):>8.1f}" if bias else f"{'-':>8}"
    name = f"|{p.name}| ({len(p.mean)})"
    print(f"{name:<24} {norm:>11.5g} {rms:>10.3g} {exact} {worst} {sum(p.variance):>10.4g}")
