"""The zoo's tooling on a tiny zoo trained here (evaluate, prune, list, table, resume), and the
repo's own zoo: every shipped entry loads and adapts, and the README's table matches it."""

from __future__ import annotations

import fcntl
import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rlmaml.cli import main
from rlmaml.runs.config import packaged_configs
from rlmaml.runs.run_dir import read_run_config
from rlmaml.zoo.entries import config_name, read_entry
from rlmaml.zoo.evaluation import evaluated
from rlmaml.zoo.reference import PAPER
from rlmaml.zoo.table import CHECKS, END, START

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "navigation2d": ["meta_batch_size=3", "fast_batch_size=4", "horizon=20", "hidden_sizes=[8]", "iterations=2"],
    "sinusoid": ["meta_batch_size=2", "hidden_sizes=[8]", "iterations=3"],
}


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zoo of two tiny runs with a checkpoint after every iteration, trained once."""
    zoo = tmp_path_factory.mktemp("trained") / "zoo"
    for name, overrides in TINY.items():
        args = ["train", name, "--out", str(zoo / name), "--quiet", "--set", *overrides, "checkpoint_every=1"]
        assert main(args) == 0
    return zoo


@pytest.fixture
def zoo(trained: Path, tmp_path: Path) -> Path:
    """A fresh copy of the tiny zoo for a test to evaluate and prune."""
    return Path(shutil.copytree(trained, tmp_path / "zoo"))


def evaluation(entry: Path) -> dict:
    return json.loads((entry / "evaluation.json").read_text())


def test_config_names_and_paper_table() -> None:
    assert set(PAPER) <= set(packaged_configs())
    assert config_name("ant-dir") == "ant-dir"
    assert config_name("sinusoid-s2") == "sinusoid"
    assert config_name("omniglot-5w1s-s3") == "omniglot-5w1s"
    assert config_name("my-run") is None
    assert PAPER["ant-dir"].paper == {0: 8.7, 1: 499.2, 2: 500.7, 3: 499.1}
    assert not PAPER["ant-goal"].paper


def test_evaluate_merges_checkpoints_and_reproduces_adapt(zoo: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    evaluate, nav = script("zoo_evaluate"), zoo / "navigation2d"
    assert evaluate.main([str(nav), "--num-tasks", "2", "--checkpoint", "1"]) == 0
    assert [r["iterations"] for r in evaluation(nav)["checkpoints"]] == [1]
    assert evaluate.main([str(nav), "--num-tasks", "2", "--all-new"]) == 0
    report = evaluation(nav)
    assert report["config"] == "navigation2d"
    # the paper's 4000 env steps a step: 200 episodes at this tiny run's horizon of 20
    assert report["protocol"] == {"num_tasks": 2, "steps": 3, "seed": 0, "lr_schedule": "paper", "episodes": 200}
    assert [r["iterations"] for r in report["checkpoints"]] == [1, 2]
    latest = report["checkpoints"][-1]
    assert [s["step"] for s in latest["returns"]] == [0, 1, 2, 3]
    assert latest["env_steps"] > 0
    assert latest["wall_time"] > 0
    assert (nav / "evaluation.png").stat().st_size > 0
    command = "rlmaml adapt zoo/navigation2d --checkpoint 2 --num-tasks 2 --steps 3 --lr-schedule paper"
    command += " --episodes 200 --seed 0"
    assert report["command"] == command
    # the recorded command prints the same numbers
    monkeypatch.chdir(zoo.parent)
    assert main([*command.split()[1:], "--json", str(tmp_path / "adapt.json")]) == 0
    assert json.loads((tmp_path / "adapt.json").read_text())["returns"] == latest["returns"]
    # another protocol would mix results: refused, the file left as it was
    before = (nav / "evaluation.json").read_text()
    assert evaluate.main([str(nav), "--num-tasks", "3"]) == 2
    assert "protocol" in capsys.readouterr().err
    assert (nav / "evaluation.json").read_text() == before
    assert evaluate.main([str(nav), "--num-tasks", "2", "--checkpoint", "7"]) == 2


def test_supervised_evaluation_uses_the_papers_steps_and_shots(zoo: Path) -> None:
    sinusoid = zoo / "sinusoid"
    assert script("zoo_evaluate").main([str(sinusoid), "--num-tasks", "5"]) == 0
    report = evaluation(sinusoid)
    assert report["protocol"] == {"num_tasks": 5, "steps": 10, "shots": 5, "split": "test", "seed": 0, "metric": "mse"}
    (record,) = report["checkpoints"]
    assert record["iterations"] == 3
    assert len(record["scores"]) == 11
    assert record["env_steps"] is None
    assert report["command"].startswith("rlmaml evaluate zoo/sinusoid --checkpoint 3 --num-tasks 5 --steps 10")


def checkpoints(entry: Path) -> list[str]:
    return sorted(p.name for p in (entry / "checkpoints").iterdir())


def test_prune_keeps_the_newest_the_newest_evaluated_and_unevaluated_and_resume_continues(zoo: Path, capsys) -> None:
    evaluate, prune = script("zoo_evaluate"), script("zoo_prune")
    nav, sinusoid = zoo / "navigation2d", zoo / "sinusoid"
    assert prune.main([str(nav)]) == 2  # nothing evaluated yet
    assert "evaluate it first" in capsys.readouterr().err
    assert evaluate.main([str(nav), "--num-tasks", "2", "--all-new"]) == 0
    assert evaluate.main([str(sinusoid), "--num-tasks", "5"]) == 0  # only the newest, 3
    fd = os.open(nav / ".rlmaml.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a training process holds it
        assert prune.main([str(nav)]) == 2
        assert "being trained" in capsys.readouterr().err
        assert len(checkpoints(nav)) == 4
    finally:
        os.close(fd)
    assert prune.main([str(nav)]) == 0
    assert checkpoints(nav) == ["000002.json", "000002.safetensors"]
    assert [r["iterations"] for r in evaluation(nav)["checkpoints"]] == [1, 2]  # the curve keeps both
    assert prune.main([str(sinusoid)]) == 0
    assert len(checkpoints(sinusoid)) == 6  # 1 and 2 not evaluated, 3 the newest
    # a pruned entry still resumes from its newest checkpoint
    resume = ["train", "navigation2d", "--out", str(nav), "--resume", "--quiet", "--set", *TINY["navigation2d"]]
    assert main([*resume, "iterations=3"]) == 0
    assert "000003.json" in checkpoints(nav)
    # the newest evaluated checkpoint stays beside the newest: the recorded command adapts it
    assert prune.main([str(nav)]) == 0
    assert checkpoints(nav) == ["000002.json", "000002.safetensors", "000003.json", "000003.safetensors"]


def test_prune_keeps_the_checkpoint_the_comparison_adapted(zoo: Path, capsys) -> None:
    evaluate, prune = script("zoo_evaluate"), script("zoo_prune")
    nav = zoo / "navigation2d"
    assert evaluate.main([str(nav), "--num-tasks", "2", "--all-new"]) == 0
    (nav / "compare.json").write_text("{")
    assert prune.main([str(nav)]) == 2
    assert "compare.json is unreadable" in capsys.readouterr().err
    (nav / "compare.json").write_text('{"methods": {}}')  # written before compare recorded its checkpoint
    assert prune.main([str(nav)]) == 2
    assert "names no checkpoint" in capsys.readouterr().err
    assert len(checkpoints(nav)) == 4
    (nav / "compare.json").write_text(json.dumps({"iterations_done": 1, "methods": {}}))
    assert prune.main([str(nav)]) == 0
    assert len(checkpoints(nav)) == 4  # 1 compared, 2 the newest
    (nav / "compare.json").unlink()
    assert prune.main([str(nav)]) == 0
    assert checkpoints(nav) == ["000002.json", "000002.safetensors"]


def test_listing_and_table(zoo: Path, tmp_path: Path, capsys) -> None:
    shutil.copytree(zoo / "navigation2d", zoo / "navigation2d-s2")  # an entry not evaluated
    assert script("zoo_evaluate").main([str(zoo / "navigation2d"), "--num-tasks", "2"]) == 0
    (zoo / "navigation2d" / "compare.json").write_text(json.dumps({"iterations_done": 2, "methods": {}}))
    capsys.readouterr()
    assert main(["zoo", "--dir", str(zoo), "--json", str(tmp_path / "zoo.json")]) == 0
    text = capsys.readouterr().out
    assert "navigation2d (navigation2d, rlmaml/Navigation2D-v0): 2 of 2 iterations" in text
    assert "paper: -11.7 / -3.3 / -3.2" in text
    assert "not evaluated" in text
    assert "python scripts/zoo_evaluate.py zoo/navigation2d-s2" in text
    assert "against the baselines in zoo/navigation2d/baselines (checkpoint 2): zoo/navigation2d/compare.json" in text
    entries = {e["name"]: e for e in json.loads((tmp_path / "zoo.json").read_text())["entries"]}
    assert set(entries) == {"navigation2d", "navigation2d-s2", "sinusoid"}
    nav = entries["navigation2d"]
    assert nav["evaluated_checkpoint"] == 2
    assert [h["step"] for h in nav["headline"]] == [1, 2, 3]
    assert nav["headline"][0]["paper"] == -11.7
    assert nav["command"] == evaluation(zoo / "navigation2d")["command"]
    assert entries["navigation2d-s2"]["config"] == "navigation2d"
    assert entries["navigation2d-s2"]["command"] is None
    assert (nav["compared_checkpoint"], entries["navigation2d-s2"]["compared_checkpoint"]) == (2, None)
    assert main(["zoo", "--dir", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.endswith("give the folder of entries with --dir\n")
    (zoo / "navigation2d-s2" / "evaluation.json").write_text('{"checkpoints": [{"iterations": "two"}]}')
    assert main(["zoo", "--dir", str(zoo)]) == 2
    assert "not an evaluation" in capsys.readouterr().err
    (zoo / "navigation2d-s2" / "evaluation.json").unlink()

    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nabove\n\n{START}\nhand-written\n{END}\n\nbelow\n")
    table = script("zoo_table")
    args = ["--zoo", str(zoo), "--readme", str(readme)]
    assert table.main([*args, "--check"]) == 1
    assert table.main(args) == 0
    assert table.main([*args, "--check"]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nabove\n\n")
    assert text.endswith(f"{END}\n\nbelow\n")
    assert "hand-written" not in text
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| ")}
    assert "`zoo/navigation2d`" in rows
    assert "not evaluated yet" in rows["`zoo/navigation2d-s2`"]
    assert evaluation(zoo / "navigation2d")["command"] in rows["`zoo/navigation2d`"]
    assert "2 of 2" in rows["`zoo/navigation2d`"]
    assert "-11.7 / -3.3 / -3.2" in rows["`zoo/navigation2d`"]
    not_trained = [line for line in text.splitlines() if "not trained yet" in line]
    assert len(not_trained) == len(packaged_configs()) - 2 - len(CHECKS)  # not navigation2d, sinusoid, checks
    assert any("AntGoal" in line and "no paper number" in line for line in not_trained)


def real_entries() -> list[Path]:
    zoo = REPO / "zoo"
    entries = sorted(p for p in zoo.iterdir() if (p / "config.yaml").is_file()) if zoo.is_dir() else []
    return [p for p in entries if any((p / "checkpoints").glob("[0-9]*.json"))]


@pytest.mark.parametrize("entry", real_entries(), ids=lambda p: p.name)
def test_shipped_entry_loads_and_adapts(entry: Path) -> None:
    """What CI proves of every committed entry: its weights load and adapt (read only), those
    of the checkpoint its README row was evaluated at (the row's command adapts it) or else
    the newest."""
    config = read_run_config(entry)
    done = evaluated(read_entry(entry))
    chosen = ["--checkpoint", str(max(done))] if done else []
    if "mode" not in config:
        assert main(["adapt", str(entry), "--num-tasks", "2", "--steps", "1", *chosen]) == 0
        return
    args = ["evaluate", str(entry), "--num-tasks", "5", *chosen]
    shared = REPO.parent / "shared/data/omniglot"
    if config["mode"] == "classification" and not Path(config["data_dir"]).exists() and shared.exists():
        args += ["--data-dir", str(shared)]
    assert main(args) == 0


@pytest.mark.parametrize("entry", real_entries(), ids=lambda p: p.name)
def test_shipped_entry_resumes(entry: Path) -> None:
    """progress.csv's rows rise to the last iteration the newest checkpoint has done, which
    `--resume` needs (rows beyond it, of a run still writing, are allowed); a finished long
    run keeps every tenth row."""
    from rlmaml.runs.logger import kept_rows
    from rlmaml.runs.run_dir import load_latest_checkpoint
    from rlmaml.zoo.thinning import THIN_EVERY

    _, _, metadata = load_latest_checkpoint(entry)
    done = int(metadata["iterations_done"])
    header = (entry / "progress.csv").read_text().split("\n", 1)[0].split(",")
    kept = kept_rows(entry / "progress.csv", header, done)
    iterations = [int(row[0]) for row in kept]
    assert iterations[0] == 0
    assert iterations[-1] == done - 1
    assert all(1 <= b - a <= THIN_EVERY for a, b in itertools.pairwise(iterations))


def entries_with_baselines() -> list[Path]:
    """Entries that ship a comparison with their baselines (a baselines/ folder still being
    trained has no compare.json yet)."""
    return [p for p in real_entries() if (p / "compare.json").is_file()]


@pytest.mark.parametrize("entry", entries_with_baselines(), ids=lambda p: p.name)
def test_shipped_baselines_load_and_compare_with_their_entry(entry: Path, tmp_path: Path) -> None:
    """An entry's PPO baselines (the paper's Figure 5) load and adapt beside its policy, and its
    compare.json was made of the same methods from the checkpoint it names, whose weights ship."""
    shipped = json.loads((entry / "compare.json").read_text())
    report = tmp_path / "compare.json"
    args = ["compare", str(entry), str(entry / "baselines"), "--num-tasks", "2", "--steps", "1", "--episodes", "4"]
    args += ["--checkpoint", str(shipped["iterations_done"]), "--json", str(report), "--plot", str(tmp_path / "c.png")]
    assert main(args) == 0
    assert list(json.loads(report.read_text())["methods"]) == list(shipped["methods"])


def test_the_antdir_protocol_records_its_step_sizes_and_older_records_plot(tmp_path: Path) -> None:
    """AntDir's later steps are a hundredth of fast_lr (its original test script), so its
    protocol names them; records kept from before hold steps 0 and 1 only and still plot."""
    from rlmaml.zoo.evaluation import plot_evaluation, protocol_for

    for name in ("ant-dir", "navigation2d"):
        if not (REPO / "zoo" / name / "config.yaml").is_file():
            pytest.skip(f"zoo/{name} is not shipped")
    ant_dir = read_entry(REPO / "zoo/ant-dir")
    assert protocol_for(ant_dir)["step_sizes"] == pytest.approx([0.1, 0.001, 0.001])
    assert "step_sizes" not in protocol_for(read_entry(REPO / "zoo/navigation2d"))
    assert ant_dir.evaluation is not None
    assert ant_dir.evaluation["protocol"] == protocol_for(ant_dir)  # the shipped file is of today's protocol
    steps = [{"step": k, "mean": 10.0 * k, "ci95": 1.0} for k in range(4)]
    records = [{"iterations": 1, "returns": steps[:2]}, {"iterations": 2, "returns": steps}]
    plot_evaluation({"protocol": protocol_for(ant_dir), "checkpoints": records}, ant_dir.reference, tmp_path / "e.png")
    assert (tmp_path / "e.png").stat().st_size > 10_000


def test_readme_table_matches_the_zoo() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts/zoo_table.py"), "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_long_progress_file_is_thinned_to_every_tenth_row_and_the_last(tmp_path: Path) -> None:
    from rlmaml.zoo.thinning import MAX_ROWS, thin_progress

    rows = [f"{i},{0.5 * i}" for i in range(MAX_ROWS + 5)]
    (tmp_path / "progress.csv").write_text("iteration,wall_time\n" + "".join(row + "\n" for row in rows))
    assert thin_progress(tmp_path) == (MAX_ROWS + 5, MAX_ROWS // 10 + 2)
    kept = (tmp_path / "progress.csv").read_text().splitlines()
    assert kept[:2] == ["iteration,wall_time", "0,0.0"]
    assert kept[-2:] == ["10000,5000.0", "10004,5002.0"]
    assert thin_progress(tmp_path) == (MAX_ROWS // 10 + 2,) * 2
