"""`rlmaml plot`: training curves of one or more runs of one kind, seeds of one config drawn
as a mean and a band."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.options import count, image_path


def add_plot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", help="run directories written by `rlmaml train`")
    parser.add_argument("--out", type=image_path, required=True, help="image file to write, e.g. curves.png")
    parser.add_argument(
        "--window",
        type=count(1),
        help="trailing means over this many iterations (default: 1 for meta-RL, 1/50 of the shortest run otherwise)",
    )
    parser.set_defaults(run=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> None:
    from rlmaml.runs.groups import META_RL, group_runs
    from rlmaml.runs.plots import META_RL_PANELS, plot_training_curves, supervised_panels

    kind, groups = group_runs([Path(d) for d in args.run_dirs])
    if kind == META_RL:
        plot_training_curves(groups, args.out, META_RL_PANELS, args.window or 1)
    else:
        plot_training_curves(groups, args.out, supervised_panels(kind == "classification"), args.window)
    print(f"wrote {args.out}")
