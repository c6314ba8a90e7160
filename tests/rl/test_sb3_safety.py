"""SB3 zips and baselines.json from someone else: rlmaml reads them without unpickling, and
refuses anything unexpected with one line (exit 2) instead of running it."""

import base64
import contextlib
import io
import json
import pickle
import shutil
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_NAV, train_tiny_nav
from stable_baselines3 import PPO

from rlmaml.cli import main
from rlmaml.errors import UserError
from rlmaml.rl.baselines import method_config, read_baselines, read_manifest
from rlmaml.rl.policy_io import read_rl_run_config
from rlmaml.rl.sb3_file import MAX_POLICY_BYTES, read_ppo_policy


class Payload:
    """Creates `marker` when unpickled: what a crafted file would do instead (any code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.fixture(scope="module")
def nav_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "nav"
    train_tiny_nav(out, "iterations=1")
    return out


@pytest.fixture(scope="module")
def nav_baselines(tmp_path_factory):
    out = tmp_path_factory.mktemp("baselines") / "nav"
    assert main(["baselines", "navigation2d", "--out", str(out), "--methods", "random", "--set", *TINY_NAV]) == 0
    return out


Members = list[tuple[str, bytes | None]]


def rewrite(source: Path, target: Path, members: Members, compression: int = zipfile.ZIP_STORED) -> Path:
    """`source`'s zip with `members` replaced, added, or (None) dropped; a name given twice is written twice."""
    replaced = {name for name, _ in members}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression) as new, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of duplicate names
        for name in old.namelist():
            if name not in replaced:
                new.writestr(name, old.read(name))
        for name, data in members:
            if data is not None:
                new.writestr(name, data)
    return target


def state_of(path: Path) -> dict[str, torch.Tensor]:
    with zipfile.ZipFile(path) as archive:
        return torch.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def serialized_data(path: Path, marker: Path) -> bytes:
    """The zip's `data` JSON with the payload as policy_class's cloudpickled object."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    return json.dumps(data).encode()


def deflated_records(pth: bytes) -> bytes:
    """A torch file whose records are compressed, which torch.save never writes."""
    with zipfile.ZipFile(io.BytesIO(pth)) as old:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
            for name in old.namelist():
                new.writestr(name, old.read(name))
    return buffer.getvalue()


def crafted_dir(nav_baselines: Path, tmp_path: Path, members: Members) -> Path:
    directory = tmp_path / "crafted"
    shutil.copytree(nav_baselines, directory)
    rewrite(nav_baselines / "random.zip", directory / "random.zip", members)
    return directory


def compare(run: Path, directory: Path, tmp_path: Path) -> int:
    return main(
        ["compare", str(run), str(directory), "--num-tasks", "1", "--steps", "0", "--plot", str(tmp_path / "c.png")]
    )


def test_the_payloads_are_live_in_the_unpickling_loaders(nav_baselines, tmp_path):
    """What the tests below guard against: PPO.load and torch.load(weights_only=False) run them."""
    marker = tmp_path / "marker"
    data = serialized_data(nav_baselines / "random.zip", marker)
    with contextlib.suppress(Exception):
        PPO.load(rewrite(nav_baselines / "random.zip", tmp_path / "c.zip", [("data", data)]), device="cpu")
    assert marker.exists()
    marker.unlink()
    torch.load(io.BytesIO(saved({"log_std": Payload(marker)})), weights_only=False)
    assert marker.exists()


def test_compare_never_unpickles_the_data_of_a_baseline(nav_run, nav_baselines, tmp_path):
    marker = tmp_path / "marker"
    data = serialized_data(nav_baselines / "random.zip", marker)
    assert compare(nav_run, crafted_dir(nav_baselines, tmp_path, [("data", data)]), tmp_path) == 0  # weights are fine
    assert not marker.exists()


def test_compare_refuses_a_pickled_policy_in_one_line(nav_run, nav_baselines, tmp_path, capsys):
    marker = tmp_path / "marker"
    members = [("data", serialized_data(nav_baselines / "random.zip", marker)), ("policy.pth", saved(Payload(marker)))]
    directory = crafted_dir(nav_baselines, tmp_path, members)
    assert compare(nav_run, directory, tmp_path) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"{directory / 'random.zip'}: policy.pth is not plain tensors" in error
    assert "unpickling it would call exec (refused)" in error
    assert not marker.exists()


def policy(obj) -> Members:
    """The members of a zip whose policy.pth is `obj`, saved by torch."""
    return [("policy.pth", saved(obj))]


def without(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    return {key: value for key, value in state.items() if key != name}


NAN = torch.tensor([0.0, float("nan")])
# id: (the crafted zip's members, made from the real state dict s; what the one-line refusal says)
REFUSALS = {
    "no policy": (lambda s: [("policy.pth", None)], "not a Stable-Baselines3 file: it has no policy.pth"),
    "two policies": (lambda s: policy(s) + policy(s), "2 members are named policy.pth"),
    "escaping member": (lambda s: [("../../evil.py", b"x")], "leave the archive's directory: '../../evil.py'"),
    "absolute member": (lambda s: [("/tmp/evil.py", b"x")], "leave the archive's directory: '/tmp/evil.py'"),
    "not torch": (lambda s: [("policy.pth", b"not a torch file")], "policy.pth is not a PyTorch file"),
    "compressed records": (lambda s: [("policy.pth", deflated_records(saved(s)))], "has compressed records"),
    "not a mapping": (lambda s: policy(list(s.values())), "not a mapping of parameter names"),
    "a number": (lambda s: policy({**s, "log_std": 3}), "not floating-point tensors: log_std"),
    "integers": (
        lambda s: policy({**s, "log_std": torch.zeros(2, dtype=torch.long)}),
        "floating-point tensors: log_std",
    ),
    "unexpected key": (lambda s: policy({**s, "extra.weight": torch.zeros(1)}), "network: unexpected extra.weight"),
    "missing key": (lambda s: policy(without(s, "value_net.bias")), "network: missing value_net.bias"),
    "shape": (lambda s: policy({**s, "action_net.bias": torch.zeros(3)}), "action_net.bias (3,) (expected (2,))"),
    "nan": (lambda s: policy({**s, "log_std": NAN}), "non-finite weights in log_std"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=str)
def test_the_reader_refuses_what_is_not_the_configs_policy(nav_baselines, tmp_path, case):
    members, message = REFUSALS[case]
    path = rewrite(
        nav_baselines / "random.zip", tmp_path / "crafted.zip", members(state_of(nav_baselines / "random.zip"))
    )
    with pytest.raises(UserError) as refusal:
        read_ppo_policy(path, method_config(read_baselines(nav_baselines)[0], "random"))
    assert str(refusal.value).startswith(f"{path}: ")
    assert message in str(refusal.value)
    assert "\n" not in str(refusal.value)


def test_the_reader_refuses_a_zip_bomb_before_inflating_it(nav_baselines, tmp_path):
    bomb = [("policy.pth", bytes(MAX_POLICY_BYTES + 1))]  # deflates to about 64 kB
    path = rewrite(nav_baselines / "random.zip", tmp_path / "bomb.zip", bomb, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    with pytest.raises(UserError, match=f"policy.pth would inflate to {MAX_POLICY_BYTES + 1:,} bytes"):
        read_ppo_policy(path, method_config(read_baselines(nav_baselines)[0], "random"))


def test_the_reader_refuses_a_file_that_is_not_a_zip(nav_baselines, tmp_path):
    (tmp_path / "random.zip").write_bytes(b"PK but not really")
    with pytest.raises(UserError, match="not a readable zip file"):
        read_ppo_policy(tmp_path / "random.zip", method_config(read_baselines(nav_baselines)[0], "random"))


def test_compare_refuses_a_manifest_file_outside_the_directory(nav_run, nav_baselines, tmp_path, capsys):
    directory = crafted_dir(nav_baselines, tmp_path, [])
    shutil.copy(nav_baselines / "random.zip", tmp_path / "x.zip")  # a loadable file, but not the directory's
    (directory / "baselines.json").write_text(json.dumps({"random": {"file": "../x.zip"}}))
    assert compare(nav_run, directory, tmp_path) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "baselines.json: file '../x.zip' is not a plain file name" in error


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"random": {"file": "/etc/passwd"}}, "'/etc/passwd' is not a plain file name"),
        ({"random": {"file": "sub/random.zip"}}, "not a plain file name"),
        ({"random": {"file": ".."}}, "not a plain file name"),
        ({"random": {"file": "outside.zip"}}, "'outside.zip' is a symlink that leaves"),
        ({"random": {"file": 3}}, 'random must be an object with a "file" string'),
        ({"random": "random.zip"}, 'random must be an object with a "file" string'),
        ({"expert": {"file": "random.zip"}}, "unknown method 'expert'"),
        (["random.zip"], "expected a JSON object"),
        ("{not json", "is not valid JSON"),
    ],
    ids=str,
)
def test_the_manifest_is_checked(nav_baselines, tmp_path, manifest, message):
    directory = crafted_dir(nav_baselines, tmp_path, [])
    (directory / "outside.zip").symlink_to(tmp_path / "elsewhere.zip")
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (directory / "baselines.json").write_text(text)
    with pytest.raises(UserError, match=r"baselines\.json") as refusal:
        read_manifest(directory)
    assert message in str(refusal.value)


def test_a_symlink_inside_the_directory_is_a_file_of_it(nav_baselines, tmp_path):
    directory = crafted_dir(nav_baselines, tmp_path, [])
    (directory / "link.zip").symlink_to(directory / "random.zip")
    (directory / "baselines.json").write_text(json.dumps({"random": {"file": "link.zip"}}))
    assert read_baselines(directory)[1] == {"random": {"file": "link.zip"}}


@pytest.mark.parametrize("source", ["export", "baselines"])
def test_rlmamls_own_files_load_alike_in_ppo_load_and_the_safe_reader(nav_run, nav_baselines, tmp_path, source):
    if source == "export":
        path = tmp_path / "policy.zip"
        assert main(["export", str(nav_run), "--task", "goal=0.3,-0.2", "--steps", "1", "--out", str(path)]) == 0
        config = replace(read_rl_run_config(nav_run), normalize_actions=False)  # the export acts in the env's bounds
    else:
        path, config = nav_baselines / "random.zip", method_config(read_baselines(nav_baselines)[0], "random")
    model = PPO.load(path, device="cpu")
    policy = read_ppo_policy(path, config)
    observations = torch.randn(16, 2)
    mean, log_std = policy(observations)
    distribution = model.policy.get_distribution(observations).distribution
    assert torch.equal(distribution.mean, mean)
    assert torch.equal(distribution.stddev, log_std.exp())
    actions, _ = model.predict(observations.numpy(), deterministic=True)
    space = model.action_space
    np.testing.assert_array_equal(actions, np.clip(mean.detach().numpy(), space.low, space.high))
