"""Property: any sequence of actions by anyone keeps the task in a legal state, moves the version by
one per accepted change, never leaves approved or cancelled, and an approval keeps the time of the
submission it approved."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from tugas.domain import tasks as rules
from tugas.domain.errors import RuleError

pytestmark = pytest.mark.unit

ATASAN, PEG, OTHER = "198501012010011002", "199501012020011003", "198601012010011005"
START = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
ACTIONS = ("start", "submit", "approve", "return", "cancel")

steps = st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from((ATASAN, PEG, OTHER)),
                           st.integers(-5, 120)), max_size=25)


def apply(task, action, actor, number, at):
    if action == "start":
        return rules.start(task, actor_nip=actor)
    if action == "submit":
        return rules.submit(task, actor_nip=actor, at=at)
    if action == "approve":
        return rules.approve(task, actor_nip=actor, supervisor_nip=ATASAN, at=at,
                             realised_quantity=Decimal(max(number, -1)), quality=number)
    if action == "return":
        return rules.return_for_revision(task, actor_nip=actor, supervisor_nip=ATASAN, feedback="revisi")
    return rules.cancel(task, actor_nip=actor, supervisor_nip=ATASAN)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_any_sequence_keeps_the_lifecycle_legal(sequence):
    task = rules.assign(task_id="t", assignee_nip=PEG, assignee_atasan_nip=ATASAN, actor_nip=ATASAN, title="x",
                        due_date=date(2026, 12, 1), target_quantity=Decimal(1), today=date(2026, 11, 28))
    last_submission = None
    for i, (action, actor, number) in enumerate(sequence):
        at = START + timedelta(hours=i)
        try:
            new = apply(task, action, actor, number, at)
        except RuleError:
            continue
        assert task.status not in rules.FINISHED, f"{action} moved a finished task"
        assert task.status in rules.ALLOWED_FROM[action]
        assert new.version == task.version + 1
        assert new.status in rules.STATUSES
        if action in ("start", "submit"):
            assert actor == PEG
        else:
            assert actor == ATASAN
        if action == "submit":
            last_submission = at
        if new.status == rules.APPROVED:
            assert new.submitted_at == last_submission and 0 <= new.quality <= 100
            assert new.realised_quantity >= 0 and new.approved_at == at
        task = new
