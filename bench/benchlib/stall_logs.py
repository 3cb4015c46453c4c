"""A benchmark's logs, kept when a run stalled: the processes' logs and PostgreSQL's (with the
plans of its slow statements) live in a throwaway directory, removed at the end unless a run's
figure was far out of line with the others' (or ``KEEP_BENCH`` is set), so that the one run in
ten that stalls can be read afterwards instead of only seen as a spread."""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from pathlib import Path

STALL_RATIO = 10  # a run's figure this many times the median of the others' ...
STALL_S = 60.0  # ... or over this many seconds: the run's logs are kept to be read


def stalled(figures: list[float]) -> list[int]:
    """The runs whose figure is ``STALL_RATIO`` times the median of the others' or over ``STALL_S``."""
    out = []
    for i, figure in enumerate(figures):
        others = figures[:i] + figures[i + 1:]
        if figure > STALL_S or (others and figure >= STALL_RATIO * statistics.median(others)):
            out.append(i)
    return out


class StallLogs:
    """The logs' directory (``workdir``): the processes' of each system under ``workdir/<kind>/logs``,
    PostgreSQL's in ``postgres_log``."""

    def __init__(self, prefix: str = "kinerja-bench-"):
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix))
        self.postgres_log = self.workdir / "postgresql.log"
        self.keep = False  # set by a run that stalled

    def check(self, kind: str, what: str, figures: list[float]) -> None:
        """Keeps the logs, and says where, when one of the runs' ``figures`` (of ``what``) stalled."""
        odd = stalled(figures)
        if odd:
            self.keep = True
            print(f"  !! {what} of run(s) {', '.join(str(i + 1) for i in odd)} took >= {STALL_RATIO}x the "
                  f"others' median or over {STALL_S:.0f} s: logs kept in {self.workdir} (the processes' under "
                  f"{self.workdir / kind / 'logs'}, PostgreSQL's with the slow statements' plans in {self.postgres_log})",
                  flush=True)

    def close(self) -> None:
        if not os.environ.get("KEEP_BENCH") and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"logs kept in {self.workdir}", flush=True)
