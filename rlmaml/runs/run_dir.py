"""A run directory: config.yaml, progress.csv, tensorboard/ and checkpoints/, for runs of
either mode (a meta-RL run's policy is built and loaded by rlmaml/rl/policy_io.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import yaml

from rlmaml.errors import Setting, UserError
from rlmaml.runs.checkpoint import CHECKPOINT_DIR, atomic_write, latest_checkpoint, load_checkpoint
from rlmaml.runs.config import resolve
from rlmaml.runs.config_types import Config
from rlmaml.runs.distributed import Context
from rlmaml.runs.safe_yaml import safe_load

CONFIG_FILE = "config.yaml"
# Keys a resumed run may change: they do not alter the iterations already done
# (cg_subsample: a long run may switch to exact curvature, docs/results.md; the step sizes:
# a run that diverged continues from its last checkpoint with smaller ones; closed_form_curvature:
# the same products, computed another way).
RESUMABLE_CHANGES = (
    "iterations",
    "checkpoint_every",
    "data_dir",
    "cg_subsample",
    "closed_form_curvature",
    "max_skipped_updates",
    "fast_lr",
    "meta_lr",
    "max_kl",
)


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    text = yaml.safe_dump(config, sort_keys=False)
    atomic_write(Path(run_dir) / CONFIG_FILE, lambda tmp: Path(tmp).write_text(text))


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise UserError(f"no run at {run_dir}: {CONFIG_FILE} not found (train one with `rlmaml train`)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is not UTF-8 text (byte {error.start}): restore it from a checkpoint's JSON") from None
    try:
        data = safe_load(text, str(path))
    except yaml.YAMLError as error:
        raise UserError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a config mapping")
    return resolve(data, ())


def keep_run_settings(requested: Config, run_dir: Path, explicit: set[str], context: Context) -> Config:
    """The config a resumed run continues with: the run's own values of the resumable keys
    (config.yaml, read by rank 0 and shared with every process) unless `explicit`ly set
    again, so a resume without a run's earlier --set does not fall back to the packaged
    values (e.g. cg_subsample)."""
    kept: dict[str, Any] = {}
    if context.is_main and (Path(run_dir) / CONFIG_FILE).is_file():
        saved, keys = read_run_config(run_dir), requested.to_mapping()
        kept = {key: saved[key] for key in RESUMABLE_CHANGES if key in saved and key in keys and key not in explicit}
    return replace(requested, **context.broadcast_json(kept))


def check_resumable(saved: dict[str, Any], requested: dict[str, Any]) -> None:
    if saved.keys() != requested.keys():
        differing = ", ".join(sorted(saved.keys() ^ requested.keys()))
        raise UserError(
            Setting.RESUME,
            f": the run was trained with another kind of config (keys {differing} differ); "
            "resume it with the config it was started from",
        )
    for key in saved:
        if key not in RESUMABLE_CHANGES and saved[key] != requested[key]:
            raise UserError(
                Setting.RESUME,
                f": config key '{key}' is {requested[key]!r} but the run used {saved[key]!r}; "
                f"only {', '.join(RESUMABLE_CHANGES)} may change when resuming",
            )


def load_latest_checkpoint(
    run_dir: Path, iteration: int | None = None
) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]]:
    """(its JSON path, tensors, metadata) of the newest checkpoint, or of the one saved after
    `iteration` iterations; UserError if there is no such checkpoint."""
    if iteration is not None:
        checkpoint = Path(run_dir) / CHECKPOINT_DIR / f"{iteration:06d}.json"
        if not checkpoint.is_file():
            saved = sorted(int(p.stem) for p in (Path(run_dir) / CHECKPOINT_DIR).glob("[0-9]*.json"))
            raise UserError(
                Setting.CHECKPOINT, f" {iteration}: {run_dir} has checkpoints after {saved or 'no'} iterations"
            )
        return checkpoint, *load_checkpoint(checkpoint)
    latest = latest_checkpoint(run_dir)
    if latest is None:
        raise UserError(f"no checkpoint in {run_dir}/checkpoints: the run saved none yet")
    return latest, *load_checkpoint(latest)
