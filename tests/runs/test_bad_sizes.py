"""Sizes and values that would exhaust the machine, hang or raise a traceback are refused in
one line with exit code 2 before anything is allocated (issue 14). The machine's available
memory is pinned to 24 GiB, so the results do not depend on what else runs."""

import itertools
from importlib import resources
from pathlib import Path

import pytest
import yaml
from conftest import rl_config, train_tiny_nav

from rlmaml.cli import main
from rlmaml.runs import memory
from rlmaml.runs.config import load_config, packaged_configs, typed_config

GIB = 2**30
HUGE = 10**9
MACHINE = memory.available_memory  # before the fixture pins it
TINY_VELOCITY = ["meta_batch_size=1", "fast_batch_size=1", "horizon=2", "hidden_sizes=[2]"]
TINY_VELOCITY = [*TINY_VELOCITY, "iterations=1", "checkpoint_every=1"]


@pytest.fixture(autouse=True)
def machine_of_24_gib(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 24 * GIB)


def refused(capsys, argv: list[str], *needles: str) -> str:
    """The one line `rlmaml argv` printed, after checking it exited with 2 and names the needles."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("rlmaml: error:"), err
    for needle in needles:
        assert needle in err, err
    return err


def saved_run(path: Path, name: str, *overrides: str) -> Path:
    """A run directory with only its config.yaml: enough for the checks made before a checkpoint is read."""
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump(load_config(name, list(overrides)), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def nav_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "nav"
    train_tiny_nav(out, "iterations=2")
    return out


@pytest.fixture(scope="module")
def velocity_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "velocity"
    assert main(["train", "halfcheetah-vel", "--out", str(out), "--quiet", "--set", *TINY_VELOCITY]) == 0
    return out


@pytest.mark.parametrize(
    ("name", "key", "value", "lowered"),
    [
        ("navigation2d", "meta_batch_size", HUGE, "meta_batch_size"),
        ("navigation2d", "fast_batch_size", HUGE, "fast_batch_size"),
        ("navigation2d", "horizon", HUGE, "horizon"),
        ("navigation2d", "num_steps", 10**6, "num_steps"),
        ("navigation2d", "hidden_sizes", [10**5, 10**5], "hidden_sizes"),
        ("omniglot-5w1s", "image_size", 100_000, "image_size"),
        ("omniglot-5w1s", "meta_batch_size", HUGE, "meta_batch_size"),
        ("omniglot-5w1s", "shots", HUGE, "shots"),
        ("omniglot-5w1s", "filters", 100_000, "filters"),
        ("sinusoid", "shots", HUGE, "shots"),
        ("sinusoid", "hidden_sizes", [10**6, 10**6], "hidden_sizes"),
    ],
)
def test_training_beyond_the_machines_memory_is_refused_before_allocating(tmp_path, capsys, name, key, value, lowered):
    out = tmp_path / "run"
    err = refused(capsys, ["train", name, "--out", str(out), "--set", f"{key}={value}"], f"{key}={value}")
    assert "needs about" in err
    assert "this machine has 24.0 GiB available" in err
    assert lowered in err.split(": lower ")[1]
    assert not out.exists()


def test_the_estimate_follows_the_machine(tmp_path, capsys, monkeypatch):
    """navigation2d needs about 1 GiB (its calibration run peaked at 811 MiB)."""
    monkeypatch.setattr(memory, "available_memory", lambda: 512 * 2**20)
    err = refused(capsys, ["train", "navigation2d", "--out", str(tmp_path / "run")], "this machine has 512.0 MiB")
    assert " MiB of memory (meta_batch_size=20 tasks x fast_batch_size=20 x horizon=100" in err


def test_a_long_list_of_layers_is_refused_in_a_short_line(tmp_path, capsys):
    layers = "[" + ", ".join(["1"] * 20_000) + "]"
    err = refused(capsys, ["train", "navigation2d", "--out", str(tmp_path / "r"), "--set", f"hidden_sizes={layers}"])
    assert "hidden_sizes=[1, 1, 1, 1, 1, 1, 1, 1, ...]" in err
    assert len(err) < 600


def test_an_estimate_beyond_any_float_is_still_one_line(tmp_path, capsys):
    refused(capsys, ["train", "navigation2d", "--out", str(tmp_path / "r"), "--set", f"horizon={10**400}"], "10^4")


@pytest.mark.parametrize("name", packaged_configs())
def test_the_paper_configs_fit_a_24_gib_machine_and_print_nothing(capsys, name):
    memory.check_training(typed_config(load_config(name)))
    assert capsys.readouterr() == ("", "")


def test_available_memory_is_what_the_machine_reports():
    available = MACHINE()
    lines = Path("/proc/meminfo").read_text().splitlines()
    total = next(int(line.split()[1]) * 1024 for line in lines if line.startswith("MemTotal:"))
    assert 0 < available <= total


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ("adapt {run} --num-tasks 1000000000", "--num-tasks=1000000000"),
        ("adapt {run} --steps 1000000", "--steps=1000000"),
        ("export {run} --task goal=0.1,0.1 --steps 100000000 --out {tmp}/x.zip", "--steps=100000000"),
        ("compare {run} {tmp}/baselines --num-tasks 1000000000", "--num-tasks=1000000000"),
    ],
)
def test_adapting_beyond_the_machines_memory_is_refused(tmp_path, capsys, command, needle):
    run = saved_run(tmp_path / "run", "navigation2d")
    argv = command.format(run=run, tmp=tmp_path).split()
    refused(capsys, argv, needle, "this adaptation needs about", ": lower --num-tasks or --steps")


@pytest.mark.parametrize(("option", "value"), [("--num-tasks", HUGE), ("--shots", HUGE), ("--steps", 10**8)])
def test_evaluating_beyond_the_machines_memory_is_refused(tmp_path, capsys, option, value):
    run = saved_run(tmp_path / "run", "sinusoid")
    shown = f"shots={value}" if option == "--shots" else f"{option}={value}"
    refused(capsys, ["evaluate", str(run), option, str(value)], shown, "this evaluation needs about")


def billion_laughs(indent: str = "") -> str:
    """Nine lines of ten aliases each: 10^9 leaves once expanded."""
    lines = [f"{indent}a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for before, name in itertools.pairwise("abcdefghi"):
        lines.append(f"{indent}{name}: &{name} [" + ", ".join([f"*{before}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def config_text(**replaced: str) -> str:
    """navigation2d's YAML with whole lines `key: ...` replaced."""
    packaged = (resources.files("rlmaml.configs") / "navigation2d.yaml").read_text()
    lines = [line for line in packaged.splitlines() if line.split(":")[0] not in replaced]
    return "\n".join(lines) + "\n" + "".join(f"{key}:{value}\n" for key, value in replaced.items())


DEEP = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (config_text(env_kwargs="\n" + billion_laughs("  ")), "uses the YAML alias *a (line"),
        (config_text(env_kwargs="\n" + billion_laughs("  "), hidden_sizes=" *i"), "uses the YAML alias *a"),
        (config_text(hidden_sizes=" " + DEEP), "nests values more than 32 deep"),
        (config_text() + "#" * 100_000 + "\n", "larger than 65,536 bytes"),
    ],
)
def test_config_files_that_expand_nest_or_grow_are_refused(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    refused(capsys, ["train", str(path), "--out", str(tmp_path / "run")], f"config {path}", needle)


@pytest.mark.parametrize(
    ("data", "needle"), [(b"env: \xff\xfe\n", "not UTF-8 text"), (b"foo: 0\n1: 2\n", "unknown config key '1'")]
)
def test_a_config_file_that_is_not_text_or_has_a_number_for_a_key_is_refused(tmp_path, capsys, data, needle):
    path = tmp_path / "odd.yaml"
    path.write_bytes(data)
    refused(capsys, ["train", str(path), "--out", str(tmp_path / "run")], needle)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("{a: &a [1, 1], b: [*a, *a]}", "the value of env_kwargs uses the YAML alias *a"),
        (DEEP, "the value of env_kwargs nests values more than 32 deep"),
    ],
)
def test_set_values_that_alias_or_nest_are_refused(tmp_path, capsys, value, needle):
    refused(capsys, ["train", "navigation2d", "--out", str(tmp_path / "run"), "--set", f"env_kwargs={value}"], needle)


@pytest.mark.parametrize("replaced", [{"env_kwargs": "\n" + billion_laughs("  ")}, {"hidden_sizes": " " + DEEP}])
@pytest.mark.parametrize(
    "command",
    ["adapt {run}", "plot {run} --out {tmp}/curves.png", "train navigation2d --out {run} --resume", "evaluate {run}"],
)
def test_a_run_config_that_aliases_or_nests_is_refused(tmp_path, capsys, replaced, command):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(config_text(**replaced))
    refused(capsys, command.format(run=run, tmp=tmp_path).split(), f"{run / 'config.yaml'}")


def test_an_oversized_run_config_is_refused_unparsed(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(config_text() + "#" * 100_000 + "\n")
    refused(capsys, ["adapt", str(run)], f"{run / 'config.yaml'} is longer than 65,536 characters")


@pytest.mark.parametrize(
    ("name", "override", "message"),
    [
        ("navigation2d", "hidden_sizes=[-5]", "'hidden_sizes' must be at least 1, got [-5]"),
        ("navigation2d", "hidden_sizes=[0]", "'hidden_sizes' must be at least 1, got [0]"),
        ("navigation2d", "hidden_sizes=[64, 0]", "'hidden_sizes' must be at least 1"),
        ("sinusoid", "hidden_sizes=[0]", "'hidden_sizes' must be at least 1"),
        ("navigation2d", f"seed={10**30}", "'seed' must be at most 4294967295"),
        ("navigation2d", f"fast_lr={10**400}", "'fast_lr' must be a finite number"),
        ("navigation2d", "hidden_sizes=[" + "1.5, " * 5000 + "]", "'hidden_sizes' must be a list of integers"),
        ("navigation2d", "env_kwargs={goal_low: -.inf}", "goal_low and goal_high must be finite"),
        ("navigation2d", "env_kwargs={goal_low: -1e308, goal_high: 1e308}", "must lie within +-1e+06"),
        ("navigation2d", "env_kwargs={max_action: .inf}", "max_action must be in (0, 1e+06]"),
        ("navigation2d", "env_kwargs={goal_tolerance: .nan}", "goal_tolerance must be in [0, 1e+06]"),
        ("halfcheetah-vel", "env_kwargs={velocity_high: 1e300}", "velocity_low and velocity_high must lie within"),
        ("halfcheetah-vel", "env_kwargs={frame_skip: 0}", "frame_skip must be in [1, 1000], got 0"),
        ("halfcheetah-vel", f"env_kwargs={{frame_skip: {HUGE}}}", "frame_skip must be in [1, 1000]"),
        ("halfcheetah-vel", "env_kwargs={reset_noise_scale: .nan}", "reset_noise_scale must be a number in [0, 10]"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path, capsys, name, override, message):
    err = refused(capsys, ["train", name, "--out", str(tmp_path / "run"), "--set", override], message)
    assert len(err) < 600  # a long value is shortened in the message


def test_env_kwargs_only_the_single_env_takes_are_refused_when_the_batch_is_made(tmp_path, capsys):
    argv = ["train", "halfcheetah-vel", "--quiet", "--out", str(tmp_path / "run"), "--set", *TINY_VELOCITY]
    refused(capsys, [*argv, "env_kwargs={width: 64}"], "config key 'env_kwargs': cannot make the batched", "'width'")


def test_no_hidden_layer_is_a_linear_policy(tmp_path):
    """rllab's MLP makes a linear map of hidden_sizes=(): kept, unlike empty layers."""
    from torch import nn

    from rlmaml.rl.policy_io import build_policy

    policy = build_policy(rl_config("navigation2d", "hidden_sizes=[]"))
    assert [type(layer) for layer in policy.mean] == [nn.Linear]


@pytest.mark.parametrize(
    ("task", "needle"),
    [
        ("goal=1e300,0", "'goal' must lie within [-10.5, 10.5] (the sampling range [-0.5, 0.5]"),
        ("goal=11,0", "'goal' must lie within [-10.5, 10.5]"),
        ("goal=0.1,0.2 velocity=3", "task field 'velocity' is not one of this env's"),
    ],
)
def test_adapt_refuses_goals_far_outside_the_range(nav_run, capsys, task, needle):
    refused(capsys, ["adapt", str(nav_run), "--task", *task.split()], needle)


@pytest.mark.parametrize(
    ("task", "needle"),
    [
        ("velocity=nan", "'velocity' must be a finite number"),
        ("velocity=inf", "'velocity' must be a finite number"),
        ("velocity=1,2", "'velocity' must be a finite number"),
        ("velocity=1e300", "'velocity' must lie within [-20, 22]"),
        ("velocity=-25", "'velocity' must lie within [-20, 22]"),
    ],
)
def test_adapt_refuses_velocities_that_are_not_finite_or_far_outside_the_range(velocity_run, capsys, task, needle):
    refused(capsys, ["adapt", str(velocity_run), "--task", task], needle)


@pytest.mark.parametrize(("run", "task"), [("nav_run", "goal=0.7,-0.9"), ("velocity_run", "velocity=2.5")])
def test_adapt_takes_a_task_a_little_outside_the_sampling_range(request, capsys, run, task):
    assert main(["adapt", str(request.getfixturevalue(run)), "--task", task, "--steps", "0"]) == 0
    assert "1 task(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["adapt", "RUN", "--num-tasks", "-1"], "argument --num-tasks: must be at least 1, got -1"),
        (["adapt", "RUN", "--steps", "-5"], "argument --steps: must be at least 0, got -5"),
        (["adapt", "RUN", "--num-tasks", "10**9"], "argument --num-tasks: expected an integer"),
        (["evaluate", "RUN", "--shots", "0"], "argument --shots: must be at least 1"),
    ],
)
def test_negative_counts_are_one_line_with_exit_code_2(tmp_path, capsys, argv, needle):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path) if word == "RUN" else word for word in argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1
    assert needle in err
