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


def print_returns(returns: list[StepStatistic], successes: list[StepStatistic] | None = None) -> None:
    """The table of mean returns per step, and of success rates where the env reports them."""
    header = f"{'step':>4}  {'mean return':>12}  {'95% CI':>8}"
    print(header + (f"  {'success':>8}  {'95% CI':>8}" if successes else ""))
    for k, r in enumerate(returns):
        row = f"{r.step:>4}  {r.mean:>12.2f}  {'±' + format(r.ci95, '.2f'):>8}"
        if successes:
            s = successes[k]
            row += f"  {s.mean:>8.1%}  {'±' + format(s.ci95, '.1%'):>8}"
        print(row)


def returns_json(returns: list[StepStatistic]) -> list[dict[str, Any]]:
    return [{**vars(r), "ci95": finite_or_none(r.ci95)} for r in returns]
