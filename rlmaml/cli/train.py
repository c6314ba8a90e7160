"""`rlmaml train`: meta-train from a config into a run directory, alone or under torchrun."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.options import add_overrides, config_from_args, count, set_keys


def add_train(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="a YAML path or the name of a packaged config, e.g. navigation2d, sinusoid")
    parser.add_argument("--out", help="run directory (default runs/NAME-TIMESTAMP)")
    add_overrides(parser)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where the learner runs (sampling stays on the CPU)"
    )
    parser.add_argument(
        "--timeout",
        type=count(1),
        default=300,
        metavar="SECONDS",
        help="under torchrun: how long a process waits for the others before the run stops (default 300)",
    )
    parser.set_defaults(run=cmd_train)


def cmd_train(args: argparse.Namespace) -> None:
    """Under torchrun each process runs this; the processes share the meta-batch."""
    import time

    from rlmaml.runs.config_types import RLConfig
    from rlmaml.runs.distributed import session
    from rlmaml.runs.memory import check_training
    from rlmaml.runs.run_dir import keep_run_settings
    from rlmaml.runs.trainer import Experiment, Trainer

    config = config_from_args(args)
    check_training(config)
    name = Path(args.config).stem
    out = Path(args.out) if args.out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    with session(args.timeout, args.device) as context:
        if args.resume:
            config = keep_run_settings(config, out, set_keys(args), context)
        experiment: Experiment
        if isinstance(config, RLConfig):
            from rlmaml.rl.experiment import RLExperiment

            experiment = RLExperiment(config, context)
        else:
            from rlmaml.supervised.experiment import SupervisedExperiment

            experiment = SupervisedExperiment(config, context)
        trainer = Trainer(config, out, experiment, args.resume, not args.quiet, context)
        trainer.run()
    if context.is_main:
        print(f"run written to {out}" + (f" by {context.world_size} processes" if context.world_size > 1 else ""))
