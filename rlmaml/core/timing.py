"""Wall-clock accounting of where an iteration's time goes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Seconds per label, summed over the `measure` blocks since the last `reset`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def measure(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - start

    def reset(self) -> dict[str, float]:
        """The totals so far, then start again from zero."""
        totals, self.seconds = dict(self.seconds), defaultdict(float)
        return totals
