"""Delete the weights of a zoo entry's older checkpoints once evaluation.json holds their
results: every evaluated checkpoint but the newest (which `--resume` needs), the newest
evaluated (which the README's command adapts) and the one compare.json adapted (the entry's
comparison with its baselines); and keep every tenth row of a progress.csv
longer than 10,000 rows.
Refuses (exit 2) while a training process holds the entry's lock.

    python scripts/zoo_prune.py zoo/ant-dir
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlmaml.errors import UserError
from rlmaml.zoo.evaluation import prune
from rlmaml.zoo.thinning import thin_progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entry", type=Path, help="a zoo entry, e.g. zoo/ant-dir")
    args = parser.parse_args(argv)
    try:
        deleted, kept = prune(args.entry)
        rows_before, rows_after = thin_progress(args.entry)
    except UserError as error:
        print(f"zoo_prune: error: {error}", file=sys.stderr)
        return 2
    print(f"{args.entry}: deleted the weights of checkpoints {deleted or 'none'}")
    if rows_after < rows_before:
        print(f"{args.entry}/progress.csv: kept {rows_after} of {rows_before} rows")
    if kept:
        print(
            f"kept {kept} beside the newest: the one the README row adapts, the one compare.json adapted, and "
            f"any not in evaluation.json yet (python scripts/zoo_evaluate.py {args.entry} --all-new)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
