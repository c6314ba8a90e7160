"""Large freed blocks are reused, not faulted in again: checked by counting page faults in a
fresh process (the setting is process-wide and cannot be undone)."""

import subprocess
import sys

import pytest

COUNT_FAULTS = """
import resource, sys, torch
from rlmaml.core.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
for _ in range(20):  # 64 MB blocks, touched then freed; glibc keeps about eight, then reuses them
    torch.ones(16_000_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.ones(16_000_000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults_of_a_later_block(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", COUNT_FAULTS, mode], capture_output=True, text=True, check=True)
    return int(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_a_freed_block_is_reused_without_page_faults():
    assert faults_of_a_later_block("default") > 10_000  # 64 MB is 15,625 pages of 4 KiB
    assert faults_of_a_later_block("keep") < 1_000
