"""CI-sized meta-training: adaptation must pay off, and the meta-policy must improve."""

import csv

from rlmaml.cli import main


def test_meta_training_on_2d_navigation_learns_to_adapt(tmp_path):
    out = tmp_path / "nav"
    settings = ["iterations=20", "meta_batch_size=10", "fast_batch_size=10", "checkpoint_every=20"]
    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *settings]) == 0
    with (out / "progress.csv").open() as f:
        table = list(csv.DictReader(f))
    first = table[0]
    last = table[-5:]  # average the final iterations: each uses new tasks
    before = sum(float(r["return_before"]) for r in last) / len(last)
    after = sum(float(r["return_after"]) for r in last) / len(last)
    assert after > before + 10.0, (before, after)  # one gradient step clearly helps
    assert after > float(first["return_after"]) + 50.0, (first["return_after"], after)
