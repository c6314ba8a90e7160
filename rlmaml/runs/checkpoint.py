"""Checkpoints: tensors in safetensors plus JSON metadata, written atomically, read
without unpickling anything. The JSON is written last, so a checkpoint whose JSON exists
is complete. Everything read back is checked (metadata types, finite weights) before a
caller acts on it."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rlmaml.errors import UserError
from rlmaml.runs.weights import listed, non_finite

CHECKPOINT_DIR = "checkpoints"
MAX_JSON_BYTES = 16 * 2**20  # a checkpoint's JSON is a few kilobytes: config, counters, small state


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """Call write(tmp_path) on a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temporary_prefix(path))
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp's 0600 otherwise: every run file alike
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def temporary_prefix(path: Path) -> str:
    return f".{path.name}."


# What tempfile.mkstemp(prefix=temporary_prefix(target)) names: the target's name (which has an
# extension) and eight random letters, digits or underscores; and, inside checkpoints/, what
# safetensors' own atomic save names (Rust's tempfile: ".tmp" and six letters or digits).
TEMPORARY = re.compile(r"\.(?P<target>[^/]+\.[^/.]+)\.[a-z0-9_]{8}")
SAFETENSORS_TEMPORARY = re.compile(r"\.tmp[A-Za-z0-9]{6}")


def remove_stale_temporaries(folder: Path) -> None:
    """Delete what `atomic_write` left in `folder` and its checkpoints when a process was
    killed mid-write; only the run's one writer (holding its lock) may call this."""
    for directory, patterns in ((folder, [TEMPORARY]), (folder / CHECKPOINT_DIR, [TEMPORARY, SAFETENSORS_TEMPORARY])):
        for path in directory.glob(".*") if directory.is_dir() else []:
            if path.is_file() and any(pattern.fullmatch(path.name) for pattern in patterns):
                path.unlink()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_checkpoint(run_dir: Path, iteration: int, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> Path:
    """Write checkpoints/NNNNNN.safetensors and .json; returns the JSON's path."""
    stem = Path(run_dir) / CHECKPOINT_DIR / f"{iteration:06d}"
    contiguous = {name: t.detach().contiguous().cpu() for name, t in tensors.items()}
    atomic_write(stem.with_suffix(".safetensors"), lambda tmp: save_file(contiguous, tmp))
    text = json.dumps({"iteration": iteration, **metadata}, indent=2)
    atomic_write_text(stem.with_suffix(".json"), text)
    return stem.with_suffix(".json")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The JSON of the newest complete checkpoint, or None if there is none."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    candidates = sorted(folder.glob("[0-9]*.json")) if folder.is_dir() else []
    return candidates[-1] if candidates else None


def read_json(path: Path, what: str) -> Any:
    """The JSON value in `path`; UserError naming the file if it is unreadable, not UTF-8,
    too large or too deeply nested."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise UserError(f"{what} {path} is larger than {MAX_JSON_BYTES // 2**20} MiB: not one rlmaml wrote")
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{what} {path} is unreadable: {error}") from None
    except RecursionError:
        raise UserError(f"{what} {path} is nested too deeply: not one rlmaml wrote") from None


def check_metadata(json_path: Path, metadata: Any) -> dict[str, Any]:
    """The trainer's metadata, its types and counters checked: whole iterations matching the
    file's name, a finite wall time, mappings for the state and the config."""
    where = f"checkpoint {json_path}"
    if not isinstance(metadata, dict):
        raise UserError(f"{where} is not a JSON object")
    done = metadata.get("iterations_done")
    if not isinstance(done, int) or isinstance(done, bool) or done < 0:
        raise UserError(f"{where}: iterations_done must be a whole number >= 0, got {done!r}")
    if json_path.stem.isdigit() and int(json_path.stem) != done:
        raise UserError(f"{where}: iterations_done is {done} but the file is named for {int(json_path.stem)}")
    wall_time = metadata.get("wall_time")
    if not isinstance(wall_time, (int, float)) or isinstance(wall_time, bool) or not 0 <= wall_time < float("inf"):
        raise UserError(f"{where}: wall_time must be a finite number >= 0, got {wall_time!r}")
    for key in ("state", "config"):
        if not isinstance(metadata.get(key), dict):
            raise UserError(f"{where}: '{key}' must be a JSON object")
    return metadata


def load_checkpoint(json_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, metadata); UserError naming the file if either part is unreadable, the
    metadata is malformed or a weight is not finite."""
    json_path = Path(json_path)
    metadata = check_metadata(json_path, read_json(json_path, "checkpoint"))
    tensor_path = json_path.with_suffix(".safetensors")
    try:
        tensors = load_file(tensor_path)
    except (OSError, SafetensorError, ValueError) as error:
        raise UserError(f"checkpoint {tensor_path} is unreadable: {error}") from None
    infinite = non_finite(tensors)
    if infinite:
        raise UserError(
            f"checkpoint {tensor_path} has non-finite values in {listed(infinite)}: resume from an earlier one"
        )
    return tensors, metadata
