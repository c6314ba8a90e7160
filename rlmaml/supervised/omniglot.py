"""Omniglot (Lake et al. 2015) in its original archive layout: images_background and
images_evaluation, as zips or extracted folders, 1,623 characters of 20 drawings each."""

from __future__ import annotations

from pathlib import Path

from rlmaml.errors import Setting, UserError
from rlmaml.supervised.images import ImageClasses, find_class_files, load_image_classes

PARTS = ("images_background", "images_evaluation")
SOURCE = "https://github.com/brendenlake/omniglot (folder python/)"


def check_omniglot(data_dir: Path) -> None:
    """A UserError naming the folder and where to get the archives, if one is missing."""
    for part in PARTS:
        if not (data_dir / part).is_dir() and not (data_dir / f"{part}.zip").is_file():
            raise UserError(
                f"Omniglot not found: {data_dir.resolve()} holds neither {part}.zip nor an extracted {part}/ "
                f"folder. Download images_background.zip and images_evaluation.zip from {SOURCE} into that "
                "folder, or point data_dir at them (",
                Setting.DATA_DIR,
                ")",
            )


def load_omniglot(data_dir: Path, size: int, channels: int) -> ImageClasses:
    """Every character as a class, strokes bright on a dark background (as in MAML's code)."""
    check_omniglot(data_dir)
    return load_image_classes(find_class_files(data_dir, only=PARTS), size, channels, invert=True)
