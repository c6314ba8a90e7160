"""Checkpoints: tensors in safetensors plus JSON metadata, written atomically, read
without unpickling anything. The JSON is written last, so a checkpoint whose JSON exists
is complete."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rlmaml.errors import UserError

CHECKPOINT_DIR = "checkpoints"


def atomic_write(path: Path, write: Any) -> None:
    """Call write(tmp_path) on a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(run_dir: Path, iteration: int, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> Path:
    """Write checkpoints/NNNNNN.safetensors and .json; returns the JSON's path."""
    stem = Path(run_dir) / CHECKPOINT_DIR / f"{iteration:06d}"
    contiguous = {name: t.detach().contiguous().cpu() for name, t in tensors.items()}
    atomic_write(stem.with_suffix(".safetensors"), lambda tmp: save_file(contiguous, tmp))
    text = json.dumps({"iteration": iteration, **metadata}, indent=2)
    atomic_write(stem.with_suffix(".json"), lambda tmp: Path(tmp).write_text(text))
    return stem.with_suffix(".json")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The JSON of the newest complete checkpoint, or None if there is none."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    candidates = sorted(folder.glob("[0-9]*.json")) if folder.is_dir() else []
    return candidates[-1] if candidates else None


def load_checkpoint(json_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, metadata); UserError naming the file if either part is unreadable."""
    try:
        metadata = json.loads(Path(json_path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"checkpoint {json_path} is unreadable: {error}") from None
    tensor_path = Path(json_path).with_suffix(".safetensors")
    try:
        tensors = load_file(tensor_path)
    except (OSError, SafetensorError, ValueError) as error:
        raise UserError(f"checkpoint {tensor_path} is unreadable: {error}") from None
    return tensors, metadata
