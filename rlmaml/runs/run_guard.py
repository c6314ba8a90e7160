"""What keeps a run directory whole while a trainer writes it: one writer at a time (an OS
file lock, released by the kernel when the process dies, so kill -9 leaves no stale lock)
and SIGTERM / SIGINT turned into an orderly stop between two complete iterations."""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from rlmaml.errors import UserError

LOCK_FILE = ".rlmaml.lock"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunLock:
    """An exclusive flock on RUN_DIR/.rlmaml.lock holding the writer's PID."""

    def __init__(self, run_dir: Path) -> None:
        path = Path(run_dir) / LOCK_FILE
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise UserError(f"cannot write to the run directory {run_dir}: {error.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            raise UserError(
                f"{run_dir} is being written by another rlmaml process (PID {holder}): wait for it or stop it"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the lock; the file stays, empty locks are harmless
            self.fd = -1


class StopRequested(BaseException):
    """Raised in the main thread at the first SIGTERM or SIGINT: the iteration under way is
    abandoned (a BaseException, so no `except Exception` in the learners swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_behind(error: BaseException) -> StopRequested | None:
    """The StopRequested that `error` was raised while handling, if any. A signal can land
    where a library cannot unwind cleanly: in torch.func.vmap's nesting bookkeeping it
    leaves functorch's layer stack inconsistent, and vmap's cleanup then raises a
    RuntimeError whose context is the StopRequested."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StopRequested):
            return seen
        seen = seen.__context__
    return None


class SignalStop:
    """The first SIGTERM or SIGINT raises StopRequested at once, unless it arrives inside
    `deferred()`, whose work (a progress row, a checkpoint) then finishes first; later
    signals are ignored, so the checkpoint written while stopping is not cut short."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.deferring = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
            if not self.deferring:
                raise StopRequested(signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.received is not None:
            raise StopRequested(self.received)


@contextmanager
def stop_on_signals() -> Iterator[SignalStop]:
    """SIGTERM and SIGINT handled by a SignalStop within the block. Outside the main thread
    (where Python cannot install handlers) signals keep their handlers."""
    stop = SignalStop()
    try:
        previous = {s: signal.signal(s, stop.handle) for s in STOP_SIGNALS}
    except ValueError:  # not the main thread
        yield stop
        return
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
