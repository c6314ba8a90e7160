"""The `rlmaml` command: train and plot; adapt, export, baselines, compare and gradcheck (meta-RL);
evaluate (supervised); config; zoo. Bad input exits with code 2 and one line, a failed run with 1.

Each command lives in its own module and imports the library only when it runs, so that
`rlmaml --help` and the supervised commands stay light."""

from __future__ import annotations

import argparse

from rlmaml.cli.adapt import add_adapt, add_export
from rlmaml.cli.baselines import add_baselines, add_compare
from rlmaml.cli.config import add_config
from rlmaml.cli.evaluate import add_evaluate
from rlmaml.cli.gradcheck import add_gradcheck
from rlmaml.cli.options import OneLineParser, run_reporting_errors
from rlmaml.cli.plot import add_plot
from rlmaml.cli.train import add_train
from rlmaml.cli.zoo import add_zoo
from rlmaml.core.allocator import keep_freed_memory


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="rlmaml", description="Model-Agnostic Meta-Learning for RL and few-shot supervised learning"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_train(
        commands.add_parser(
            "train", help="meta-train from a config", epilog="`rlmaml config NAME` explains every key of a config"
        )
    )
    add_adapt(commands.add_parser("adapt", help="adapt a meta-trained policy to new tasks"))
    add_export(commands.add_parser("export", help="adapt to one task and write a Stable-Baselines3 PPO file"))
    add_baselines(commands.add_parser("baselines", help="train the random, pretrained and oracle baselines with PPO"))
    add_compare(commands.add_parser("compare", help="adapt MAML and baselines on the same tasks; table and figure"))
    add_plot(commands.add_parser("plot", help="training curves of one or more runs (several seeds: mean and band)"))
    add_evaluate(commands.add_parser("evaluate", help="adapt a supervised meta-trained model to held-out tasks"))
    add_gradcheck(
        commands.add_parser("gradcheck", help="a meta-gradient estimator's bias and variance over many meta-batches")
    )
    add_config(commands.add_parser("config", help="every key of a config: its value, meaning, type, range and default"))
    add_zoo(commands.add_parser("zoo", help="list the zoo's meta-trained entries against the paper's numbers"))
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    keep_freed_memory()
    return run_reporting_errors(arguments)
