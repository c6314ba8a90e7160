"""The meta-batch sharded across the processes `torchrun` starts (gloo on CPU, nccl on GPU).

Every task and episode is seeded from (seed, iteration, task index), so which process
handles a task does not change the task. What processes share are sums and means over
tasks: each process contributes its tasks' terms, the terms are gathered into the order
of the whole meta-batch and reduced there. One process and several therefore reduce the
same numbers in the same order, and agree bit for bit when each process runs torch with
the same number of threads. A single process uses the same calls, which then move nothing.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from rlmaml.errors import RunFailed, Setting, UserError


@dataclass(frozen=True)
class Shard:
    """This process's tasks of a meta-batch of `total`: a contiguous range of task indices."""

    indices: range
    total: int

    @classmethod
    def whole(cls, total: int) -> Shard:
        return cls(range(total), total)


def split(total: int, rank: int, world_size: int) -> range:
    """Rank `rank`'s contiguous part of range(total); the first total % world_size ranks take one more."""
    base, extra = divmod(total, world_size)
    start = rank * base + min(rank, extra)
    return range(start, start + base + (1 if rank < extra else 0))


@dataclass(frozen=True)
class Context:
    """This process's place in the run, and the collectives the learners need."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes the run directory."""
        return self.rank == 0

    def shard(self, total: int) -> Shard:
        if total < self.world_size:
            raise UserError(
                f"meta_batch_size {total} is smaller than the {self.world_size} processes: each needs a task"
            )
        return Shard(split(total, self.rank, self.world_size), total)

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's `tensor` (detached) concatenated along dim 0 in rank order; the
        processes' lengths may differ, even be zero."""
        tensor = tensor.detach()
        if self.world_size == 1:
            return tensor
        with self._collective("gathering per-task results"):
            length = torch.tensor([tensor.shape[0]], device=tensor.device)
            lengths = [torch.zeros_like(length) for _ in range(self.world_size)]
            dist.all_gather(lengths, length)
            counts = [int(n) for n in lengths]
            if max(counts) == 0:
                return tensor
            padded = tensor.new_zeros((max(counts), *tensor.shape[1:]))
            padded[: tensor.shape[0]] = tensor
            parts = [torch.empty_like(padded) for _ in range(self.world_size)]
            dist.all_gather(parts, padded)
        return torch.cat([part[:count] for part, count in zip(parts, counts, strict=True)])

    def sum_over_tasks(self, per_task: torch.Tensor) -> torch.Tensor:
        """The sum over every process's tasks of per-task terms [tasks, ...], in task order."""
        return self.gather(per_task).sum(0)

    def max(self, value: int) -> int:
        """The largest of the processes' `value`s."""
        if self.world_size == 1:
            return value
        with self._collective("agreeing on episode lengths"):
            tensor = torch.tensor([value], device=self.device)
            dist.all_reduce(tensor, dist.ReduceOp.MAX)
        return int(tensor.item())

    def broadcast_json(self, value: Any) -> Any:
        """Rank 0's JSON-able `value` on every process (nothing is unpickled)."""
        if self.world_size == 1:
            return value
        data = json.dumps(value).encode() if self.is_main else b""
        with self._collective("sharing the run's state"):
            size = torch.tensor([len(data)], device=self.device)
            dist.broadcast(size, 0)
            buffer = torch.zeros(int(size.item()), dtype=torch.uint8, device=self.device)
            if self.is_main:
                buffer.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8))
            dist.broadcast(buffer, 0)
        return json.loads(bytes(buffer.cpu().tolist()).decode())

    def broadcast_tensors(self, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Rank 0's named tensors on every process (the others' argument is ignored)."""
        if self.world_size == 1:
            return tensors
        spec = {name: [list(t.shape), str(t.dtype).removeprefix("torch.")] for name, t in tensors.items()}
        spec = self.broadcast_json(spec if self.is_main else None)
        shared = {}
        with self._collective("sharing the run's weights"):
            for name, (shape, dtype) in spec.items():
                tensor = (
                    tensors[name].to(self.device).contiguous()
                    if self.is_main
                    else torch.empty(shape, dtype=getattr(torch, dtype), device=self.device)
                )
                dist.broadcast(tensor, 0)
                shared[name] = tensor
        return shared

    @contextmanager
    def _collective(self, what: str) -> Iterator[None]:
        """A failed collective (a process died, or did not answer within the timeout) as RunFailed."""
        try:
            yield
        except RuntimeError as error:
            raise RunFailed(
                f"process {self.rank} of {self.world_size} lost the others while {what} ({first_line(error)}): "
                "a process died or did not answer within ",
                Setting.TIMEOUT,
                "; the last checkpoint is kept, continue with ",
                Setting.RESUME,
            ) from None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def resolve_device(name: str) -> torch.device:
    """`cpu`, or `cuda` where torch sees a GPU (UserError otherwise)."""
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError(
            Setting.DEVICE,
            " cuda: torch sees no GPU here (torch.cuda.is_available() is False); use ",
            Setting.DEVICE,
            " cpu",
        )
    return torch.device(name)


@contextmanager
def session(timeout_seconds: float, device: str = "cpu") -> Iterator[Context]:
    """This process's context: torchrun's RANK, WORLD_SIZE and LOCAL_RANK if set, else a
    single process. Meeting the other processes, and every collective after it, gives up
    after `timeout_seconds`, so a dead process or a failed rendezvous ends the run with a
    message rather than a hang."""
    torch_device = resolve_device(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        yield Context(device=torch_device)
        return
    rank = int(os.environ["RANK"])
    if torch_device.type == "cuda":
        torch_device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
        torch.cuda.set_device(torch_device)
    backend = "nccl" if torch_device.type == "cuda" else "gloo"
    try:
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_seconds))
    except (RuntimeError, ValueError) as error:
        raise RunFailed(
            f"process {rank} of {world_size} could not meet the others within {timeout_seconds:g} s (",
            Setting.TIMEOUT,
            f"): {first_line(error)}",
        ) from None
    try:
        yield Context(rank, world_size, torch_device)
    finally:
        dist.destroy_process_group()
        # gloo's worker threads free a finished collective's tensors after its wait()
        # returns, which needs the GIL; one still waiting for it when the interpreter shuts
        # down aborts the process ("terminate called without an active exception", seen in
        # about one run in ten). Sleeping releases the GIL and lets them finish first.
        time.sleep(0.1)
