"""The zoo: run directories shipped under `zoo/` so users adapt a meta-trained policy without
training it, each with `evaluation.json` (the paper's protocol on its checkpoints). This
module reads entries and sets them against the paper's numbers (rlmaml.zoo.reference);
`rlmaml zoo` lists them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlmaml.errors import Setting, UserError
from rlmaml.runs.checkpoint import latest_checkpoint
from rlmaml.runs.config import packaged_configs, typed_config
from rlmaml.runs.config_types import Config, SupervisedConfig
from rlmaml.runs.run_dir import CONFIG_FILE, load_latest_checkpoint, read_run_config
from rlmaml.zoo.reference import Reference, reference_for

EVALUATION_FILE = "evaluation.json"
FIGURE_FILE = "evaluation.png"
COMPARE_FILE = "compare.json"  # `rlmaml compare` of the entry and its baselines/ (the paper's Figure 5)
SKIPPED_IN_SIZE = ("tensorboard",)  # git-ignored in the zoo


def config_name(entry_name: str) -> str | None:
    """The packaged config an entry was trained from: its own name, or the longest config name
    it starts with followed by '-' (`sinusoid-s2` -> `sinusoid`)."""
    names = packaged_configs()
    if entry_name in names:
        return entry_name
    prefixes = [name for name in names if entry_name.startswith(name + "-")]
    return max(prefixes, key=len) if prefixes else None


@dataclass
class Entry:
    path: Path
    config_name: str | None
    config: Config
    iterations_done: int
    evaluation: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def reference(self) -> Reference:
        return reference_for(self.config_name, self.config)

    @property
    def kind(self) -> str:
        """The env id, or the supervised mode."""
        return self.config.mode if isinstance(self.config, SupervisedConfig) else self.config.env

    @property
    def size_bytes(self) -> int:
        """What the entry weighs in git: every file but the git-ignored ones."""
        files = (p for p in self.path.rglob("*") if p.is_file())
        return sum(p.stat().st_size for p in files if p.relative_to(self.path).parts[0] not in SKIPPED_IN_SIZE)


def shown_path(path: Path) -> str:
    """An entry as the commands name it: `zoo/NAME`, relative to the folder holding the zoo,
    so the commands recorded in evaluation.json and the README read the same on any machine."""
    path = Path(path).resolve()
    return f"{path.parent.name}/{path.name}"


def read_entry(path: Path) -> Entry:
    """An entry's config, its iterations done (the newest checkpoint's; 0 before the first)
    and its evaluation, all checked on reading."""
    path = Path(path)
    config = typed_config(read_run_config(path))
    done = 0
    if latest_checkpoint(path) is not None:
        done = load_latest_checkpoint(path)[2]["iterations_done"]
    evaluation = read_evaluation(path / EVALUATION_FILE) if (path / EVALUATION_FILE).is_file() else None
    return Entry(path, config_name(path.name), config, done, evaluation)


def read_evaluation(path: Path) -> dict[str, Any]:
    """evaluation.json, its shape checked: a protocol, and checkpoints with whole iterations."""
    try:
        evaluation = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is unreadable: {error}") from None
    records = evaluation.get("checkpoints") if isinstance(evaluation, dict) else None
    whole = isinstance(records, list) and all(isinstance(r, dict) and type(r.get("iterations")) is int for r in records)
    if not (isinstance(evaluation, dict) and whole and isinstance(evaluation.get("protocol"), dict)):
        raise UserError(f"{path} is not an evaluation scripts/zoo_evaluate.py wrote: restore it from git")
    return evaluation


def compared_checkpoint(path: Path) -> int | None:
    """The checkpoint the entry's compare.json adapted, whose weights must stay so the
    comparison reproduces; None without one."""
    file = Path(path) / COMPARE_FILE
    if not file.is_file():
        return None
    try:
        done = json.loads(file.read_bytes().decode("utf-8")).get("iterations_done")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise UserError(f"{file} is unreadable ({error}): restore it from git") from None
    if type(done) is not int:
        raise UserError(f"{file} names no checkpoint (iterations_done): write it anew with `rlmaml compare --json`")
    return done


def zoo_entries(zoo_dir: Path) -> list[Entry]:
    """Every run directory (a folder with config.yaml) in the zoo, by name."""
    zoo_dir = Path(zoo_dir)
    if not zoo_dir.is_dir():
        raise UserError(f"no zoo at {zoo_dir}: give the folder of entries with ", Setting.ZOO_DIR)
    return [read_entry(p) for p in sorted(zoo_dir.iterdir()) if (p / CONFIG_FILE).is_file()]


def latest_record(evaluation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The evaluation of the newest evaluated checkpoint (the one whose weights are kept)."""
    records = (evaluation or {}).get("checkpoints") or []
    return max(records, key=lambda record: record["iterations"]) if records else None


def statistics_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A checkpoint's per-step statistics: success rates (Meta-World), returns (other meta-RL) or
    scores (supervised)."""
    return record.get("successes") or record.get("returns") or record.get("scores") or []


def headline(entry: Entry) -> list[dict[str, Any]]:
    """Per headline step: rlmaml's mean and CI (None before evaluation) and the paper's."""
    reference, record = entry.reference, latest_record(entry.evaluation)
    by_step = {s["step"]: s for s in statistics_of(record)} if record else {}
    return [
        {
            "step": step,
            "evaluated": step in by_step,
            "mean": by_step.get(step, {}).get("mean"),
            "ci95": by_step.get(step, {}).get("ci95"),
            "paper": reference.paper.get(step),
            "paper_ci95": reference.paper_ci95.get(step),
        }
        for step in reference.headline
    ]


def format_value(metric: str, mean: float | None, ci95: float | None = None, exact: bool = False) -> str:
    """A mean with its CI as the README writes it: returns to 0.1, MSE to 0.001, accuracy in %;
    `exact`: with the digits the number has (the paper's, as printed there)."""
    if mean is None:
        return "not finite"
    formats = {"return": (1, 1, ""), "mse": (1, 3, ""), "accuracy": (100, 1, " %"), "success": (100, 1, " %")}
    scale, digits, unit = formats[metric]
    style = "g" if exact else f".{digits}f"
    text = format(mean * scale, style)
    return text + (f" ± {format(ci95 * scale, style)}" if ci95 is not None else "") + unit


def paper_text(reference: Reference) -> str:
    """The paper's numbers after the headline steps, ' / ' between steps."""
    if not reference.paper:
        return "no paper number"
    values = ((reference.paper.get(s), reference.paper_ci95.get(s)) for s in reference.headline)
    text = " / ".join(
        format_value(reference.metric, mean, ci, exact=True) if mean is not None else "—" for mean, ci in values
    )
    return f"{text} ({reference.source})" if reference.source else text


def result_text(entry: Entry) -> str:
    """rlmaml's headline numbers, ' / ' between steps."""
    metric = entry.reference.metric
    rows = headline(entry)
    return " / ".join(format_value(metric, row["mean"], row["ci95"]) if row["evaluated"] else "—" for row in rows)


def steps_word(step: int) -> str:
    return f"{step} step{'' if step == 1 else 's'}"


def steps_text(reference: Reference) -> str:
    """What a row reports, e.g. 'return after 1 / 2 / 3 steps'."""
    what = {"return": "return", "mse": "MSE", "accuracy": "accuracy", "success": "test-goal success"}[reference.metric]
    count = " / ".join(map(str, reference.headline))
    return f"{what} after {count} step{'' if reference.headline == (1,) else 's'}"


def evaluate_command(entry: Entry) -> str:
    return f"python scripts/zoo_evaluate.py {shown_path(entry.path)}"


def describe(entry: Entry) -> dict[str, Any]:
    """An entry as `rlmaml zoo --json` writes it."""
    record = latest_record(entry.evaluation)
    return {
        "name": entry.name,
        "config": entry.config_name,
        "kind": entry.kind,
        "iterations_done": entry.iterations_done,
        "iterations": entry.config.iterations,
        "size_bytes": entry.size_bytes,
        "metric": entry.reference.metric,
        "evaluated_checkpoint": record["iterations"] if record else None,
        "headline": headline(entry),
        "command": (entry.evaluation or {}).get("command") if record else None,
        "evaluate_command": evaluate_command(entry),
        "compared_checkpoint": compared_checkpoint(entry.path),
    }


def entry_lines(entry: Entry) -> list[str]:
    """An entry as `rlmaml zoo` prints it: what it is, how far it trained, its headline
    result against the paper's, and the command that reproduces (or makes) its evaluation."""
    config = entry.config_name or "no packaged config"
    lines = [
        f"{entry.name} ({config}, {entry.kind}): {entry.iterations_done} of {entry.config.iterations} "
        f"iterations, {entry.size_bytes / 1e6:.2f} MB"
    ]
    record, reference = latest_record(entry.evaluation), entry.reference
    if record is None:
        lines.append(f"  not evaluated; paper, {steps_text(reference)}: {paper_text(reference)}")
        return [*lines, f"  evaluate: {evaluate_command(entry)}"]
    lines.append(f"  checkpoint {record['iterations']}, {steps_text(reference)}: {result_text(entry)}")
    lines.append(f"  paper: {paper_text(reference)}")
    lines.append(f"  reproduce: {(entry.evaluation or {}).get('command')}")
    if record["iterations"] < entry.iterations_done:
        lines.append(f"  checkpoint {entry.iterations_done} not evaluated yet: {evaluate_command(entry)}")
    compared = compared_checkpoint(entry.path)
    if compared is not None:
        shown = shown_path(entry.path)
        lines.append(f"  against the baselines in {shown}/baselines (checkpoint {compared}): {shown}/{COMPARE_FILE}")
    return lines


def listing(entries: list[Entry], zoo_dir: Path) -> str:
    """The text of `rlmaml zoo`."""
    header = f"{zoo_dir}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    return "\n".join([header, *(line for entry in entries for line in entry_lines(entry))])
