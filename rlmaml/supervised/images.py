"""Image classes from a folder tree or zip archives: every folder that directly holds
images is a class. Images are decoded once, resized and kept as uint8 in memory."""

from __future__ import annotations

import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image

from rlmaml.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class ImageClasses:
    """Class i owns images[start[i] : start[i] + count[i]]; images are [M, C, H, W] uint8."""

    names: list[str]
    images: torch.Tensor
    start: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class ImageFile:
    archive: Path | None  # the zip holding `member`, or None for a file on disk
    member: str


def open_archive(path: Path) -> zipfile.ZipFile:
    """The zip at `path`, or UserError if it is damaged (a partial download, an LFS pointer)."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UserError(f"{path} is not a readable zip archive: download it again") from None


def is_image(path: str) -> bool:
    """An image file by its suffix, outside hidden folders and macOS's __MACOSX metadata."""
    parts = PurePosixPath(path).parts
    return path.lower().endswith(IMAGE_SUFFIXES) and not any(p.startswith((".", "__MACOSX")) for p in parts)


def find_class_files(data_dir: Path, only: Sequence[str] | None = None) -> dict[str, list[ImageFile]]:
    """Class name -> its image files, sorted. Classes are named by their folder's path
    relative to `data_dir`; inside a top-level zip, by the folder's path in the archive (as
    if extracted there), and an extracted folder wins over the zip of the same name.
    `only` keeps just the top-level folders or archives of those names."""
    classes: dict[str, list[ImageFile]] = defaultdict(list)
    for entry in sorted(data_dir.iterdir()):
        stem = entry.stem if entry.suffix == ".zip" else entry.name
        if only is not None and stem not in only:
            continue
        if entry.is_file() and entry.suffix == ".zip" and not (data_dir / entry.stem).is_dir():
            with open_archive(entry) as archive:
                for member in archive.namelist():
                    parent = str(PurePosixPath(member).parent)
                    if is_image(member) and parent != ".":
                        classes[parent].append(ImageFile(entry, member))
        elif entry.is_dir():
            for path in entry.rglob("*"):
                if is_image(path.relative_to(data_dir).as_posix()) and path.is_file():
                    classes[path.parent.relative_to(data_dir).as_posix()].append(ImageFile(None, str(path)))
    return {name: sorted(classes[name], key=lambda f: f.member) for name in sorted(classes)}


def decode(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """[C, size, size] uint8: grey (1 channel) or RGB (3), resized with a Lanczos filter."""
    converted = image.convert("L" if channels == 1 else "RGB").resize((size, size), Image.Resampling.LANCZOS)
    array = np.asarray(converted, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def load_image_classes(
    class_files: dict[str, list[ImageFile]], size: int, channels: int, invert: bool = False
) -> ImageClasses:
    """Decode every file once; `invert` maps dark strokes on white to bright on black."""
    if channels not in (1, 3):
        raise UserError(f"config key 'channels' must be 1 (grey) or 3 (RGB), got {channels}")
    archives: dict[Path, zipfile.ZipFile] = {}

    def read(file: ImageFile) -> np.ndarray:
        try:
            if file.archive is None:
                with Image.open(file.member) as image:
                    return decode(image, size, channels)
            if file.archive not in archives:
                archives[file.archive] = open_archive(file.archive)
            with archives[file.archive].open(file.member) as stream, Image.open(stream) as image:
                return decode(image, size, channels)
        except OSError as error:  # PIL's UnidentifiedImageError included
            where = file.member if file.archive is None else f"{file.archive}:{file.member}"
            raise UserError(f"cannot read image {where}: {error}") from None

    try:
        arrays = [read(file) for files in class_files.values() for file in files]
    finally:
        for archive in archives.values():
            archive.close()
    images = torch.from_numpy(np.stack(arrays)) if arrays else torch.zeros(0, channels, size, size, dtype=torch.uint8)
    if invert:
        images = 255 - images
    count = np.array([len(files) for files in class_files.values()], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return ImageClasses(list(class_files), images, start, count)
