"""`rlmaml zoo`: the zoo's meta-trained entries against the paper's numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.output import write_json


def add_zoo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default="zoo", help="the zoo folder (default: zoo/ of the current directory)")
    parser.add_argument("--json", help="write the listing to this JSON file")
    parser.set_defaults(run=cmd_zoo)


def cmd_zoo(args: argparse.Namespace) -> None:
    from rlmaml.zoo.entries import describe, listing, zoo_entries

    entries = zoo_entries(Path(args.dir))
    print(listing(entries, Path(args.dir)))
    if args.json:
        write_json(args.json, {"zoo": str(args.dir), "entries": [describe(entry) for entry in entries]})
