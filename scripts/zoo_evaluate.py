"""Evaluate a zoo entry's checkpoints with the paper's protocol and merge the results into
ENTRY/evaluation.json, then draw ENTRY/evaluation.png.

    python scripts/zoo_evaluate.py zoo/ant-dir                  # the newest checkpoint
    python scripts/zoo_evaluate.py zoo/ant-dir --checkpoint 50 100
    python scripts/zoo_evaluate.py zoo/ant-dir --all-new        # every checkpoint not yet evaluated

Meta-RL: 40 new tasks, 0..3 steps with fast_lr then fast_lr / 2 (AntDir: / 100) on 4000 env steps each, seed 0
(what `rlmaml adapt --num-tasks 40 --steps 3 --lr-schedule paper [--episodes 40]` prints; the
episodes only where 4000 steps are not fast_batch_size episodes, as for navigation2d).
Supervised: 600 held-out tasks, the paper's step count and shots (what `rlmaml evaluate`
prints). Exit 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlmaml.errors import UserError
from rlmaml.zoo.entries import entry_lines
from rlmaml.zoo.evaluation import evaluate_entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entry", type=Path, help="a zoo entry, e.g. zoo/ant-dir")
    parser.add_argument("--checkpoint", type=int, nargs="+", default=[], metavar="N", help="checkpoints to evaluate")
    parser.add_argument("--all-new", action="store_true", help="every checkpoint present that evaluation.json lacks")
    parser.add_argument("--num-tasks", type=int, help="fewer tasks than the protocol's (tests); recorded in it")
    parser.add_argument("--data-dir", help="classification: where the dataset is, if not the run's data_dir")
    args = parser.parse_args(argv)
    if args.num_tasks is not None and args.num_tasks < 1:
        parser.error("--num-tasks must be at least 1")
    try:
        entry = evaluate_entry(args.entry, args.checkpoint, args.all_new, args.num_tasks, args.data_dir)
    except UserError as error:
        print(f"zoo_evaluate: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(entry_lines(entry)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
