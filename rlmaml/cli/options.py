"""What every command shares: the argparse types and options declared once, the one-line
usage errors, and how the library's errors reach the user (their settings said as flags,
one line, an exit code)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rlmaml.errors import RunFailed, Setting, Stopped, UserError

if TYPE_CHECKING:  # the CLI imports the library when a command runs
    from rlmaml.runs.config_types import Config

IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg")

# How the user gives each setting a library error can point at.
FLAGS = {
    Setting.RUN_DIR: "--out",
    Setting.RESUME: "--resume",
    Setting.CHECKPOINT: "--checkpoint",
    Setting.DEVICE: "--device",
    Setting.TIMEOUT: "--timeout",
    Setting.OVERRIDES: "--set",
    Setting.DATA_DIR: "train: --set data_dir=DIR; evaluate: --data-dir DIR",
    Setting.TASK: "--task",
    Setting.ZOO_DIR: "--dir",
    Setting.NUM_TASKS: "--num-tasks",
    Setting.STEPS: "--steps",
    Setting.TIMESTEPS: "--timesteps",
    Setting.VIDEO: "--video",
}


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line with exit code 2, like every other bad input (argparse would
    print the whole usage first); subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"rlmaml: error: {message} (usage: {self.prog} --help)\n")


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


def image_path(text: str) -> Path:
    """An argparse type: a figure's path, its format checked before any work is done."""
    path = Path(text)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"'{text}' is not an image file name: end it in {', '.join(IMAGE_SUFFIXES)}")
    return path


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """--set and --seed: changes to the config a command trains from."""
    add_set(parser)
    parser.add_argument("--seed", type=count(0), help="shorthand for --set seed=N")


def add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", nargs="+", action="append", default=[], metavar="KEY=VALUE", help="override config keys"
    )


def set_pairs(args: argparse.Namespace) -> list[str]:
    """The key=value pairs given with --set, in order."""
    return [pair for group in args.set for pair in group]


def set_keys(args: argparse.Namespace) -> set[str]:
    """The config keys given with --set."""
    from rlmaml.runs.config import parse_assignment

    return {parse_assignment(pair)[0] for pair in set_pairs(args)}


def config_from_args(args: argparse.Namespace) -> Config:
    """The config named on the command line with its --set and --seed overrides, checked
    (the overrides are applied to the file's mapping, which is then checked as a whole)."""
    from rlmaml.runs.config import load_config, typed_config

    overrides = set_pairs(args)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    return typed_config(load_config(args.config, overrides))


def add_seed(parser: argparse.ArgumentParser, of_what: str) -> None:
    """--seed of a command that draws tasks or episodes to measure a trained run on."""
    parser.add_argument("--seed", type=count(0), default=0, help=f"seed of {of_what}")


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
        help="step sizes: fast_lr at every step (training), or fast_lr then fast_lr/2 (the paper's evaluation; "
        "fast_lr/100 for AntDir, as its original test script)",
    )


def add_episodes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--episodes",
        type=count(1),
        metavar="N",
        help="episodes per task and step (default: the run's fast_batch_size; the paper's evaluation "
        "sampled 4000 env steps a step: 40 for navigation2d, 20 for the locomotion configs)",
    )


def flag(setting: Setting) -> str:
    """A setting as the command line gives it."""
    return FLAGS[setting]


def run_reporting_errors(args: argparse.Namespace) -> int:
    """Run the parsed command; the exit code, with an error said on one line of stderr."""
    try:
        args.run(args)
    except (UserError, RunFailed) as error:
        print(f"rlmaml: error: {error.worded(flag)}", file=sys.stderr)
        return 2 if isinstance(error, UserError) else 1
    except Stopped as stop:
        resume = f"`rlmaml train ... {flag(Setting.RUN_DIR)} {stop.run_dir} {flag(Setting.RESUME)}`"
        print(f"rlmaml: {stop.worded(flag)}: continue with {resume}", file=sys.stderr)
        return 128 + stop.signum
    except BrokenPipeError:  # the reader left (`rlmaml config NAME | head`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush must not fail
        return 128 + signal.SIGPIPE
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
