"""envs/ installs as rlmaml.envs, never as a top-level `envs` (a popular PyPI name)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import rlmaml.envs, importlib.util; print(rlmaml.envs.__file__); print(importlib.util.find_spec('envs'))"


def run_probe(cwd: Path, env: dict | None = None) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_installed_package_maps_envs_to_rlmaml_envs(tmp_path):
    module_file, top_level = run_probe(tmp_path)
    installed_from = Path(module_file).parent
    assert installed_from == ROOT / "envs" or installed_from.parts[-2:] == ("rlmaml", "envs")
    assert top_level == "None"


def test_built_wheel_contains_rlmaml_envs_and_no_top_level_envs(tmp_path):
    source = tmp_path / "source"  # build a copy: setuptools writes build/ beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "runs", "*.egg-info", "__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("rlmaml-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "rlmaml/envs/navigation.py" in names
    assert "rlmaml/configs/navigation2d.yaml" in names
    assert not any(name.startswith("envs/") for name in names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    module_file, top_level = run_probe(tmp_path, env)
    assert Path(module_file).is_relative_to(target)
    assert top_level == "None"
