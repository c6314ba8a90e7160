"""A task as the user writes it, checked by the run's env; what the env's episodes are drawn as;
one task's parameters out of a batch."""

import pytest
import torch
from conftest import rl_config

from rlmaml.cli import main
from rlmaml.cli.options import flag
from rlmaml.errors import UserError
from rlmaml.rl.tasks import check_task, moves_in_plane, parse_task, task_parameters


def test_a_task_is_parsed_from_key_value_text():
    assert parse_task(["goal=0.3,-0.2", "other=1"]) == {"goal": [0.3, -0.2], "other": 1}
    with pytest.raises(UserError) as raised:
        parse_task(["goal=a,b"])
    assert raised.value.worded(flag) == "--task goal: expected comma-separated numbers, got 'a,b'"


def test_the_env_checks_a_task():
    config = rl_config("navigation2d")
    assert check_task(config, {"goal": [0.1, 0.2]}) == {"goal": [0.1, 0.2]}
    with pytest.raises(UserError) as raised:
        check_task(config, {"velocity": 1.0})
    assert raised.value.worded(flag).startswith("--task: ")
    assert "'goal'" in str(raised.value)


@pytest.mark.parametrize(("name", "in_plane"), [("navigation2d", True), ("halfcheetah-dir", False)])
def test_only_2d_navigation_moves_in_the_plane(name, in_plane):
    assert moves_in_plane(rl_config(name)) is in_plane


def test_one_tasks_parameters_out_of_a_batch():
    batched = {"weight": torch.arange(6.0).reshape(3, 2), "bias": torch.arange(3.0)}
    one = task_parameters(batched, 1)
    assert torch.equal(one["weight"], torch.tensor([2.0, 3.0]))
    assert torch.equal(one["bias"], torch.tensor(1.0))


def test_an_env_without_tasks_is_refused_in_one_line(tmp_path, capsys) -> None:
    argv = ["train", "navigation2d", "--out", str(tmp_path / "run")]
    assert main([*argv, "--set", "env=MountainCarContinuous-v0", "env_kwargs={}", "iterations=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "MountainCarContinuous-v0 is not a task distribution" in err
    assert not (tmp_path / "run").exists()
