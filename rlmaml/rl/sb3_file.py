"""Stable-Baselines3 PPO zips read without unpickling anything.

A baselines directory may come from someone else, and `PPO.load` unpickles the `:serialized:`
objects of a zip's `data` (code runs). Here only the zip's policy.pth is read, with torch's
weights-only loader, into a network rlmaml builds from its own config; anything else in the
file is ignored, and anything unexpected is a one-line UserError naming the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import NoReturn

import torch

from rlmaml.errors import UserError
from rlmaml.rl.environments import box_actions, env_spaces
from rlmaml.rl.sb3 import SB3GaussianPolicy, sb3_actor_critic
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.weights import listed, load_weights

POLICY_MEMBER = "policy.pth"
# Far above the policy.pth of any network rlmaml trains (kilobytes to a few megabytes),
# far below what a zip bomb would inflate to.
MAX_POLICY_BYTES = 64 * 2**20


def fail(path: Path, problem: str) -> NoReturn:
    raise UserError(f"{path}: {problem}")


def one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def escapes(name: str) -> bool:
    """Whether a zip member's name would land outside the directory it were extracted to."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts or ":" in name


def read_member(path: Path, name: str) -> bytes:
    """The zip's member `name`, once every member's name and this member's size are checked."""
    if not path.is_file():
        fail(path, "not found")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        fail(path, f"not a readable zip file ({one_line(error)})")
    with archive:
        infos = archive.infolist()
        outside = [info.filename for info in infos if escapes(info.filename)]
        if outside:
            fail(path, f"member names that leave the archive's directory: {listed(map(repr, outside))}")
        matching = [info for info in infos if info.filename == name]
        if not matching:
            fail(path, f"not a Stable-Baselines3 file: it has no {name}")
        if len(matching) > 1:
            fail(path, f"{len(matching)} members are named {name}: which one SB3 would read is unclear")
        if matching[0].file_size > MAX_POLICY_BYTES:
            fail(path, f"{name} would inflate to {matching[0].file_size:,} bytes, more than {MAX_POLICY_BYTES:,}")
        try:
            with archive.open(matching[0]) as member:
                data = member.read(MAX_POLICY_BYTES + 1)
        except Exception as error:  # zipfile's kinds: bad CRC, encryption, unknown compression, I/O
            fail(path, f"cannot read {name} ({one_line(error)})")
    if len(data) > MAX_POLICY_BYTES:  # zipfile stops at the declared size; this does not rely on it
        fail(path, f"{name} inflates to more than {MAX_POLICY_BYTES:,} bytes")
    return data


def check_torch_archive(path: Path, data: bytes) -> None:
    """policy.pth is itself a zip (torch.save's format), of uncompressed records only: torch's
    own reader must not be handed anything to inflate either."""
    try:
        records = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        fail(path, f"{POLICY_MEMBER} is not a PyTorch file (torch.save's zip format)")
    packed = [r.filename for r in records if r.compress_type != zipfile.ZIP_STORED or r.file_size != r.compress_size]
    if packed:
        fail(path, f"{POLICY_MEMBER} has compressed records, which torch.save never writes: {listed(packed)}")


def policy_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in the zip's policy.pth, refused unless it is names -> float tensors."""
    data = read_member(path, POLICY_MEMBER)
    check_torch_archive(path, data)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # the loader's refusals (unsupported globals) and damaged records
        # torch names the refused callable inside a paragraph of advice on how to allow it
        called = re.search(r"GLOBAL (\S+)", str(error))
        if called:
            fail(path, f"{POLICY_MEMBER} is not plain tensors: unpickling it would call {called[1]} (refused)")
        fail(path, f"{POLICY_MEMBER} is damaged: {one_line(error)}")
    if not isinstance(state, dict) or not all(isinstance(name, str) for name in state):
        fail(path, f"{POLICY_MEMBER} is not a mapping of parameter names to tensors")
    others = [
        name
        for name, value in state.items()
        if not isinstance(value, torch.Tensor) or value.layout != torch.strided or not value.is_floating_point()
    ]
    if others:
        fail(path, f"{POLICY_MEMBER} has entries that are not floating-point tensors: {listed(others)}")
    return dict(state)


def read_ppo_policy(path: Path, config: RLConfig) -> SB3GaussianPolicy:
    """The policy of the SB3 PPO zip at `path`, trained on `config`'s env (its observation and
    action spaces) with `config`'s network; the rest of the zip (`data`, optimizer) is unread."""
    state = policy_tensors(path)
    with torch.random.fork_rng(devices=[]):  # building the network must not shift the caller's seeds
        observations, actions = env_spaces(config)
        network = sb3_actor_critic(
            observations, box_actions(actions, config.env, str(path)), config.hidden_sizes, config.activation
        )
    load_weights(network, state, f"{path}: {POLICY_MEMBER}")
    return SB3GaussianPolicy(network)
