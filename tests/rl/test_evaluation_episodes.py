"""Episodes per adaptation step at evaluation (`--episodes`, the paper's 4000 env steps a step):
the default keeps fast_batch_size and its numbers, an override samples that many episodes in
adapt, compare and export, and the zoo's protocol records it only where it differs."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import rl_config
from supervised_support import single_thread  # noqa: F401

from rlmaml.cli import main
from rlmaml.rl.adaptation import step_sizes
from rlmaml.rl.compare import compare
from rlmaml.rl.episodes import Episodes
from rlmaml.rl.evaluation import adapt_and_measure, paper_episodes, with_episodes
from rlmaml.rl.policy_io import load_trained_policy
from rlmaml.runs.config import is_supervised, load_config, packaged_configs, typed_config
from rlmaml.zoo.entries import Entry
from rlmaml.zoo.evaluation import RL_PROTOCOL, protocol_for, reproduce_command
from rlmaml.zoo.table import CHECKS

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("single_thread")
TINY = ["meta_batch_size=2", "fast_batch_size=3", "horizon=10", "hidden_sizes=[8]", "iterations=1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("episodes") / "nav"
    assert main(["train", "navigation2d", "--out", str(out), "--quiet", "--set", *TINY]) == 0
    return out


def rl_configs() -> list[str]:
    """The packaged meta-RL configs of the paper's tasks (CHECKS are problems with known answers, no zoo entry)."""
    return [n for n in packaged_configs() if not is_supervised(load_config(n)) and n not in CHECKS]


def test_paper_episodes_are_4000_env_steps_per_step_or_the_training_batch() -> None:
    assert paper_episodes(rl_config("navigation2d")) == 40  # twice its training batch of 20
    for name in rl_configs():
        config = rl_config(name)
        if config.env.startswith("rlmaml/MetaWorldML"):  # Meta-World's protocol: 10 adaptation episodes of 500 steps
            assert paper_episodes(config) == config.fast_batch_size == 10, name
        elif config.env != "rlmaml/Navigation2D-v0":  # the locomotion configs sample at least 4000 steps a step
            assert config.horizon == 200, name
            assert paper_episodes(config) == config.fast_batch_size, name
    assert paper_episodes(rl_config(horizon=5000, fast_batch_size=1)) == 1
    # test_maml_ant_direc.py adapted with 8000 steps, the 40 episodes of 200 its policy trained with
    assert paper_episodes(rl_config("ant-dir")) == 40
    assert paper_episodes(rl_config(horizon=200, fast_batch_size=7)) == 20


def test_with_episodes_overrides_only_the_batch() -> None:
    config = rl_config("navigation2d")
    assert with_episodes(config, None) is config
    changed = with_episodes(config, 40)
    assert changed.fast_batch_size == 40
    assert config.fast_batch_size == 20
    assert changed == replace(config, fast_batch_size=40)
    for bad in (0, -3, 2.5, True, "40"):
        with pytest.raises(ValueError, match="episodes"):
            with_episodes(config, bad)


def test_adapt_and_measure_samples_the_episodes_asked_for(run: Path) -> None:
    config, policy, _ = load_trained_policy(run)
    default = adapt_and_measure(config, policy, 2, 2, seed=5, schedule="paper")
    same = adapt_and_measure(config, policy, 2, 2, seed=5, schedule="paper", episodes=config.fast_batch_size)
    more = adapt_and_measure(config, policy, 2, 2, seed=5, schedule="paper", episodes=7)
    assert [e.rewards.shape[2] for e in default.episodes] == [3, 3, 3]
    assert [e.rewards.shape[2] for e in more.episodes] == [7, 7, 7]
    assert default.returns == same.returns  # the default is fast_batch_size, number for number
    assert more.tasks == default.tasks  # the tasks depend on the seed only
    assert more.returns[0].mean != default.returns[0].mean


def test_cli_episodes_option(run: Path, tmp_path: Path, capsys) -> None:
    report = tmp_path / "adapt.json"
    args = ["adapt", str(run), "--num-tasks", "2", "--steps", "1", "--lr-schedule", "paper"]
    assert main([*args, "--episodes", "5", "--json", str(report)]) == 0
    assert "5 episodes per step" in capsys.readouterr().out
    written = json.loads(report.read_text())
    assert written["episodes_per_step"] == 5
    config, policy, _ = load_trained_policy(run)
    expected = adapt_and_measure(config, policy, 2, 1, 0, "paper", episodes=5).returns
    assert [r["mean"] for r in written["returns"]] == pytest.approx([r.mean for r in expected])
    assert main([*args, "--json", str(report)]) == 0
    assert json.loads(report.read_text())["episodes_per_step"] == 3  # the run's fast_batch_size
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--episodes", "0"])
    assert exit_info.value.code == 2
    assert "--episodes" in capsys.readouterr().err


def test_compare_and_export_take_episodes(run: Path, tmp_path: Path, capsys) -> None:
    config, policy, _ = load_trained_policy(run)
    results = compare({"MAML": (config, policy)}, 2, 1, 0, "paper", episodes=5)
    expected = adapt_and_measure(config, policy, 2, 1, 0, "paper", episodes=5).returns
    assert results["MAML"].returns == expected
    task = ["--task", "goal=0.1,-0.2", "--steps", "1"]
    assert main(["export", str(run), *task, "--episodes", "5", "--out", str(tmp_path / "p.zip")]) == 0
    shown = capsys.readouterr().out
    config_task = [{"goal": [0.1, -0.2]}]
    one = adapt_and_measure(config, policy, config_task, 1, 0, "training", episodes=5).returns
    assert f"{1:>4}  {one[1].mean:>12.2f}" in shown  # the returns printed are those of 5 episodes


def test_zoo_protocol_records_episodes_only_where_they_differ() -> None:
    nav = typed_config(load_config("navigation2d"))
    protocol = protocol_for(Entry(Path("zoo/navigation2d"), "navigation2d", nav, 0, None))
    assert protocol == {**RL_PROTOCOL, "episodes": 40}
    command = reproduce_command(Path("zoo/navigation2d"), protocol, 100)
    assert command == (
        "rlmaml adapt zoo/navigation2d --checkpoint 100 --num-tasks 40 --steps 3 --lr-schedule paper "
        "--episodes 40 --seed 0"
    )
    for name in rl_configs():
        entry = Entry(Path(f"zoo/{name}"), name, typed_config(load_config(name)), 0, None)
        if name.startswith(("ml1-", "ml10")):  # Meta-World's protocol: one step on each of the 50 test goals
            assert protocol_for(entry) == {
                "num_tasks": 50,
                "steps": 1,
                "seed": 0,
                "lr_schedule": "training",
                "split": "test",
            }
        elif name == "ant-dir":  # its original test script's later steps: a hundredth of fast_lr
            assert protocol_for(entry) == {**RL_PROTOCOL, "step_sizes": pytest.approx([0.1, 0.001, 0.001])}
        elif not name.endswith("navigation2d"):  # the other entries trained and evaluated so far keep their protocol
            assert protocol_for(entry) == RL_PROTOCOL


def test_step_sizes_may_be_given_one_per_step(run: Path) -> None:
    assert step_sizes(0.1, 3, [0.1, 0.025, 0.025]) == [0.1, 0.025, 0.025]
    with pytest.raises(ValueError, match="2 step sizes given for 3 steps"):
        step_sizes(0.1, 3, [0.1, 0.05])
    config, policy, _ = load_trained_policy(run)
    lr = config.fast_lr
    named = adapt_and_measure(config, policy, 2, 2, 0, "paper").returns
    assert adapt_and_measure(config, policy, 2, 2, 0, [lr, lr / 2]).returns == named


def probe_script():
    spec = importlib.util.spec_from_file_location("adaptation_probe", REPO / "scripts" / "adaptation_probe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_adaptation_probe_reports_what_adapt_prints(run: Path, tmp_path: Path) -> None:
    probe = probe_script()
    config, policy, _ = load_trained_policy(run)
    lr = config.fast_lr
    out = tmp_path / "probe.json"
    args = [str(run), "--step-sizes", str(lr), str(lr / 2), "--num-tasks", "2", "--episodes", "5", "--json", str(out)]
    assert probe.main(args) == 0
    report = json.loads(out.read_text())
    expected = adapt_and_measure(config, policy, 2, 2, 0, "paper", episodes=5).returns
    assert [row["mean"] for row in report["steps"]] == [r.mean for r in expected]
    assert report["episodes"] == 5
    assert [row["step"] for row in report["steps"]] == [0, 1, 2]
    for row in report["steps"]:
        assert len(row["std"]) == 2
        assert 0 <= row["ended_early"] <= 1
        assert 0 < row["mean_length"] <= config.horizon
    assert all(row["kl_of_next_step"] >= 0 for row in report["steps"][:2])
    assert report["steps"][2]["kl_of_next_step"] is None


def test_rllab_style_mean_favours_short_episodes() -> None:
    probe = probe_script()
    horizon = 100

    def episodes(lengths: list[int], step_reward: float = -1.0) -> Episodes:
        mask = torch.zeros(horizon, 1, len(lengths))
        for e, n in enumerate(lengths):
            mask[:n, 0, e] = 1.0
        obs = torch.zeros(horizon, 1, len(lengths), 2)
        return Episodes(obs, obs.clone(), step_reward * mask, mask)

    same = episodes([100, 100, 100])
    assert probe.rllab_style_mean(same) == pytest.approx(-100.0)
    # returns -10 and -100, plain mean -55: 40 envs finishing 4000 steps run about one horizon
    # each, in which an env on short episodes finishes several and one on a long episode one
    mixed = episodes([10, 100])
    biased = [probe.rllab_style_mean(mixed, seed) for seed in range(4)]
    assert all(-55.0 < b < -40.0 for b in biased)
    assert -50.0 < sum(biased) / 4 < -43.0
