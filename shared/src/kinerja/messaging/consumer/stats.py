"""What a consumer loop has done, counted by outcome."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    skipped: int = 0  # passed over by ``skip`` or ``wants``: neither applied nor recorded
    batches: int = 0  # batches applied in one transaction
    fallbacks: int = 0  # batches whose transaction failed, applied message by message instead
    polls: int = 0  # polls that returned records
    paced: int = 0  # pauses before a poll (``poll_gap_s``): the poll before returned few records
    forced_rejoins: int = 0  # group joins kafka-python left unapplied (consumer.rejoin), redone
    commits: int = 0  # offset commits sent (``commit_interval_s``: at most one per interval while busy)
    by_type: dict[str, int] = field(default_factory=dict)
