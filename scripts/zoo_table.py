"""Write the README's results table (between its zoo-table markers) from the zoo's entries;
with --check, exit 1 if the README's table differs from the one the zoo gives (CI runs it).

    python scripts/zoo_table.py
    python scripts/zoo_table.py --check
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from rlmaml.errors import UserError
from rlmaml.zoo.table import render_table, with_table

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if the table is out of date")
    parser.add_argument("--zoo", type=Path, default=REPO / "zoo", help="the zoo folder (default: the repo's zoo/)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="the file holding the table")
    args = parser.parse_args(argv)
    try:
        old = args.readme.read_text()
        new = with_table(old, render_table(args.zoo))
    except (UserError, OSError) as error:
        print(f"zoo_table: error: {error}", file=sys.stderr)
        return 2
    if args.check:
        if new == old:
            return 0
        diff = difflib.unified_diff(old.splitlines(), new.splitlines(), str(args.readme), "from the zoo", lineterm="")
        print("\n".join(diff))
        print(
            f"{args.readme}'s results table differs from {args.zoo}: run python scripts/zoo_table.py", file=sys.stderr
        )
        return 1
    if new != old:
        args.readme.write_text(new)
    print(f"{args.readme}: results table {'rewritten' if new != old else 'already up to date'} from {args.zoo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
