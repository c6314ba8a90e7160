"""Helpers for the supervised tests: the shared Omniglot copy, configs, tiny image folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from rlmaml.runs.config import load_config, typed_config
from rlmaml.runs.config_types import ClassificationConfig, SinusoidConfig, SupervisedConfig

OMNIGLOT = Path(__file__).resolve().parents[2] / "shared/data/omniglot"
requires_omniglot = pytest.mark.skipif(
    not (OMNIGLOT / "images_background.zip").is_file() or not (OMNIGLOT / "images_evaluation.zip").is_file(),
    reason=f"Omniglot archives not found in {OMNIGLOT} (images_background.zip, images_evaluation.zip)",
)


def config_of(name: str, **overrides: Any) -> SinusoidConfig | ClassificationConfig:
    """A packaged supervised config with keys replaced, checked against its schema."""
    config = typed_config(load_config(name, [f"{key}={value}" for key, value in overrides.items()]))
    assert isinstance(config, SupervisedConfig), name
    return config


def write_image_folder(root: Path, classes: int, images: int, nested: bool = False) -> Path:
    """`classes` class folders of `images` RGB PNGs each, of varied sizes; class c's images are
    brightest in quadrant c % 4 so that a classifier can tell the classes apart."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = root / (f"group{c % 2}/class{c:02d}" if nested else f"class{c:02d}")
        folder.mkdir(parents=True)
        for i in range(images):
            size = 20 + 4 * (i % 3)
            pixels = rng.integers(0, 60, size=(size, size, 3), dtype=np.uint8)
            half = size // 2
            row, col = divmod(c % 4, 2)
            pixels[row * half : (row + 1) * half, col * half : (col + 1) * half] += 180
            pixels[..., c % 3] = np.clip(pixels[..., c % 3].astype(int) + 15 * c, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return root


@pytest.fixture
def single_thread():
    """The supervised tests' models are tiny: one thread is faster, and on a busy machine
    torch's two threads can wait on each other for most of a run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
