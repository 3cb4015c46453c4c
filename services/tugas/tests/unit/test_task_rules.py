"""The task lifecycle as pure rules: who may move a task, from where to where, with which input."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tugas.domain import tasks as rules
from tugas.domain.tasks import IllegalTransition, InvalidInput, NotAllowed

pytestmark = pytest.mark.unit

ATASAN, PEG, OTHER = "198501012010011002", "199501012020011003", "198601012010011005"
TODAY = date(2026, 11, 28)
T1 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
T2 = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)


def assigned(**kw):
    args = dict(task_id="t1", assignee_nip=PEG, assignee_atasan_nip=ATASAN, actor_nip=ATASAN, title="Laporan",
                due_date=date(2026, 12, 1), target_quantity=Decimal("4"), today=TODAY)
    args.update(kw)
    return rules.assign(**args)


def submitted():
    task = rules.start(assigned(), actor_nip=PEG)
    return rules.submit(task, actor_nip=PEG, at=T1, note="selesai", links=("https://x.test/a",))


def test_assign_by_direct_supervisor():
    task = assigned(rhk_id="r1", category="pelayanan")
    assert (task.status, task.nip, task.atasan_nip, task.version) == ("assigned", PEG, ATASAN, 1)
    assert task.target_quantity == Decimal("4") and task.rhk_id == "r1"


@pytest.mark.parametrize("kw, error", [
    ({"actor_nip": OTHER}, NotAllowed),
    ({"assignee_atasan_nip": None}, NotAllowed),
    ({"assignee_nip": ATASAN, "assignee_atasan_nip": ATASAN}, NotAllowed),
    ({"due_date": date(2026, 11, 27)}, InvalidInput),
    ({"target_quantity": Decimal("0")}, InvalidInput),
    ({"target_quantity": Decimal("-1")}, InvalidInput),
    ({"target_quantity": Decimal("NaN")}, InvalidInput),
    ({"title": "   "}, InvalidInput),
])
def test_assign_refusals(kw, error):
    with pytest.raises(error):
        assigned(**kw)


def test_due_today_is_allowed():
    assert assigned(due_date=TODAY).due_date == TODAY


def test_happy_path_keeps_the_approved_submission_time():
    task = submitted()
    assert (task.status, task.submitted_at, task.version) == ("submitted", T1, 3)
    done = rules.approve(task, actor_nip=ATASAN, supervisor_nip=ATASAN, at=T2,
                         realised_quantity=Decimal("3"), quality=85, note="baik")
    assert done.status == "approved"
    assert (done.realised_quantity, done.quality, done.submitted_at, done.approved_at) == (Decimal("3"), 85, T1, T2)
    assert done.version == 4


def test_returned_then_resubmitted_takes_the_new_submission_time():
    task = rules.return_for_revision(submitted(), actor_nip=ATASAN, supervisor_nip=ATASAN, feedback="lengkapi")
    assert (task.status, task.note) == ("returned", "lengkapi")
    again = rules.submit(task, actor_nip=PEG, at=T2)
    assert (again.status, again.submitted_at) == ("submitted", T2)
    done = rules.approve(again, actor_nip=ATASAN, supervisor_nip=ATASAN, at=T2, realised_quantity=Decimal(4), quality=90)
    assert done.submitted_at == T2


@pytest.mark.parametrize("status, action", [
    ("assigned", "submit"), ("assigned", "approve"), ("assigned", "return"),
    ("in_progress", "start"), ("in_progress", "approve"),
    ("submitted", "start"), ("submitted", "submit"),
    ("approved", "approve"), ("approved", "return"), ("approved", "cancel"), ("approved", "submit"),
    ("cancelled", "start"), ("cancelled", "cancel"), ("cancelled", "approve"),
    ("returned", "approve"),
])
def test_illegal_transitions(status, action):
    from dataclasses import replace
    task = replace(assigned(), status=status)
    calls = {
        "start": lambda: rules.start(task, actor_nip=PEG),
        "submit": lambda: rules.submit(task, actor_nip=PEG, at=T1),
        "approve": lambda: rules.approve(task, actor_nip=ATASAN, supervisor_nip=ATASAN, at=T2,
                                         realised_quantity=Decimal(1), quality=50),
        "return": lambda: rules.return_for_revision(task, actor_nip=ATASAN, supervisor_nip=ATASAN, feedback="x"),
        "cancel": lambda: rules.cancel(task, actor_nip=ATASAN, supervisor_nip=ATASAN),
    }
    with pytest.raises(IllegalTransition, match=f"cannot {action} a task that is {status}"):
        calls[action]()


def test_only_assignee_starts_and_submits():
    with pytest.raises(NotAllowed):
        rules.start(assigned(), actor_nip=ATASAN)
    task = rules.start(assigned(), actor_nip=PEG)
    with pytest.raises(NotAllowed):
        rules.submit(task, actor_nip=OTHER, at=T1)


@pytest.mark.parametrize("actor, supervisor", [(OTHER, ATASAN), (PEG, ATASAN), (ATASAN, None), (ATASAN, OTHER)])
def test_only_current_supervisor_decides(actor, supervisor):
    task = submitted()
    with pytest.raises(NotAllowed):
        rules.approve(task, actor_nip=actor, supervisor_nip=supervisor, at=T2, realised_quantity=Decimal(1), quality=1)
    with pytest.raises(NotAllowed):
        rules.return_for_revision(task, actor_nip=actor, supervisor_nip=supervisor, feedback="x")
    with pytest.raises(NotAllowed):
        rules.cancel(task, actor_nip=actor, supervisor_nip=supervisor)


@pytest.mark.parametrize("realised, quality", [
    (Decimal("-1"), 50), (Decimal(1), -1), (Decimal(1), 101), (Decimal(1), 85.5), (Decimal(1), True), (Decimal(1), None),
])
def test_approval_input_checked(realised, quality):
    with pytest.raises(InvalidInput):
        rules.approve(submitted(), actor_nip=ATASAN, supervisor_nip=ATASAN, at=T2,
                      realised_quantity=realised, quality=quality)


@pytest.mark.parametrize("quality", [0, 100])
def test_quality_bounds_inclusive(quality):
    done = rules.approve(submitted(), actor_nip=ATASAN, supervisor_nip=ATASAN, at=T2,
                         realised_quantity=Decimal(0), quality=quality)
    assert done.quality == quality


def test_return_needs_feedback():
    with pytest.raises(InvalidInput):
        rules.return_for_revision(submitted(), actor_nip=ATASAN, supervisor_nip=ATASAN, feedback="  ")


def test_cancel_from_open_states():
    for task in (assigned(), rules.start(assigned(), actor_nip=PEG), submitted()):
        assert rules.cancel(task, actor_nip=ATASAN, supervisor_nip=ATASAN, reason="batal").status == "cancelled"


def test_overdue_after_the_due_day_until_finished():
    from dataclasses import replace
    task = assigned(due_date=date(2026, 12, 1))
    assert not rules.is_overdue(task, today=date(2026, 12, 1))
    assert rules.is_overdue(task, today=date(2026, 12, 2))
    assert rules.is_overdue(replace(task, status="submitted"), today=date(2026, 12, 2))
    assert not rules.is_overdue(replace(task, status="approved"), today=date(2026, 12, 2))
    assert not rules.is_overdue(replace(task, status="cancelled"), today=date(2026, 12, 2))


def proposed(**kw):
    args = dict(task_id="p1", actor_nip=PEG, actor_atasan_nip=ATASAN, title="Usulan: rekap SPJ",
                due_date=date(2026, 12, 5), target_quantity=Decimal(2), today=TODAY)
    args.update(kw)
    return rules.propose(**args)


def test_proposal_accepted_becomes_assigned_with_the_supervisors_changes():
    task = proposed()
    assert (task.status, task.nip, task.atasan_nip) == ("proposed", PEG, ATASAN)
    for action in (lambda: rules.start(task, actor_nip=PEG),
                   lambda: rules.cancel(task, actor_nip=ATASAN, supervisor_nip=ATASAN)):
        with pytest.raises(IllegalTransition):
            action()
    accepted = rules.accept(task, actor_nip=ATASAN, supervisor_nip=ATASAN, today=TODAY,
                            due_date=date(2026, 12, 10), target_quantity=Decimal(3))
    assert (accepted.status, accepted.due_date, accepted.target_quantity) == ("assigned", date(2026, 12, 10), 3)
    assert rules.start(accepted, actor_nip=PEG).status == "in_progress"


def test_proposal_rules():
    with pytest.raises(NotAllowed):
        proposed(actor_atasan_nip=None)
    with pytest.raises(InvalidInput):
        proposed(due_date=date(2026, 11, 1))
    task = proposed()
    with pytest.raises(NotAllowed):
        rules.accept(task, actor_nip=PEG, supervisor_nip=ATASAN, today=TODAY)
    with pytest.raises(NotAllowed):
        rules.reject(task, actor_nip=OTHER, supervisor_nip=ATASAN, reason="x")
    with pytest.raises(InvalidInput):
        rules.accept(task, actor_nip=ATASAN, supervisor_nip=ATASAN, today=date(2026, 12, 6))  # due date now past
    with pytest.raises(InvalidInput):
        rules.accept(task, actor_nip=ATASAN, supervisor_nip=ATASAN, today=TODAY, target_quantity=Decimal(0))
    with pytest.raises(InvalidInput):
        rules.reject(task, actor_nip=ATASAN, supervisor_nip=ATASAN, reason=" ")
    rejected = rules.reject(task, actor_nip=ATASAN, supervisor_nip=ATASAN, reason="bukan prioritas")
    assert (rejected.status, rejected.note) == ("cancelled", "bukan prioritas")
    assert not rules.is_overdue(proposed(), today=date(2027, 1, 1))
    with pytest.raises(IllegalTransition):
        rules.accept(rejected, actor_nip=ATASAN, supervisor_nip=ATASAN, today=TODAY)
