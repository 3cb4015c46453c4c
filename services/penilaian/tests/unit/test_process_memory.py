"""A process's own peak memory is not its starter's: ``ru_maxrss`` of a process started by fork +
exec carries the high-water mark of the process it was forked from (the rebuild started by
``bench/rebuild.py`` reported the benchmark's generated events as its own memory);
``own_peak_rss_mb`` reads this process's ``VmHWM``."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")]

CHILD = ("import resource; from penilaian.adapters.process_memory import own_peak_rss_mb, rss_mb; "
         "print(own_peak_rss_mb(), rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")


def test_a_child_started_by_a_large_process_reports_its_own_peak_not_the_starters():
    held = bytearray(b"\x01") * (300 << 20)  # 300 MiB resident in this process when the child starts
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=120)
    own_peak, now, inherited = map(float, out.stdout.split())
    assert len(held) == 300 << 20
    assert inherited >= 300  # what getrusage says: this process's memory, not the child's
    assert 0 < own_peak < 150 and 0 < now < 150  # the child's own: an interpreter and one module
