"""`rlmaml config NAME`: what each key of a config means, its type, range and default, and
its value with the same overrides `rlmaml train` would apply."""

from __future__ import annotations

import argparse

from rlmaml.cli.options import add_overrides, config_from_args


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="a YAML path or the name of a packaged config, e.g. navigation2d, sinusoid")
    add_overrides(parser)
    parser.set_defaults(run=cmd_config)


def cmd_config(args: argparse.Namespace) -> None:
    from rlmaml.runs.config_help import render_config

    print(render_config(args.config, config_from_args(args)))
