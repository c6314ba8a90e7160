"""The evaluation protocol, the PPO baselines and `rlmaml compare` on tiny runs."""

import json

import numpy as np
import pytest
from conftest import TINY_NAV, rl_config, train_tiny_nav

from rlmaml.cli import main
from rlmaml.rl.adaptation import step_sizes
from rlmaml.rl.environments import make_env, make_vector_env


@pytest.fixture(scope="module")
def nav_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "nav"
    train_tiny_nav(out, "iterations=2")
    return out


@pytest.fixture(scope="module")
def nav_baselines(tmp_path_factory):
    out = tmp_path_factory.mktemp("baselines") / "nav"
    assert (
        main(["baselines", "navigation2d", "--out", str(out), "--timesteps", "256", "--envs", "1", "--set", *TINY_NAV])
        == 0
    )
    return out


def test_step_size_schedules():
    assert step_sizes(0.1, 3, "training") == [0.1, 0.1, 0.1]
    assert step_sizes(0.1, 3, "paper") == [0.1, 0.05, 0.05]
    assert step_sizes(0.1, 0, "paper") == []
    assert step_sizes(0.1, 3, "paper", later_factor=0.01) == pytest.approx([0.1, 0.001, 0.001])


def test_the_paper_schedule_is_each_original_test_scripts():
    """test_maml_ant_direc.py took a hundredth of fast_lr after the first step; the others half."""
    from rlmaml.rl.adaptation import paper_later_factor
    from rlmaml.runs.config import load_config

    factors = {name: paper_later_factor(load_config(name)["env"]) for name in ("ant-dir", "ant-vel", "navigation2d")}
    assert factors == {"ant-dir": 0.01, "ant-vel": 0.5, "navigation2d": 0.5}


def test_the_paper_schedule_changes_only_the_steps_after_the_first(nav_run, tmp_path):
    reports = {}
    for schedule in ("training", "paper"):
        path = tmp_path / f"{schedule}.json"
        assert (
            main(
                [
                    "adapt",
                    str(nav_run),
                    "--num-tasks",
                    "3",
                    "--steps",
                    "2",
                    "--lr-schedule",
                    schedule,
                    "--json",
                    str(path),
                ]
            )
            == 0
        )
        reports[schedule] = json.loads(path.read_text())
    assert reports["paper"]["lr_schedule"] == "paper"
    training, paper = reports["training"]["returns"], reports["paper"]["returns"]
    assert [r["mean"] for r in training[:2]] == [r["mean"] for r in paper[:2]]  # same tasks, seeds, first step
    assert training[2]["mean"] != paper[2]["mean"]


def test_the_oracle_sees_its_task_in_single_and_batched_envs():
    single = make_env(rl_config(env_kwargs={}, horizon=5, normalize_actions=False, observe_task=True))
    single.unwrapped.set_task({"goal": [0.3, -0.2]})
    observation, _ = single.reset(seed=0)
    assert observation.tolist() == pytest.approx([0.0, 0.0, 0.3, -0.2])
    batched = make_vector_env("rlmaml/Navigation2D-v0", 2, 5, {}, observe_task=True)
    batched.unwrapped.set_tasks([{"goal": [0.3, -0.2]}, {"goal": [-0.1, 0.4]}])
    batched.reset(seed=0)
    observations, *_ = batched.step(np.full((2, 2), 0.05))
    single_next, *_ = single.step(np.full(2, 0.05))
    assert observations[0] == pytest.approx(single_next)
    assert observations[1, 2:] == pytest.approx([-0.1, 0.4])


def test_a_task_randomised_env_draws_a_new_task_every_episode():
    config = rl_config(env_kwargs={}, horizon=5, normalize_actions=False, observe_task=False)
    tasks = []
    for _ in range(2):
        env = make_env(config, new_task_each_episode=True)
        env.reset(seed=7)
        for _ in range(3):
            tasks.append(env.unwrapped.get_task()["goal"])
            env.reset()
    assert tasks[:3] == tasks[3:]  # the same seed gives the same tasks
    assert len({tuple(goal) for goal in tasks[:3]}) == 3


def test_baselines_record_their_env_steps_and_are_not_retrained(nav_baselines, capsys):
    manifest = json.loads((nav_baselines / "baselines.json").read_text())
    assert sorted(manifest) == ["oracle", "pretrained", "random"]
    assert manifest["random"]["env_steps"] == 0
    assert manifest["pretrained"]["timesteps"] == 256 <= manifest["pretrained"]["env_steps"]
    again = ["baselines", "navigation2d", "--out", str(nav_baselines), "--timesteps", "256", "--set", *TINY_NAV]
    assert main(again) == 0
    assert capsys.readouterr().out.count("kept") == 3


def test_the_oracle_policy_observes_the_task(nav_baselines):
    from rlmaml.rl.baselines import load_baselines

    _, policies, _ = load_baselines(nav_baselines)
    assert policies["oracle"].policy.observation_space.shape == (4,)  # position and goal
    assert policies["pretrained"].policy.observation_space.shape == (2,)


def test_baselines_refuse_to_keep_a_method_trained_with_another_budget(nav_baselines, capsys):
    code = main(["baselines", "navigation2d", "--out", str(nav_baselines), "--timesteps", "512", "--set", *TINY_NAV])
    assert code == 2
    assert "--timesteps 256" in capsys.readouterr().err


def test_runs_saved_before_a_config_key_existed_still_load():
    from rlmaml.runs.config import load_config, resolve

    current = load_config("navigation2d")
    older = {k: v for k, v in current.items() if k not in ("policy", "observe_task", "normalize_actions")}
    assert resolve(older, ()) == {**current, "normalize_actions": False}


def test_baselines_refuse_a_directory_of_another_config(nav_baselines, capsys):
    assert main(["baselines", "navigation2d", "--out", str(nav_baselines), "--set", *TINY_NAV, "horizon=30"]) == 2
    assert "key 'horizon' differs" in capsys.readouterr().err


def test_compare_adapts_every_method_on_the_tasks_adapt_uses(nav_run, nav_baselines, tmp_path, capsys):
    report, figure, maml = tmp_path / "compare.json", tmp_path / "compare.png", tmp_path / "maml.json"
    assert (
        main(
            [
                "compare",
                str(nav_run),
                str(nav_baselines),
                "--num-tasks",
                "3",
                "--steps",
                "1",
                "--json",
                str(report),
                "--plot",
                str(figure),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert all(method in table for method in ("MAML", "random", "pretrained", "oracle"))
    written = json.loads(report.read_text())
    assert "successes" not in written  # 2D navigation reports no success
    methods = written["methods"]
    assert {label: len(returns) for label, returns in methods.items()} == {
        "MAML": 2,
        "random": 2,
        "pretrained": 2,
        "oracle": 1,  # the oracle is measured unadapted
    }
    assert figure.stat().st_size > 10_000
    assert main(["adapt", str(nav_run), "--num-tasks", "3", "--steps", "1", "--json", str(maml)]) == 0
    assert methods["MAML"] == json.loads(maml.read_text())["returns"]


def test_compare_can_adapt_the_oracle_too(nav_run, nav_baselines, tmp_path):
    report = tmp_path / "compare.json"
    arguments = ["--num-tasks", "2", "--steps", "1", "--adapt-oracle", "--json", str(report)]
    assert main(["compare", str(nav_run), str(nav_baselines), *arguments, "--plot", str(tmp_path / "c.png")]) == 0
    assert len(json.loads(report.read_text())["methods"]["oracle"]) == 2


def test_compare_refuses_baselines_of_another_env_setting(nav_run, tmp_path, capsys):
    other = tmp_path / "other"
    assert (
        main(
            ["baselines", "navigation2d", "--out", str(other), "--methods", "random", "--set", *TINY_NAV, "horizon=30"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["compare", str(nav_run), str(other), "--num-tasks", "2", "--steps", "1"]) == 2
    assert "horizon=30" in capsys.readouterr().err


def test_compare_without_baselines_is_one_line(nav_run, tmp_path, capsys):
    assert main(["compare", str(nav_run), str(tmp_path)]) == 2
    assert "rlmaml baselines" in capsys.readouterr().err


def test_adapt_takes_an_earlier_checkpoint(nav_run, tmp_path, capsys):
    assert main(["adapt", str(nav_run), "--num-tasks", "2", "--steps", "0", "--checkpoint", "2"]) == 0
    assert "policy after 2 meta-iterations" in capsys.readouterr().out
    assert main(["adapt", str(nav_run), "--num-tasks", "2", "--steps", "0", "--checkpoint", "1"]) == 2
    assert "has checkpoints after [2] iterations" in capsys.readouterr().err
