"""A process's own peak resident memory.

``getrusage().ru_maxrss`` is not it on Linux: a process started by fork + exec (``subprocess``,
multiprocessing's ``spawn``) inherits the high-water mark of the process it was forked from, so a
rebuild started by a benchmark that holds a million generated events in memory reported that
benchmark's memory as its own (1,428 MB at 1 M events; its own peak was a fraction of it), and a
worker reported at least its parent's. ``VmHWM`` in ``/proc/self/status`` is the peak of this
process's own address space since its exec; ``ru_maxrss`` is the fallback where there is no
``/proc``."""
from __future__ import annotations

import resource
import sys

_STATUS = "/proc/self/status"


def own_peak_rss_mb() -> float:
    """This process's peak resident memory since it started (its exec), in MiB."""
    found = _status("VmHWM:")
    if found is not None:
        return found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    """This process's resident memory now, in MiB (0.0 where there is no ``/proc``)."""
    return _status("VmRSS:") or 0.0


def _status(field: str) -> float | None:
    try:
        with open(_STATUS, encoding="ascii") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None
