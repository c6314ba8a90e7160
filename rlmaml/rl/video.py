"""Videos of a MuJoCo task: one episode of the policy before and one after adaptation,
rendered offscreen and written as animated GIFs with the return so far on every frame.

On a machine without a display MuJoCo needs a headless OpenGL backend: EGL (Debian/Ubuntu
packages libegl1 libegl-mesa0 libgl1, MUJOCO_GL=egl, the default here when there is no
DISPLAY). OSMesa (MUJOCO_GL=osmesa) did not work with mujoco 4's bindings on our machines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn
from torch.func import functional_call

from rlmaml.core.functional import Params
from rlmaml.envs.protocol import Task
from rlmaml.envs.task_wrappers import TaskWrapper
from rlmaml.errors import Setting, UserError
from rlmaml.rl.environments import make_env
from rlmaml.runs.checkpoint import atomic_write
from rlmaml.runs.config_types import RLConfig

# the frames' size, and the models' camera that follows the torso
RENDER_OPTIONS: dict[str, Any] = {"width": 480, "height": 320, "camera_name": "track"}


def choose_headless_backend() -> None:
    """Default to EGL where there is no display; call before mujoco is imported."""
    if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
        os.environ["MUJOCO_GL"] = "egl"


def rendering_env(config: RLConfig) -> TaskWrapper:
    """The config's env, rendering RGB frames of RENDER_OPTIONS' size and camera."""
    return make_env(config, render_mode="rgb_array", **RENDER_OPTIONS)


def frame(env: TaskWrapper) -> np.ndarray:
    """The env's current frame (an rgb_array env renders one array)."""
    image = env.render()
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected an RGB frame from {env}, got {type(image).__name__}")
    return image


def check_rendering(config: RLConfig) -> None:
    """Render one frame now, so that a missing GL backend is reported before any adaptation."""
    env = rendering_env(config)
    try:
        env.reset(seed=0)
        frame(env)
    except Exception as error:  # MuJoCo and PyOpenGL raise several kinds when no context can be made
        backend = os.environ.get("MUJOCO_GL", "glfw")
        raise UserError(
            Setting.VIDEO,
            f": cannot render with MUJOCO_GL={backend} ({type(error).__name__}); on a headless machine "
            "install libegl1 libegl-mesa0 libgl1 and set MUJOCO_GL=egl",
        ) from None
    finally:
        env.close()


def record_episode(
    config: RLConfig, policy: nn.Module, params: Params, task: Task, seed: int, caption: str
) -> tuple[list[Image.Image], float]:
    """Frames of one episode of the stochastic policy with `params` (one task's) and its return."""
    env = rendering_env(config)
    env.set_task(task)
    noise = torch.Generator().manual_seed(seed)
    frames: list[Image.Image] = []
    total = 0.0
    dtype = next(iter(params.values())).dtype
    try:
        observation, _ = env.reset(seed=seed)
        with torch.no_grad():
            for _ in range(config.horizon):
                frames.append(captioned(frame(env), f"{task}  {caption}   return so far {total:8.1f}"))
                mean, log_std = functional_call(policy, params, (torch.as_tensor(observation, dtype=dtype)[None],))
                action = mean + log_std.exp() * torch.randn(mean.shape, generator=noise, dtype=dtype)
                observation, reward, terminated, truncated, _ = env.step(action[0].numpy())
                total += float(reward)
                if terminated or truncated:
                    break
        frames.append(captioned(frame(env), f"{task}  {caption}   return {total:8.1f}"))
    finally:
        env.close()
    return frames, total


def captioned(pixels: np.ndarray, text: str) -> Image.Image:
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width, 18), fill=(0, 0, 0))
    draw.text((6, 3), text, fill=(255, 255, 255))
    return image


def write_gif(frames: list[Image.Image], path: Path, fps: float) -> None:
    """An endlessly looping GIF, written whole or not at all."""
    duration = round(1000 / fps)

    def save(tmp: str) -> None:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0)

    atomic_write(path, save)


def write_adaptation_videos(
    config: RLConfig,
    policy: nn.Module,
    before: Params,
    after: Params,
    task: Task,
    steps: int,
    out_dir: Path,
    seed: int,
) -> list[Path]:
    """before.gif and after.gif (after `steps` steps) of one task in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    probe = make_env(config)
    fps = 1.0 / float(probe.get_wrapper_attr("dt"))
    probe.close()
    paths: list[Path] = []
    for name, params, caption in (("before", before, "before adaptation"), ("after", after, f"after {steps} step(s)")):
        frames, _ = record_episode(config, policy, params, task, seed, caption)
        path = out_dir / f"{name}.gif"
        write_gif(frames, path, fps)
        paths.append(path)
    return paths
