"""Who is told what: the notifications one event gives, with their text in Bahasa Indonesia.

Pure functions over plain values (the event's data as a dict, the people it concerns); no I/O and
no imports of the rest of the system. The service layer maps event types to these functions.
One module per kind of news (``scores``, ``tasks``, ``discipline``, ``approvals``); what a rule
gives (``drafts``) and how dates and scores read (``wording``) are shared by them.

Recipients:
- the ASN the event concerns, for everything that happens to them (score, tasks assigned to them,
  approved, returned, cancelled or overdue, SKP approved, innovation approved, discipline alerts and
  their withdrawal);
- their supervisor (atasan) where it concerns the team: score updates, and every submission that
  waits for them (a task submitted for approval, a task or an innovation proposed, an SKP
  submitted, a correction of a forgotten punch or a leave request asked for), a task overdue,
  and discipline alerts (PP 94/2021 asks the atasan to act on them) and
  their withdrawal (the facts changed: there is no longer anything to act on).
  A supervisor is not told about what they did themselves (assigning, approving, returning,
  cancelling a task);
- feedback goes to its named recipient only.
"""
from notifikasi.domain.messages.approvals import (DECISIONS, LEAVE_KINDS, correction_decided, correction_requested,
                                                  innovation_proposed, leave_decided, leave_requested, skp_submitted,
                                                  task_proposed)
from notifikasi.domain.messages.discipline import discipline_alert, discipline_withdrawn
from notifikasi.domain.messages.drafts import (ASN, ATASAN, CORRECTION_DECIDED, CORRECTION_REQUESTED, DISCIPLINE_ALERT,
                                               DISCIPLINE_WITHDRAWN, FEEDBACK_POSTED, INNOVATION_APPROVED,
                                               INNOVATION_PROPOSED, LEAVE_DECIDED, LEAVE_REQUESTED, SCORE_UPDATED,
                                               SKP_APPROVED, SKP_SUBMITTED, TASK_APPROVED, TASK_ASSIGNED,
                                               TASK_CANCELLED, TASK_OVERDUE, TASK_PROPOSED, TASK_RESCHEDULED,
                                               TASK_RETURNED, TASK_SUBMITTED, Draft, Person, Rule, supervisor,
                                               unique_recipients)
from notifikasi.domain.messages.scores import COMPONENT_LABELS, format_total, score_updated
from notifikasi.domain.messages.tasks import (feedback_posted, innovation_approved, skp_approved, task_approved,
                                              task_assigned, task_cancelled, task_overdue, task_rescheduled,
                                              task_returned, task_submitted)
from notifikasi.domain.messages.wording import MONTHS, QUARTERS, format_date, format_period, format_score

__all__ = [
    "ASN", "ATASAN", "COMPONENT_LABELS", "CORRECTION_DECIDED", "CORRECTION_REQUESTED", "DECISIONS", "DISCIPLINE_ALERT",
    "DISCIPLINE_WITHDRAWN", "FEEDBACK_POSTED", "INNOVATION_APPROVED", "INNOVATION_PROPOSED", "LEAVE_DECIDED",
    "LEAVE_KINDS", "LEAVE_REQUESTED", "MONTHS", "QUARTERS", "SCORE_UPDATED", "SKP_APPROVED", "SKP_SUBMITTED",
    "TASK_APPROVED", "TASK_ASSIGNED", "TASK_CANCELLED", "TASK_OVERDUE", "TASK_PROPOSED", "TASK_RESCHEDULED",
    "TASK_RETURNED", "TASK_SUBMITTED", "Draft", "Person", "Rule", "correction_decided", "correction_requested",
    "discipline_alert", "discipline_withdrawn", "feedback_posted", "format_date", "format_period", "format_score",
    "format_total", "innovation_approved", "innovation_proposed", "leave_decided", "leave_requested", "score_updated",
    "skp_approved", "skp_submitted", "supervisor", "task_approved", "task_assigned", "task_cancelled", "task_overdue",
    "task_proposed", "task_rescheduled", "task_returned", "task_submitted", "unique_recipients",
]
