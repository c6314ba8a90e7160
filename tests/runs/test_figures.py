"""`rlmaml plot` (training curves) and `rlmaml adapt --video` produce the files they promise."""

import os
import subprocess
import sys

import pytest
from conftest import train_tiny_nav
from PIL import Image

from rlmaml.cli import main
from rlmaml.runs.groups import group_runs

RENDER_PROBE = """
import mujoco
model = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size="1"/></worldbody></mujoco>')
mujoco.Renderer(model, 16, 16).render()
"""


def offscreen_rendering_works() -> bool:
    """Whether MuJoCo can render headless here with the backend `rlmaml adapt --video` picks."""
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    return subprocess.run([sys.executable, "-c", RENDER_PROBE], env=env, capture_output=True).returncode == 0


def test_plot_draws_seeds_of_one_config_as_one_group(tmp_path):
    runs = [tmp_path / f"seed{seed}" for seed in (1, 2)]
    for seed, run in zip((1, 2), runs, strict=True):
        train_tiny_nav(run, "iterations=3", f"seed={seed}")
    train_tiny_nav(tmp_path / "other", "iterations=2", "fast_lr=0.2")
    kind, groups = group_runs([*runs, tmp_path / "other"])
    assert kind == "meta-RL"
    assert [len(progress) for progress in groups.values()] == [2, 1]
    assert list(groups) == ["Navigation2D-v0 fast_lr=0.1", "Navigation2D-v0 fast_lr=0.2"]
    figure = tmp_path / "curves.png"
    assert main(["plot", *map(str, runs), str(tmp_path / "other"), "--out", str(figure)]) == 0
    assert Image.open(figure).size[0] > 800


def test_plot_checks_the_image_format_before_reading_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["plot", str(tmp_path / "missing"), "--out", str(tmp_path / "curves.txt")])
    assert exit_code.value.code == 2
    assert "not an image file name" in capsys.readouterr().err


def test_plot_of_a_run_without_progress_is_one_line(tmp_path, capsys):
    train_tiny_nav(tmp_path / "empty", "iterations=0")
    assert main(["plot", str(tmp_path / "empty"), "--out", str(tmp_path / "c.png")]) == 2
    assert "no progress.csv rows" in capsys.readouterr().err


def test_video_is_for_mujoco_envs(tmp_path, capsys):
    train_tiny_nav(tmp_path / "nav", "iterations=0")
    assert main(["adapt", str(tmp_path / "nav"), "--steps", "1", "--video", str(tmp_path / "video")]) == 2
    assert "--plot" in capsys.readouterr().err


@pytest.mark.skipif(
    not offscreen_rendering_works(),
    reason="no OpenGL backend for headless MuJoCo (MUJOCO_GL=egl failed): install libegl1 libegl-mesa0 libgl1",
)
def test_video_shows_one_episode_before_and_after_adaptation(tmp_path):
    run = tmp_path / "cheetah"
    tiny = ["meta_batch_size=2", "fast_batch_size=2", "horizon=10", "hidden_sizes=[8]", "iterations=0"]
    assert main(["train", "halfcheetah-dir", "--out", str(run), "--quiet", "--set", *tiny]) == 0
    videos = tmp_path / "video"
    assert main(["adapt", str(run), "--task", "direction=-1", "--steps", "1", "--video", str(videos)]) == 0
    for name in ("before.gif", "after.gif"):
        gif = Image.open(videos / name)
        assert gif.size == (480, 320)
        assert gif.n_frames > 1
