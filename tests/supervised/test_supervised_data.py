"""Image-class loaders (Omniglot's archives, any folder of class sub-folders, zips),
N-way K-shot tasks, and the errors for missing or too small datasets."""

import zipfile

import numpy as np
import pytest
import torch
from supervised_support import OMNIGLOT, requires_omniglot, write_image_folder

from rlmaml.errors import UserError
from rlmaml.supervised.fewshot import FewShotTasks, split_classes
from rlmaml.supervised.images import find_class_files, load_image_classes
from rlmaml.supervised.omniglot import check_omniglot, load_omniglot
from rlmaml.supervised.problems import image_classes


@pytest.fixture(scope="module")
def omniglot():
    return image_classes("omniglot", str(OMNIGLOT), 28, 1)


@requires_omniglot
def test_omniglot_archives_give_1623_characters_of_20_drawings(omniglot):
    assert len(omniglot.names) == 1623
    assert set(omniglot.count) == {20}
    assert omniglot.images.shape == (32460, 1, 28, 28)
    assert omniglot.images.dtype == torch.uint8
    assert sum(name.startswith("images_background/") for name in omniglot.names) == 964
    assert omniglot.names[0] == "images_background/Alphabet_of_the_Magi/character01"
    assert omniglot.images.float().mean() < 60, "strokes should be bright on a dark background"


@requires_omniglot
def test_omniglot_split_and_five_way_one_shot_tasks(omniglot):
    splits = split_classes(len(omniglot.names), 1100, 100)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [1100, 100, 423]
    assert len(set(np.concatenate(list(splits.values())))) == 1623
    tasks = FewShotTasks(omniglot, splits, ways=5, shots=1, query_shots=2, rotations=True)
    assert tasks.classes_in("train") == 4400
    batch = tasks.sample(range(4), seed=3, iteration=7, split="test")
    assert batch.support_inputs.shape == (4, 5, 1, 28, 28)
    assert batch.query_inputs.shape == (4, 10, 1, 28, 28)
    assert batch.support_targets.tolist() == [[0, 1, 2, 3, 4]] * 4
    assert sorted(batch.query_targets[0].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert batch.support_inputs.min() >= 0
    assert batch.support_inputs.max() <= 1
    again = tasks.sample([2], seed=3, iteration=7, split="test")
    assert torch.equal(again.support_inputs[0], batch.support_inputs[2]), "a task does not depend on its chunk"


def test_a_generated_image_folder_loads_the_same_from_a_zip(tmp_path):
    folder = write_image_folder(tmp_path / "pets", classes=6, images=5, nested=True)
    classes = load_image_classes(find_class_files(folder), size=16, channels=3)
    assert classes.names == [f"group{c % 2}/class{c:02d}" for c in (0, 2, 4, 1, 3, 5)]
    assert classes.images.shape == (30, 3, 16, 16)
    assert list(classes.count) == [5] * 6
    archive_dir = tmp_path / "zipped"
    archive_dir.mkdir()
    with zipfile.ZipFile(archive_dir / "pets.zip", "w") as archive:
        for path in sorted(folder.rglob("*.png")):
            archive.write(path, path.relative_to(folder).as_posix())
    from_zip = load_image_classes(find_class_files(archive_dir), size=16, channels=3)
    assert from_zip.names == classes.names
    assert torch.equal(from_zip.images, classes.images)


def test_hidden_files_are_skipped_and_a_broken_image_is_named(tmp_path):
    folder = write_image_folder(tmp_path / "data", classes=2, images=2)
    (folder / ".thumbnails").mkdir()
    (folder / ".thumbnails" / "x.png").write_bytes(b"")
    (folder / "class00" / "._000.png").write_bytes(b"")
    assert [len(files) for files in find_class_files(folder).values()] == [2, 2]
    (folder / "class01" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"cannot read image .*class01/broken\.png"):
        load_image_classes(find_class_files(folder), size=8, channels=1)


def test_rotations_are_classes_of_their_own(tmp_path):
    folder = write_image_folder(tmp_path / "data", classes=2, images=3)
    classes = load_image_classes(find_class_files(folder), size=8, channels=1)
    splits = {"train": np.array([0, 1]), "val": np.array([], dtype=int), "test": np.array([0, 1])}
    tasks = FewShotTasks(classes, splits, ways=8, shots=1, query_shots=2, rotations=True)
    batch = tasks.sample([0], seed=0, iteration=0)
    originals = classes.images.float() / 255
    found = {
        (c, q)
        for c in range(2)
        for q in range(4)
        if any(
            torch.equal(torch.rot90(originals[i], q, (-2, -1)), image)
            for i in range(3 * c, 3 * c + 3)
            for image in batch.support_inputs[0]
        )
    }
    assert len(found) == 8, "each of the 8 classes is one image class under one rotation"


def test_missing_omniglot_names_the_folder_and_where_to_get_it(tmp_path):
    with pytest.raises(UserError, match=f"{tmp_path}.*images_background.zip.*github.com/brendenlake/omniglot"):
        check_omniglot(tmp_path)
    (tmp_path / "images_background").mkdir()
    with pytest.raises(UserError, match="images_evaluation"):
        check_omniglot(tmp_path)


def test_missing_or_empty_folder_dataset(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        image_classes("folder", str(tmp_path / "nothing"), 28, 1)
    with pytest.raises(UserError, match="no images found in"):
        image_classes("folder", str(tmp_path), 28, 1)


def test_more_ways_than_classes_or_more_shots_than_images_is_a_clear_error(tmp_path):
    folder = write_image_folder(tmp_path / "data", classes=6, images=4)
    classes = load_image_classes(find_class_files(folder), size=8, channels=1)
    splits = split_classes(6, 3, 0)
    with pytest.raises(UserError, match="ways = 4 is more than the 3 classes of the train split"):
        FewShotTasks(classes, splits, ways=4, shots=1, query_shots=1, rotations=False)
    with pytest.raises(UserError, match=r"shots \+ query_shots = 5 .* has only 4"):
        FewShotTasks(classes, splits, ways=2, shots=3, query_shots=2, rotations=False)
    with pytest.raises(UserError, match="leave no test classes"):
        split_classes(6, 5, 1)
    tasks = FewShotTasks(classes, splits, ways=2, shots=1, query_shots=1, rotations=False)
    with pytest.raises(UserError, match="0 classes of the val split"):
        tasks.sample([0], seed=0, iteration=0, split="val")


@requires_omniglot
def test_omniglot_from_extracted_folders_matches_the_zip(tmp_path, omniglot):
    """One alphabet of each archive, extracted: same class names and pixels as from the zips."""
    for part in ("images_background", "images_evaluation"):
        with zipfile.ZipFile(OMNIGLOT / f"{part}.zip") as archive:
            members = [
                m for m in archive.namelist() if m.split("/")[1:2] == ["Korean" if "back" in part else "Kannada"]
            ]
            archive.extractall(tmp_path, members)
    extracted = load_omniglot(tmp_path, size=28, channels=1)
    assert len(extracted.names) == 40 + 41
    index = {name: i for i, name in enumerate(omniglot.names)}
    for name, start in zip(extracted.names, extracted.start, strict=True):
        i = index[name]
        assert torch.equal(extracted.images[start], omniglot.images[omniglot.start[i]])


def test_a_damaged_zip_is_named_in_one_clear_error(tmp_path):
    (tmp_path / "images_background.zip").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(UserError, match=r"images_background\.zip is not a readable zip archive"):
        find_class_files(tmp_path)
