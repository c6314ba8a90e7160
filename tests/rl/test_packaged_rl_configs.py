"""Every packaged meta-RL config trains its first iteration at its real observation size
(the baseline's Gram matrices grow with it), on small batches and with 2 torch threads,
the setting where batched LU failed on the Ant configs (issue 14)."""

import pytest
import torch
from metaworld_support import skip_without_metaworld

from rlmaml.cli import main
from rlmaml.runs.config import is_supervised, load_config, packaged_configs

RL_CONFIGS = [name for name in packaged_configs() if not is_supervised(load_config(name))]
SMALL = ["iterations=1", "meta_batch_size=3", "fast_batch_size=2", "horizon=30", "cg_iters=2"]


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", RL_CONFIGS)
def test_first_iteration_of_each_packaged_rl_config(tmp_path, two_threads, name):
    if name.startswith(("ml1-", "ml10")):
        skip_without_metaworld()
    out = tmp_path / name
    assert main(["train", name, "--out", str(out), "--quiet", "--set", *SMALL]) == 0
    rows = (out / "progress.csv").read_text().splitlines()
    assert len(rows) == 2
