"""The comparison methods of the MAML paper's RL experiments (Finn et al. 2017, Figure 5),
trained with Stable-Baselines3 PPO and later adapted exactly as a meta-trained policy is:

- random: the policy network at its initialisation, no training;
- pretrained: one policy trained on the task-randomised env (a new task every episode);
- oracle: a policy trained on an env whose observation includes the task.

A baselines directory holds config.yaml (the RL config they were trained for), one SB3 file
per method and baselines.json with the env steps and wall-clock time each one cost. Reading
one never unpickles: its files are checked and only the zips' tensors are loaded.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from rlmaml.errors import Setting, UserError
from rlmaml.rl.environments import box_actions, env_spaces, make_env
from rlmaml.rl.export import save_atomically
from rlmaml.rl.sb3 import SB3GaussianPolicy, sb3_policy_kwargs
from rlmaml.rl.sb3_file import read_ppo_policy
from rlmaml.runs.checkpoint import atomic_write
from rlmaml.runs.config import typed_config
from rlmaml.runs.config_types import RLConfig
from rlmaml.runs.run_dir import read_run_config, write_config

METHODS = ("random", "pretrained", "oracle")
MANIFEST = "baselines.json"


def method_config(config: RLConfig, method: str) -> RLConfig:
    """The config a method is trained and adapted with: only the oracle sees the task."""
    return replace(config, observe_task=method == "oracle")


def task_randomised_envs(config: RLConfig, num_envs: int) -> DummyVecEnv:
    """`num_envs` copies of the config's env, each drawing a new task every episode (PPO's
    seed seeds env i with seed + i, and with it env i's stream of tasks)."""
    return DummyVecEnv([lambda: Monitor(make_env(config, new_task_each_episode=True)) for _ in range(num_envs)])


def train_method(config: RLConfig, method: str, timesteps: int, num_envs: int, verbose: int) -> PPO:
    """PPO with SB3's defaults, the run's network and discount; `random` is returned untrained."""
    envs = task_randomised_envs(method_config(config, method), num_envs)
    try:
        model = PPO(
            "MlpPolicy",
            envs,
            gamma=config.gamma,
            policy_kwargs=sb3_policy_kwargs(config.hidden_sizes, config.activation),
            seed=config.seed,
            device="cpu",
            verbose=verbose,
        )
        if method != "random":
            model.learn(total_timesteps=timesteps)
    finally:
        envs.close()
    return model


def check_file_name(out: Path, name: str, manifest: Path) -> None:
    """A manifest's file must be a plain name of a file in `out`: a crafted manifest must not
    make rlmaml read, or count as trained, a file elsewhere."""
    if name in ("", ".", "..") or any(c in name for c in "/\\:\0"):
        raise UserError(f"{manifest}: file {name!r} is not a plain file name in {out}")
    try:
        inside = (out / name).resolve().is_relative_to(out.resolve())
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise UserError(f"{manifest}: file {name!r}: {error}") from None
    if not inside:
        raise UserError(f"{manifest}: file {name!r} is a symlink that leaves {out}")


def read_manifest(out: Path) -> dict[str, Any]:
    """baselines.json, checked: an object of method -> {"file": name in `out`, ...}; {} if absent."""
    path = out / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{path}: expected a JSON object of method -> entry")
    for method, entry in manifest.items():
        if method not in METHODS:
            raise UserError(f"{path}: unknown method {method!r} (expected {', '.join(METHODS)})")
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise UserError(f'{path}: {method} must be an object with a "file" string')
        check_file_name(out, entry["file"], path)
    return manifest


def train_baselines(
    config: RLConfig, out: Path, methods: tuple[str, ...], timesteps: int, num_envs: int, verbose: int
) -> dict[str, Any]:
    """Train the methods not yet in `out` (so an interrupted call continues) into `out`;
    a method already there with another PPO budget is an error, not silently kept."""
    box_actions(env_spaces(config)[1], config.env, "rlmaml baselines (SB3's Gaussian PPO policies)")
    mapping = config.to_mapping()  # what config.yaml holds
    if (out / "config.yaml").is_file():
        saved = read_run_config(out)
        if saved != mapping:
            changed = next(key for key in mapping if saved.get(key) != mapping[key])
            raise UserError(
                f"{out} holds baselines of another config (key '{changed}' differs): give another ", Setting.RUN_DIR
            )
    write_config(out, mapping)
    manifest = read_manifest(out)
    for method in methods:
        budget = 0 if method == "random" else timesteps
        if method in manifest and (out / manifest[method]["file"]).is_file():
            if manifest[method].get("timesteps") != budget:
                raise UserError(
                    f"{out} holds {method} trained with ",
                    Setting.TIMESTEPS,
                    f" {manifest[method].get('timesteps', '(unrecorded)')}, not {budget}: give another ",
                    Setting.RUN_DIR,
                )
            print(f"{method}: already in {out}, kept")
            continue
        start = time.perf_counter()
        model = train_method(config, method, timesteps, num_envs, verbose)
        save_atomically(model, out / f"{method}.zip")
        manifest[method] = {
            "file": f"{method}.zip",
            "timesteps": budget,  # requested; PPO rounds up to whole rollouts
            "env_steps": int(model.num_timesteps),
            "wall_time": time.perf_counter() - start,
        }
        write_manifest(out, manifest)
        print(f"{method}: {model.num_timesteps} env steps in {manifest[method]['wall_time']:.0f} s")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2)
    atomic_write(out / MANIFEST, lambda tmp: Path(tmp).write_text(text))


def read_baselines(out: Path) -> tuple[RLConfig, dict[str, Any]]:
    """(config, manifest) of a baselines directory, checked; no SB3 file is read yet."""
    manifest = read_manifest(out)
    if not manifest:
        raise UserError(f"no {MANIFEST} in {out}: train baselines with `rlmaml baselines CONFIG --out {out}`")
    config = typed_config(read_run_config(out))
    if not isinstance(config, RLConfig):
        raise UserError(f"{out}/config.yaml is a supervised config ({config.mode}), not one of baselines")
    return config, manifest


def load_policies(out: Path, config: RLConfig, manifest: dict[str, Any]) -> dict[str, SB3GaussianPolicy]:
    """Each method's policy, rebuilt from `config` (the oracle's observes the task)."""
    return {
        method: read_ppo_policy(out / entry["file"], method_config(config, method))
        for method, entry in manifest.items()
    }


def load_baselines(out: Path) -> tuple[RLConfig, dict[str, SB3GaussianPolicy], dict[str, Any]]:
    """(config, policy per method, manifest) of a baselines directory."""
    config, manifest = read_baselines(out)
    return config, load_policies(out, config, manifest), manifest
