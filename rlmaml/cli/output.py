"""What commands write besides their one-line errors: tables of returns and JSON reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rlmaml.core.statistics import StepStatistic, finite_or_none


def write_json(path: str, report: dict[str, Any]) -> None:
    """The report at `path`, its folder created, written whole or not at all."""
    from rlmaml.runs.checkpoint import atomic_write

    text = json.dumps(report, indent=2)
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text))


def print_returns(returns: list[StepStatistic]) -> None:
    print(f"{'step':>4}  {'mean return':>12}  {'95% CI':>8}")
    for r in returns:
        print(f"{r.step:>4}  {r.mean:>12.2f}  {'±' + format(r.ci95, '.2f'):>8}")


def returns_json(returns: list[StepStatistic]) -> list[dict[str, Any]]:
    return [{**vars(r), "ci95": finite_or_none(r.ci95)} for r in returns]
